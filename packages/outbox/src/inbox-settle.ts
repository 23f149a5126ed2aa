/**
 * The end of an event's handling: its event record and seq marker completed together once the
 * function ran, or released together when it failed (or never ran), so the redelivery runs it.
 * A store call that fails here is never the invocation's error: it is logged and, while the
 * lease lasts, repeated in the background.
 */
import type { Context } from '@steadyfn/handler';
import type { CompleteRequest, IdempotencyStore, ReleaseRequest } from '@steadyfn/idempotency';
import { appliedBefore, settleLater as retrySettle, storeFailureFacts } from '@steadyfn/lease/internal';
import type { EventEnvelope } from './envelope.js';
import type { InboxState } from './inbox-options.js';
import { FINGERPRINT, markerFingerprint } from './inbox-records.js';
import { keptUntil } from './inbox-seen.js';

/** Where an inbox's records live, and whose they are (named in its log lines). */
export interface InboxRecords {
  store: IdempotencyStore;
  consumer: string;
}

/** Whether a failed store call may succeed again (anything not marked `retryable: false`). */
const retryable = (error: unknown): boolean => (error as { retryable?: unknown } | null)?.retryable !== false;

/** The store refused a settle: the records were taken over (or expired) before it. `INBOX_LEASE_LOST`. */
const lostLease = (to: InboxRecords, ctx: Context, event: EventEnvelope, release: boolean): void =>
  ctx.log.warn(release ? 'inbox record was taken over before its release' : 'inbox record was taken over before completion', { code: 'INBOX_LEASE_LOST', consumer: to.consumer, eventId: event.id });

/**
 * A settle's store call failed, or the store refused it and reading it back failed for good:
 * `INBOX_STORE_UNAVAILABLE` whatever the failure (as the idempotency plugin's
 * `IDEMPOTENCY_STORE_UNAVAILABLE`), with the failure's `cause` and `causeCode`
 * (`storeFailureFacts` of `@steadyfn/lease/internal`, the idempotency plugin's:
 * `LEASE_STORE_UNAVAILABLE` for an outage, `LEASE_RECORD_UNREADABLE` for a value under the key
 * that `@steadyfn/lease` did not write, `UNKNOWN` for a failure without a code), never its
 * message or a stored value.
 */
function settleFailed(to: InboxRecords, ctx: Context, event: EventEnvelope, release: boolean, error: unknown): void {
  const what = release ? 'inbox record could not be released' : 'inbox record could not be completed';
  const line = `${what}; ${retryable(error) ? 'retried until its lease ends' : 'the store refused it, not retried'}`;
  const fields = { code: 'INBOX_STORE_UNAVAILABLE', consumer: to.consumer, eventId: event.id, ...storeFailureFacts(error) };
  // A release that failed only delays the redelivery until the lease ends.
  if (release) ctx.log.warn(line, fields);
  else ctx.log.error(line, fields);
}

/**
 * Why the store refused these settles, read back (`appliedBefore` of `@steadyfn/lease/internal`):
 * on a retry (`retried`), one applied before its answer was lost says nothing; records taken over
 * or expired say "taken over" — on a first call always, even when read back completed: every
 * invocation completes an event's records with the same fingerprint and result, so one completed
 * by another invocation that took the lease over reads as this one's. A value under the key
 * that `@steadyfn/lease` did not write — which a settle refuses as not its own and the read back
 * refuses for good (`retryable: false`) — says `settleFailed` with its cause code, not "taken
 * over" (nobody holds it). A read back that
 * fails for a while (an outage) tells nothing: said as taken over, as before. Never throws.
 */
async function explainRefused(to: InboxRecords, ctx: Context, event: EventEnvelope, refused: ReadonlyArray<CompleteRequest | ReleaseRequest>, retried: boolean): Promise<void> {
  const release = !('result' in refused[0]!);
  let lost = false;
  let unreadable: unknown;
  for (const request of refused) {
    try {
      if (!(await appliedBefore((key) => to.store.get(key), request)) || !retried) lost = true;
    } catch (error) {
      if (retryable(error)) lost = true;
      else unreadable ??= error;
    }
  }
  if (unreadable !== undefined) settleFailed(to, ctx, event, release, unreadable);
  if (lost) lostLease(to, ctx, event, release);
}

