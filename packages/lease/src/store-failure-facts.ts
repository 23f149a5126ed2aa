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
 * a driver's code) or {@link UNKNOWN_CAUSE_CODE} — through `errorFacts` of
 * `@steadyfn/handler/internal`. Never throws.
 */
export function storeFailureFacts(error: unknown): { cause: string; causeCode: string | number } {
  const facts = errorFacts(error);
  return { cause: facts.cause, causeCode: facts.causeCode ?? UNKNOWN_CAUSE_CODE };
}
