/**
 * What a steadyfn package does with a store call's failure before it calls the store
 * unreachable: the errors that pass through as they are. One rule for every package (the
 * idempotency plugin, the outbox inbox), so a refusal is answered the same way by each.
 */
import type { SteadyError } from '../errors.js';

/**
 * The failure of a store call as it should reach the invocation, when it is not an outage:
 * - the deadline's own error (`DeadlineExceededError`, by `name`): the invocation's signal cut
 *   the call off at the deadline; the store is not at fault;
 * - a typed terminal refusal (`code` a string, `status` a number, `retryable: false`): the store
 *   was reached and refused for good (`LEASE_STORE_UNSUPPORTED`, `LEASE_RECORD_UNREADABLE`, a
 *   getter's `CONFIG_INVALID`); a retry meets the same, so it keeps its own code.
 *
 * Recognised by shape, never `instanceof`: another copy of `@steadyfn/handler` (two installed
 * versions, a bundle without kept class names) made classes this copy does not know.
 *
 * @returns `error` itself (typed as the `SteadyError` it is by shape), or `undefined` for anything
 *   else — an outage or an untyped failure, which the caller wraps in its own retryable
 *   `*_STORE_UNAVAILABLE` error. Never throws, whatever `error` is (a getter that throws, a
 *   revoked Proxy count as not passed through).
 * @example
 * throw passThroughStoreError(error) ?? new OutboxUnavailableError('inbox: the store could not be reached', error);
 */
export function passThroughStoreError(error: unknown): SteadyError | undefined {
  try {
    if (!(error instanceof Error)) return undefined;
    if (error.name === 'DeadlineExceededError') return error as SteadyError;
    const e = error as { code?: unknown; retryable?: unknown; status?: unknown };
    return typeof e.code === 'string' && e.retryable === false && typeof e.status === 'number' ? (error as SteadyError) : undefined;
  } catch {
    // A value that throws when read is no typed refusal.
    return undefined;
  }
}
