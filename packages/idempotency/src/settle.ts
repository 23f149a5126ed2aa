/**
 * The settle path: completing (or releasing) the record once the function ran — now, in the
 * background while the lease lasts when the store call failed, or through another write that
 * joined the completion (`PendingCompletion`, join.ts) — and the log lines it says.
 */
import type { Context } from '@steadyfn/handler';
import pLimit from 'p-limit';
import { appliedBefore, settleLater as retrySettle } from '@steadyfn/lease/internal';
import type { PendingCompletion } from './join.js';
import { remember } from './local.js';
import { isRetryableStatus, responseStatus } from './cache-errors.js';
import { completionAbandoned, logStoreFailure, lostLease } from './settle-log.js';
import type { Settings } from './options.js';
import { decodeStored, encodeStored, replay, replayTooLarge, resultStored, type StoredResult } from './record.js';
import type { IdempotencyState } from './state.js';
import { isCompleteRequest, type CompleteRequest, type ReleaseRequest } from './types.js';

/** Whether an encoded result is larger than the store keeps (`IdempotencyStore.maxResultBytes`, UTF-8 bytes). */
function overStoreLimit(s: Settings, result: string): boolean {
  const max = s.store.maxResultBytes;
  // A UTF-16 unit is at most 3 bytes of UTF-8: a text that short is not measured.
  return max !== undefined && result.length > max / 3 && Buffer.byteLength(result, 'utf8') > max;
}

/**
 * Completes (or releases) now, or queues it for `afterBatch`. Never throws: the effects
 * already happened. No `ctx.signal` here: a completion is worth finishing even after the
 * answer (the record then replays instead of running twice); the core stops waiting for it
 * at the deadline.
 */
