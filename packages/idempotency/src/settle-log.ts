/**
 * The log lines of the settle path (settle.ts, batch.ts): each carries a stable `code` and, for
 * a store failure, the failure's class and code — never its message or a stored value.
 */
import type { Context } from '@steadyfn/handler';
// The cause fields (`cause`, `causeCode`, `UNKNOWN` without a code) are shared with the outbox's inbox.
import { storeFailureFacts } from '@steadyfn/lease/internal';

/** The store refused a settle: another invocation took the record over, or it expired. */
export function lostLease(ctx: Context): void {
  ctx.log.warn('idempotency record was taken over or expired before this invocation finished', { code: 'IDEMPOTENCY_LEASE_LOST' });
}

/**
 * The background retries of a completion ended without it (the lease ran out, or the store
 * refused it for good): `IDEMPOTENCY_COMPLETION_ABANDONED` with the last failure's
 * {@link storeFailureFacts}.
 */
export function completionAbandoned(ctx: Context, lastError: unknown): void {
  ctx.log.error('idempotency record could not be completed before its lease ended; a retry will run the function again', {
    code: 'IDEMPOTENCY_COMPLETION_ABANDONED',
    ...storeFailureFacts(lastError),
  });
}

/**
 * A settle's store call failed (logged, never thrown). The line keeps the code
 * `IDEMPOTENCY_STORE_UNAVAILABLE` whatever the failure (existing log queries match it) — an
 * outage, or a store reached that answered what it cannot settle — and always carries
 * `cause` and `causeCode` ({@link storeFailureFacts}), which tell those apart.
 */
export function logStoreFailure(ctx: Context, error: unknown): void {
  // The function's effects happened; failing now would make the provider run them again.
  // A store error marked not retryable is not tried again: the line must not promise it.
  const retried = (error as { retryable?: unknown } | null)?.retryable !== false;
  ctx.log.error(retried ? 'idempotency record could not be completed; retried until its lease ends' : 'idempotency record could not be completed; the store refused it, not retried', {
    code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
    ...storeFailureFacts(error),
  });
}
