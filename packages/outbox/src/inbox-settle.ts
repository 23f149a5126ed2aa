/**
 * The end of an event's handling: its event record and seq marker completed together once the
 * function ran, or released together when it failed (or never ran), so the redelivery runs it.
 * A store call that fails here is never the invocation's error: it is logged and, while the
 * lease lasts, repeated in the background.
 */
import type { Context } from '@steadyfn/handler';
import type { CompleteRequest, IdempotencyStore, ReleaseRequest } from '@steadyfn/idempotency';
import { appliedBefore, settleLater as retrySettle } from '@steadyfn/lease/internal';
import type { EventEnvelope } from './envelope.js';
import type { InboxState } from './inbox-options.js';
import { FINGERPRINT, markerFingerprint } from './inbox-records.js';

/** Where an inbox's records live, and whose they are (named in its log lines). */
export interface InboxRecords {
  store: IdempotencyStore;
  consumer: string;
}

/** Whether a failed store call may succeed again (anything not marked `retryable: false`). */
const retryable = (error: unknown): boolean => (error as { retryable?: unknown } | null)?.retryable !== false;

/** The store refused a settle: the records were taken over (or expired) before it. */
const lostLease = (to: InboxRecords, ctx: Context, event: EventEnvelope, release: boolean): void =>
  ctx.log.warn(release ? 'inbox record was taken over before its release' : 'inbox record was taken over before completion', { consumer: to.consumer, eventId: event.id });

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
async function settleLater(to: InboxRecords, ctx: Context, event: EventEnvelope, requests: ReadonlyArray<CompleteRequest | ReleaseRequest>, until: number): Promise<void> {
  const { store, consumer } = to;
  const settled = await retrySettle(async () => {
    const results = await store.completeMany(requests);
    const refused = requests.filter((_, i) => !results[i]);
    // Refused: applied before its answer was lost (read back), or the record was taken over.
    if (refused.length > 0 && !(await Promise.all(refused.map((r) => appliedBefore((key) => store.get(key), r)))).every(Boolean)) lostLease(to, ctx, event, !('result' in requests[0]!));
  }, until);
  // A release given up frees itself when the lease ends; a completion given up means the
  // redelivery after the lease runs the effect again: said, so a second effect is explained.
  if (!settled && 'result' in requests[0]!) {
    ctx.log.error('inbox record could not be completed before its lease ended; a redelivery will run the effect again', { code: 'INBOX_COMPLETION_ABANDONED', consumer, eventId: event.id });
  }
}

/**
 * Frees the event record and its seq marker (the event was not handled: the function failed,
 * or never ran), so the redelivery runs the function. A release that failed only delays the
 * redelivery until the lease ends; it is retried likewise.
 */
export async function releaseEvent(to: InboxRecords, ctx: Context, state: InboxState): Promise<void> {
  const event = state.event!;
  const requests = [
    { key: state.eventKey!, owner: state.owner! },
    { key: state.seqKey!, owner: state.owner! },
  ];
  await to.store.completeMany(requests).catch((error: unknown) => {
    ctx.log.warn(retryable(error) ? 'inbox record could not be released; retried until its lease ends' : 'inbox record could not be released; the store refused it, not retried', {
      consumer: to.consumer,
      eventId: event.id,
      cause: error instanceof Error ? error.name : typeof error,
    });
    if (retryable(error)) void settleLater(to, ctx, event, requests, state.leaseUntil ?? 0).catch(() => undefined);
  });
}

/**
 * Completes the event record and its seq marker, kept for `retentionMs` from now (the function
 * ran: the event is handled). Never throws: the effect happened, and failing now would run it
 * again; a failed completion is logged and repeated in the background while the lease lasts.
 */
export async function completeEvent(to: InboxRecords, ctx: Context, state: InboxState, retentionMs: number): Promise<void> {
  const event = state.event!;
  const expiresAt = Date.now() + retentionMs;
  const requests = [
    { key: state.eventKey!, owner: state.owner!, fingerprint: FINGERPRINT, result: '1', expiresAt },
    { key: state.seqKey!, owner: state.owner!, fingerprint: markerFingerprint(event), result: '1', expiresAt },
  ];
  let results: boolean[];
  try {
    results = await to.store.completeMany(requests);
  } catch (error) {
    ctx.log.error(retryable(error) ? 'inbox record could not be completed; retried until its lease ends' : 'inbox record could not be completed; the store refused it, not retried', {
      consumer: to.consumer,
      eventId: event.id,
      cause: error instanceof Error ? error.name : typeof error,
    });
    if (retryable(error)) void settleLater(to, ctx, event, requests, state.leaseUntil ?? 0).catch(() => undefined);
    return;
  }
  if (results.some((ok) => !ok)) lostLease(to, ctx, event, false);
}