export async function settle(s: Settings, ctx: Context, state: IdempotencyState, stored: StoredResult | string | undefined): Promise<void> {
  const owner = state.owner!;
  state.settled = true;
  let request: CompleteRequest | ReleaseRequest = { key: state.key!, owner };
  if (stored !== undefined) {
    try {
      const result = typeof stored === 'string' ? stored : encodeStored(stored);
      // Larger than the store keeps (a MongoDB document): its completion would only be refused,
      // retried until the lease ends and the record meanwhile held. Released like the above.
      if (overStoreLimit(s, result)) {
        ctx.log.warn('idempotency result is larger than the store keeps; record released', { code: 'IDEMPOTENCY_RESULT_NOT_STORABLE' });
      } else {
        request = { key: state.key!, owner, fingerprint: state.fingerprint!, result, expiresAt: Date.now() + s.ttlMs };
      }
    } catch {
      // Not storable as JSON: release, so a retry runs again rather than replaying nothing.
      ctx.log.warn('idempotency result is not JSON-serialisable; record released', { code: 'IDEMPOTENCY_RESULT_NOT_STORABLE' });
    }
  }
  if (state.batch) {
    state.pending = request;
    return;
  }
  try {
    const ok = isCompleteRequest(request) ? await s.store.complete(request) : await s.store.release(request);
    if (!ok) await explainRefused(s, ctx, [request]);
    else if (isCompleteRequest(request)) remember(s, state.key!, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
  } catch (error) {
    logStoreFailure(ctx, error);
    if ((error as { retryable?: unknown } | null)?.retryable !== false) void settleLater(s, ctx, request, state.leaseUntil ?? 0, error).catch(() => undefined);
  }
}

/**
 * A completion (or release) whose store call failed, repeated in the background while the
 * lease this invocation claimed lasts (`settleLater` of `@steadyfn/lease/internal`: backing
 * off 50 ms → 500 ms, stopping at a non-retryable error), without holding the answer. A store
 * that restarts under a completion — a Redis that keeps its data, reached through a client
 * that fails at once while disconnected (the `@steadyfn/connections` profile) — would
 * otherwise leave the record to expire, and the retry would run the function's effects again.
 * Given up, a completion is said at error (`IDEMPOTENCY_COMPLETION_ABANDONED`) with the last
 * failure's `cause` and `causeCode` (`failure`, the first call's, when no try ran).
 * Repeating is safe: the store settles only the owner's generation, so a completion applied
 * before its answer was lost is refused the second time (and then read back).
 */
export async function settleLater(s: Settings, ctx: Context, request: CompleteRequest | ReleaseRequest, until: number, failure: unknown): Promise<void> {
  // The failure the abandon line names: the last try's, or the first call's if none ran.
  let last = failure;
  const settled = await retrySettle(async () => {
    try {
      const ok = isCompleteRequest(request) ? await s.store.complete(request) : await s.store.release(request);
      if (ok && isCompleteRequest(request)) remember(s, request.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
      if (!ok && !(await appliedBefore((key) => s.store.get(key), request))) lostLease(ctx);
    } catch (error) {
      last = error;
      throw error;
    }
  }, until);
  // A release given up costs nothing (the record frees itself when the lease ends); a
  // completion given up means a retry after the lease runs the function's effects again.
  if (!settled && isCompleteRequest(request)) completionAbandoned(ctx, last);
}

/** One completion (or release), as `completeMany` settles several. */
export function settleOne(s: Settings, request: CompleteRequest | ReleaseRequest): Promise<boolean> {
  return isCompleteRequest(request) ? s.store.complete(request) : s.store.release(request);
}

/** How many records `explainRefused` reads back at once: a batch reaches 10,000 messages (see `CLAIMS_IN_FLIGHT`, batch.ts). */
const READS_IN_FLIGHT = 16;

/**
 * Why the store refused these settles, read back (`appliedBefore` of `@steadyfn/lease/internal`,
 * at most `READS_IN_FLIGHT` reads at once), each kind said at most once per call: on a retry
 * (`retried`), a settle applied before its answer was lost says nothing; a record taken over or
 * expired says `IDEMPOTENCY_LEASE_LOST` — on a first call always, even when it reads back
 * completed as this invocation would have completed it: a store recognises its own resent
 * settle, so a first call's refusal is never one applied before; the record was completed by
 * the invocation that took it over (same fingerprint, same answer) and the function's effects
 * ran twice, which the line explains. A value
 * under the key that `@steadyfn/lease` did not write — which a settle refuses as not its own, and
 * the read back refuses for good — says `logStoreFailure` with the cause's code
 * (`LEASE_RECORD_UNREADABLE`), never the value. A read that fails for a while (an outage) tells
 * nothing: the refusal is said as a lost lease, as before. Never throws.
 */
export async function explainRefused(s: Settings, ctx: Context, refused: ReadonlyArray<CompleteRequest | ReleaseRequest>, retried = false): Promise<void> {
  const slot = pLimit(READS_IN_FLIGHT);
  let lost = false;
  let unreadable: unknown;
  await Promise.all(
    refused.map((request) =>
      slot(async () => {
        try {
          // Read on a first call too: a value `@steadyfn/lease` did not write is said as such, not as lost.
          if (!(await appliedBefore((key) => s.store.get(key), request)) || !retried) lost = true;
        } catch (error) {
          if ((error as { retryable?: unknown } | null)?.retryable === false) unreadable ??= error;
          else lost = true;
        }
      }),
    ),
  );
  if (unreadable !== undefined) logStoreFailure(ctx, unreadable);
  if (lost) lostLease(ctx);
}

/** `Joiner.completion` (state.ts): the pending completion `pendingCompletion(ctx, result)` hands to another write. */
export function completionOf(s: Settings, state: IdempotencyState, result: unknown): PendingCompletion | undefined {
  if (!state.owner || state.settled) return undefined;
  let request: CompleteRequest;
  const stored = resultStored(result);
  // A 5xx, 429 or 408 response (by the rule `releasesResponse` uses: a rendered response on any
  // trigger, a plain `{ statusCode }` value on HTTP only): never carried by another write; the
  // plugin's own `after` releases it, or stores it when a `cacheErrors` function opts in
  // (cache-errors.ts). A queue function's `{ statusCode: 503 }` is its stored answer, so joined.
  const status = responseStatus(stored, state.http === true);
  if (status !== undefined && isRetryableStatus(status)) return undefined;
  try {
    request = { key: state.key!, owner: state.owner, fingerprint: state.fingerprint!, result: encodeStored(stored), expiresAt: Date.now() + s.ttlMs };
  } catch {
    // Not storable as JSON: the plugin releases the record after the write, as without a join.
    return undefined;
  }
  // Refused before the write carries it, as the plugin's own `after` would refuse it.
  const tooLarge = replayTooLarge(result, stored);
  if (tooLarge !== undefined) throw tooLarge;
  // Larger than the store keeps: a write carrying it would fail on the store's limit and take the
  // function's effects with it. Not offered; the plugin's own `after` releases the record and warns.
  if (overStoreLimit(s, request.result)) return undefined;
  const joinable = s.store.joinable?.(request);
  state.offered = true;
  return {
    key: state.key!,
    answer: request.result,
    lease: joinable && { store: joinable.lease, settle: joinable.settle },
    joined() {
      if (state.settled) return;
      state.settled = true;
      state.joined = true;
      joinable?.settled();
      remember(s, request.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
    },
    notJoined() {
      // The write committed without it: no longer offered (completesReturned), the plugin completes.
      state.offered = false;
    },
  };
}

/**
 * The first invocation's answer as a replay will give it: a plain value round-tripped through
 * the record's JSON (a `Date` becomes its ISO text, `undefined` members and `Map` contents
 * vanish; bytes come back as a `Buffer`), so one key never has two answers. An HTTP response is stored as rendered, so it
 * is kept as it is; so is a value that could not be stored.
 */
export function firstAnswer(stored: StoredResult, text: string | undefined): { answer: unknown } | undefined {
  if (stored.k !== 'v' || stored.v === undefined || text === undefined) return undefined;
  return { answer: replay(decodeStored(text)) };
}
