/**
 * What a log line says of a failed store call, shared by every settle path that logs one
 * (`@steadyfn/idempotency`'s settle, `@steadyfn/outbox`'s inbox), so their lines carry the same
 * fields with the same fallback: the failure's class and code, never its message or a stored
 * value.
 */
import { errorFacts } from '@steadyfn/handler/internal';

/**
 * `causeCode` of a store failure whose thrown value carries no `code` (a custom store's plain
 * `Error`, a driver error rethrown as it is): the field is always there, so a log query on it
 * never misses a line.
 */
export const UNKNOWN_CAUSE_CODE = 'UNKNOWN';

/**
 * What a store failure's log line says of it: `cause` (its class name, or `typeof` for a
 * non-`Error`) and `causeCode` — its `code` (`LEASE_STORE_UNAVAILABLE` for an outage,
 * `LEASE_RECORD_UNREADABLE` for a value under the key that `@steadyfn/lease` did not write,
 * a driver's code, a Redis error reply's own code such as `OOM`) or {@link UNKNOWN_CAUSE_CODE} — through `errorFacts` of
 * `@steadyfn/handler/internal`. Never throws.
 */
export function storeFailureFacts(error: unknown): { cause: string; causeCode: string | number } {
  const facts = errorFacts(error);
  return { cause: facts.cause, causeCode: facts.causeCode ?? redisReplyCode(error) ?? UNKNOWN_CAUSE_CODE };
}

/**
 * A Redis error reply's own code — the first word of its message, upper case by the protocol
 * (`OOM` when the server is out of memory under `noeviction`, `READONLY`, `NOPERM`, `BUSY`) —
 * for an ioredis `ReplyError`, which carries no `code`: a stable code, not the message.
 * https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
 */
function redisReplyCode(error: unknown): string | undefined {
  try {
    if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
    return /^([A-Z][A-Z0-9_]{1,31})(?: |$)/.exec(error.message)?.[1];
  } catch {
    return undefined;
  }
}