/**
 * The completion (or release) of the event record and its seq marker whose store call
 * failed, repeated in the background while their lease lasts (`settleLater` of
 * `@steadyfn/lease/internal`: backing off 50 ms → 500 ms, stopping at a non-retryable error),
 * without holding the answer: a store that restarts under the completion (a Redis that keeps
 * its data, reached through a client that fails at once while disconnected) would otherwise
 * leave the record to expire in progress, and the redelivery would run the function's effect
 * again. Repeating is safe: the store settles only the owner's generation, so a settle
 * applied before its answer was lost is refused the second time (and then read back).
 */
async function settleLater(to: InboxRecords, ctx: Context, event: EventEnvelope, requests: ReadonlyArray<CompleteRequest | ReleaseRequest>, until: number, failure: unknown): Promise<void> {
  // The failure the abandon line names: the last try's, or the first call's if none ran.
  let last = failure;
  const settled = await retrySettle(async () => {
    let results: boolean[];
    try {
      results = await to.store.completeMany(requests);
    } catch (error) {
      last = error;
      throw error;
    }
    const refused = requests.filter((_, i) => !results[i]);
    if (refused.length > 0) await explainRefused(to, ctx, event, refused, true);
  }, until);
  // A release given up frees itself when the lease ends; a completion given up means the
  // redelivery after the lease runs the effect again: said, so a second effect is explained.
  if (!settled && 'result' in requests[0]!) {
    ctx.log.error('inbox record could not be completed before its lease ended; a redelivery will run the effect again', { code: 'INBOX_COMPLETION_ABANDONED', consumer: to.consumer, eventId: event.id, ...storeFailureFacts(last) });
  }
}

/**
 * Frees the event record, its seq marker and the seen record it holds (the event was not handled: the function failed,
 * or never ran), so the redelivery runs the function. A release that failed only delays the
 * redelivery until the lease ends; it is retried likewise.
 */
export async function releaseEvent(to: InboxRecords, ctx: Context, state: InboxState): Promise<void> {
  const event = state.event!;
  const requests: ReleaseRequest[] = [
    { key: state.eventKey!, owner: state.owner! },
    { key: state.seqKey!, owner: state.owner! },
  ];
  if (state.seenKey) requests.push({ key: state.seenKey, owner: state.owner! });
  let results: boolean[];
  try {
    results = await to.store.completeMany(requests);
  } catch (error) {
    settleFailed(to, ctx, event, true, error);
    if (retryable(error)) void settleLater(to, ctx, event, requests, state.leaseUntil ?? 0, error).catch(() => undefined);
    return;
  }
  const refused = requests.filter((_, i) => !results[i]);
  if (refused.length > 0) await explainRefused(to, ctx, event, refused, false);
}

/**
 * Completes the event record, its seq marker and the aggregate's seen record when this handling
 * holds it, in one `completeMany`, kept until `keptUntil(now, retentionMs)` — `retentionMs` to
 * twice it from now (inbox-seen.ts) — (the function ran: the event is handled). Never throws: the effect happened, and failing now would run it
 * again; a failed completion is logged and repeated in the background while the lease lasts.
 */
export async function completeEvent(to: InboxRecords, ctx: Context, state: InboxState, retentionMs: number): Promise<void> {
  const event = state.event!;
  const expiresAt = keptUntil(Date.now(), retentionMs);
  const requests: CompleteRequest[] = [
    { key: state.eventKey!, owner: state.owner!, fingerprint: FINGERPRINT, result: '1', expiresAt },
    { key: state.seqKey!, owner: state.owner!, fingerprint: markerFingerprint(event), result: '1', expiresAt },
  ];
  if (state.seenKey) requests.push({ key: state.seenKey, owner: state.owner!, fingerprint: FINGERPRINT, result: '1', expiresAt });
  let results: boolean[];
  try {
    results = await to.store.completeMany(requests);
  } catch (error) {
    settleFailed(to, ctx, event, false, error);
    if (retryable(error)) void settleLater(to, ctx, event, requests, state.leaseUntil ?? 0, error).catch(() => undefined);
    return;
  }
  const refused = requests.filter((_, i) => !results[i]);
  if (refused.length > 0) await explainRefused(to, ctx, event, refused, false);
}
