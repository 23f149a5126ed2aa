/**
 * Ending an ioredis client that `disconnect()` leaves neither closed nor ended because it was
 * between two reconnect attempts: no socket is left whose closing would end it, so without this
 * its status stays put and a command queued offline meanwhile is never settled.
 */

/** The error a command queued on such a client is rejected with: ioredis' own for a client closed on purpose. */
const CLOSED = 'Connection is closed.';

/**
 * Ends `client` if `disconnect()` left it stuck (call right after `disconnect()`, with its status
 * before it): status `end` (and its 'end' event), queued commands rejected with "Connection is
 * closed." — what ioredis' own close handling does for a client closed on purpose. Uses ioredis'
 * internal `setStatus`/`flushQueue` (ioredis 5 and 6), only when both are there.
 *
 * - Single node, `reconnecting`: its socket is already closed, so `disconnect()` stops the retry
 *   timer but no 'close' event comes; it stayed `reconnecting`.
 * - Cluster, `reconnecting`: `disconnect()` stops the retry timer, sets `disconnecting` and resets
 *   its connection pool, which is already empty, so no 'drain' comes to move it on; it stayed
 *   `disconnecting` (ioredis 6.0.0, built/cluster/index.js `disconnect`). One whose pool still
 *   has node connections is left alone: their 'end' drains the pool and ends it.
 */
export function endReconnecting(client: object, statusBefore: string): void {
  if (statusBefore !== 'reconnecting') return;
  const internal = client as { status?: unknown; manuallyClosing?: unknown; setStatus?: unknown; flushQueue?: unknown; isCluster?: unknown; nodes?: unknown };
  if (typeof internal.setStatus !== 'function' || typeof internal.flushQueue !== 'function') return;
  if (internal.isCluster === true) {
    if (internal.status !== 'disconnecting' || typeof internal.nodes !== 'function' || (internal.nodes as (role: string) => unknown[]).call(client, 'all').length > 0) return;
    (internal.setStatus as (status: string) => void).call(client, 'close');
  } else {
    if (internal.status !== 'reconnecting') return;
    internal.manuallyClosing = false;
  }
  (internal.setStatus as (status: string) => void).call(client, 'end');
  (internal.flushQueue as (err: Error) => void).call(client, new Error(CLOSED));
}
