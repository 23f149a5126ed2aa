/**
 * What the MongoDB driver's server monitor makes a thaw check wait for. After a network error
 * the driver clears the server's pool and marks the server `Unknown`; an operation (the check's
 * `{ ping: 1 }`) then waits in server selection for the monitor's next check, which the driver
 * runs at most once per `minHeartbeatFrequencyMS` (500 ms). When the monitor's own connection
 * died with the pool's (a freeze, a server restart, a NAT mapping that expired), that check
 * fails and the next one, on a new connection, comes another `minHeartbeatFrequencyMS` later:
 * on a healthy server the ping is answered up to twice that after it was sent (measured on
 * mongodb 7.9 behind a fault proxy: 980 ms for a check that had just run, 511 ms otherwise,
 * with loopback handshakes). That wait is the driver's pacing, not the server's silence — and
 * its timers stop with a frozen instance, so the grace runs out only while checks wait (the
 * `waited` grace clock, see `GraceClock` in unanswered.ts), not across a freeze between them.
 */
import type { MongoClient } from 'mongodb';

/** Server types a `{ ping: 1 }` (read preference `primary`) is sent to without waiting for the monitor. */
const PINGABLE_SERVER_TYPES: ReadonlySet<string> = new Set(['Standalone', 'RSPrimary', 'Mongos', 'LoadBalancer']);

/** The driver's default `minHeartbeatFrequencyMS`. */
const DRIVER_MIN_HEARTBEAT_MS = 500;

/**
 * How much longer than `pingTimeoutMs` (ms) a ping of `client` sent now may take on a healthy
 * server: `2 × minHeartbeatFrequencyMS` when none of the servers its topology knows can take the
 * ping now (all `Unknown`, or replica set members without a primary: the ping waits for the
 * monitor, see above), else 0. A client without a readable topology (another driver version): 0.
 */
export function monitorWaitMs(client: MongoClient): number {
  const servers = (client as unknown as { topology?: { description?: { servers?: unknown } } }).topology?.description?.servers;
  if (!(servers instanceof Map) || servers.size === 0) return 0;
  for (const server of servers.values()) if (PINGABLE_SERVER_TYPES.has((server as { type?: unknown } | undefined)?.type as string)) return 0;
  const min = client.options.minHeartbeatFrequencyMS;
  return 2 * (typeof min === 'number' && min >= 0 ? min : DRIVER_MIN_HEARTBEAT_MS);
}
