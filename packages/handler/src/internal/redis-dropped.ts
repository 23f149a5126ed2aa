/**
 * The written commands a single-node ioredis client would drop without settling them.
 *
 * When a connection closes and ioredis reconnects (`lib/redis/event_handler.ts`, `closeHandler`),
 * the commands written to the socket whose reply had not come are kept as `prevCommandQueue`;
 * once connected again they are sent again (`autoResendUnfulfilledCommands: true`, the default)
 * or, with that option `false`, the queue is dropped — in ioredis before 6.1.0 without rejecting
 * them (redis/ioredis#2193, fixed by #2194 in 6.1.0): their promises never settle, so a call
 * waits until its caller's signal aborts, for ever without one. A `maxRetriesPerRequest` of 0
 * makes ioredis reject them first, on every close (`flushQueue`); `null` or a count ≥ 1 does not.
 * Here they are rejected as the reconnect begins (the `reconnecting` event, after the close
 * handler and before the reconnect), with the caller's error: the server may have applied them.
 * Shared by `@steadyfn/connections` (its clients) and the lease store (a client it is given).
 */

/** ioredis' queue entry of a written command (a Denque of them). */
interface Written {
  shift(): { command: { reject(error: Error): void } } | undefined;
}

/** The slice of an ioredis `Redis` read here (structural: no driver types). */
interface ReconnectingClient {
  readonly isCluster?: boolean;
  readonly options?: { readonly autoResendUnfulfilledCommands?: boolean };
  on(event: 'reconnecting', listener: () => void): unknown;
}

/** Clients already watched (one listener each, whoever asked first). */
const watched = new WeakSet<object>();

/**
 * Makes `client` — a single-node ioredis `Redis` with `autoResendUnfulfilledCommands: false` —
 * reject with `reason()`, when it begins to reconnect, the written commands ioredis would drop
 * unsettled. Anything else (a Cluster, a client that resends, not an ioredis client) is left as
 * it is. Idempotent: one listener per client, the first caller's `reason`.
 * @example rejectDroppedWrites(redis, () => new Error('Connection is closed.'));
 */
export function rejectDroppedWrites(client: unknown, reason: () => Error): void {
  if (typeof client !== 'object' || client === null || watched.has(client)) return;
  const c = client as Partial<ReconnectingClient>;
  if (c.isCluster === true || c.options?.autoResendUnfulfilledCommands !== false || typeof c.on !== 'function') return;
  watched.add(client);
  c.on('reconnecting', () => {
    const dropped = (client as { prevCommandQueue?: Written | null }).prevCommandQueue;
    // An ioredis without this queue (none known) keeps its own behaviour.
    if (!dropped || typeof dropped.shift !== 'function') return;
    for (let item = dropped.shift(); item; item = dropped.shift()) item.command.reject(reason());
  });
}
