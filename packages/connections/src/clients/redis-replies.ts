/**
 * A single-node ioredis client whose written commands ioredis would drop without settling them
 * (`rejectDroppedWrites` of `@steadyfn/handler/internal` tells how). The profile's
 * `maxRetriesPerRequest: 0` makes ioredis reject them first, on every close
 * (`flushQueue(MaxRetriesPerRequestError)`); a user's `null` or count ≥ 1 does not (a count only
 * on every `count + 1`-th close), and the command then waited until the invocation's deadline —
 * for ever without one. Here they are rejected as the reconnect begins with `ReplyLostError`:
 * the server may have applied them, so the handle repeats only a read or an operation marked `safe`.
 */
import type { Redis } from 'ioredis';
import { rejectDroppedWrites } from '@steadyfn/handler/internal';
import { CONNECTION_CLOSED, ReplyLostError } from './cluster-replies.js';

/**
 * Makes `client` reject, when it begins to reconnect, the written commands ioredis would drop
 * unsettled (`autoResendUnfulfilledCommands` off). Call it right after `new Redis(…)`.
 */
export function failDroppedReplies(client: Redis): void {
  rejectDroppedWrites(client, () => new ReplyLostError(new Error(CONNECTION_CLOSED)));
}
