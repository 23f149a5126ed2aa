/**
 * Whether a Redis claim that failed can have been written to the server at all — when it cannot,
 * it holds nothing, and the store throws at once instead of giving back for up to 2 s against a
 * server that is not there. What ioredis (5 and 6) does, from its source
 * (`Redis#sendCommand`, `event_handler.ts` `closeHandler`/`readyHandler`, `Redis#flushQueue`):
 *
 * - A command is written only while the client is `ready` (or, for a few loading-safe commands,
 *   `connect`); otherwise it waits in the offline queue, which is written only when the client
 *   becomes ready, or is rejected there and then (`Stream isn't writeable and enableOfflineQueue
 *   options is false`; `Connection is closed.` once the client has ended).
 * - The queue's commands are rejected, when ioredis gives up on them, by `flushQueue` —
 *   `MaxRetriesPerRequestError` (retries per request spent) or `Connection is closed.` (the client
 *   gave up reconnecting) — which removes them: they are never written later. But `flushQueue`
 *   rejects the commands already written on the connection that closed with the same errors, so
 *   neither error proves anything by itself.
 * - `Command timed out` (`commandTimeout`) and the caller's abort reject a command and leave it
 *   queued: it may still be written once the client reconnects.
 *
 * So a claim cannot have been written when its error says so by itself (`wasNotSent`, the rule
 * `@steadyfn/connections` shares: `Stream isn't writeable`), or when the client was not
 * connected as it was sent, did not become ready before the failure, and the failure is one of
 * ioredis' flushes (kind `redis-connection`). A Cluster proves neither: its failover retry
 * (`retryDelayOnFailover`) may end, with any of these messages, a command one of its nodes wrote.
 */
import { connectionFailure, rejectDroppedWrites, wasNotSent } from '@steadyfn/handler/internal';

/** The slice of an ioredis `Redis` read here (structural; a client without it proves nothing by its state). */
export interface RedisStatusClient {
  readonly isCluster: boolean;
  /** ioredis' connection state: `wait`, `connecting`, `connect`, `ready`, `close`, `reconnecting`, `end`. */
  readonly status?: string;
  on?(event: 'ready', listener: () => void): unknown;
}

/** States in which ioredis writes nothing: a command sent now waits in the offline queue, or is rejected. */
const OFFLINE = new Set(['wait', 'connecting', 'close', 'reconnecting', 'end']);

/** How many times each client watched has become ready since it was first watched. */
const readies = new WeakMap<object, { count: number }>();

/** The ready count of `client`, counting from now on (one listener per client, added once). */
function readyCount(client: RedisStatusClient & { on(event: 'ready', listener: () => void): unknown }): { count: number } {
  let counter = readies.get(client);
  if (counter === undefined) {
    const created = { count: 0 };
    counter = created;
    readies.set(client, created);
    client.on('ready', () => void created.count++);
  }
  return counter;
}

/** Never proves a claim unsent (a Cluster). */
const unproven = (): boolean => false;

/**
 * Called right before a claim's command is handed to `client`, in the same tick: the check, for
 * the claim's failure, "this error proves the claim was never written". Costs a property read
 * while the client is connected.
 */
export function watchSend(client: RedisStatusClient): (error: unknown) => boolean {
  if (client.isCluster) return unproven;
  if (!OFFLINE.has(client.status as string) || typeof client.on !== 'function') return wasNotSent;
  const counter = readyCount(client as RedisStatusClient & { on(event: 'ready', listener: () => void): unknown });
  const at = counter.count;
  return (error) => wasNotSent(error) || (counter.count === at && connectionFailure(error, ['redis-connection']) !== undefined);
}

/** The message ioredis rejects commands with when their connection closed (`CONNECTION_CLOSED_ERROR_MSG`). */
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * `client`, made to reject the commands its dropped connection had written when it has
 * `autoResendUnfulfilledCommands: false` (`rejectDroppedWrites`): ioredis before 6.1.0 drops
 * them unsettled (redis/ioredis#2193), so a claim or settle whose reply a reset lost would wait
 * for its signal — for ever without one — instead of failing as "may have been applied" (a
 * claim then given back). Costs a WeakSet lookup per client seen.
 */
export function watchDropped<C>(client: C): C {
  rejectDroppedWrites(client, () => new Error(CONNECTION_CLOSED));
  return client;
}
