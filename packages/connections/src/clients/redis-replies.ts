/**
 * A single-node ioredis client whose written commands ioredis would drop without settling them.
 *
 * When a connection closes and ioredis reconnects (`lib/redis/event_handler.ts`, `closeHandler`),
 * the commands written to the socket whose reply had not come are kept as `prevCommandQueue`;
 * once connected again they are sent again (`autoResendUnfulfilledCommands: true`) or the queue is
 * dropped (`false`, this package's profile) — without rejecting them: their promises never settle.
 * The profile's `maxRetriesPerRequest: 0` makes ioredis reject them first, on every close
 * (`flushQueue(MaxRetriesPerRequestError)`); a user's `null` or count ≥ 1 does not (a count only
 * on every `count + 1`-th close), and the command then waited until the invocation's deadline —
 * for ever without one. Here they are rejected as the reconnect begins (the `reconnecting` event,
 * after the close handler and before the reconnect), with `ReplyLostError`: the server may have
 * applied them, so the handle repeats only a read or an operation marked `safe`.
 */
import type { Redis } from 'ioredis';
import { CONNECTION_CLOSED, ReplyLostError } from './cluster-replies.js';

/** ioredis' queue entry of a written command (a Denque of them). */
interface Written {
  length: number;
  shift(): { command: { reject(error: Error): void } } | undefined;
}

/**
 * Makes `client` reject, when it begins to reconnect, the written commands ioredis would drop
 * unsettled (`autoResendUnfulfilledCommands` off). Call it right after `new Redis(…)`.
 */
export function failDroppedReplies(client: Redis): void {
  if (client.options.autoResendUnfulfilledCommands) return;
  client.on('reconnecting', () => {
    const dropped = (client as unknown as { prevCommandQueue?: Written | null }).prevCommandQueue;
    // An ioredis without this queue (none known) keeps its own behaviour.
    if (!dropped || typeof dropped.shift !== 'function') return;
    for (let item = dropped.shift(); item; item = dropped.shift()) item.command.reject(new ReplyLostError(new Error(CONNECTION_CLOSED)));
  });
}
