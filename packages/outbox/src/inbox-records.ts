/**
 * The inbox's two records per event in the idempotency store — the event record (consumer,
 * event id) and the seq marker (consumer, aggregate, seq) — their fingerprints, what a store
 * call's failure becomes, and the mending of a marker a kill left behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { passThroughStoreError } from '@steadyfn/handler/internal';
import type { IdempotencyStore, StoredRecord } from '@steadyfn/idempotency';
import type { EventEnvelope } from './envelope.js';
import { EventInProgressError, OutboxUnavailableError, SeqConflictError } from './errors.js';

/** The event record's fingerprint (its key already names the event). Seq markers written by earlier versions carry it too (their event is unknown). */
export const FINGERPRINT = 'event';

/** A seq marker's fingerprint: which event (id) holds or applied that seq of the aggregate. */
export const markerFingerprint = (event: EventEnvelope): string => createHash('sha256').update(event.id).digest('base64url');

/**
 * A store call's failure as the invocation's error: an outage (the store's retryable
 * `LEASE_STORE_UNAVAILABLE`, or anything not typed) is `OUTBOX_STORE_UNAVAILABLE` (503,
 * retryable), its cause kept for the log; a store that answered for good — a typed error that
 * is not retryable, as `LEASE_RECORD_UNREADABLE` for a record under the prefix that
 * `@steadyfn/lease` did not write — passes unchanged: it was reached, a redelivery meets the same.
 * A call the invocation's signal cut off at the deadline (the claims and reads of `before` are
 * given `ctx.signal`, so a hung store call is abandoned when the deadline answers, and what a
 * claim wrote is given back by the lease store) is the deadline's own error. Both recognised by
 * shape (`passThroughStoreError` of `@steadyfn/handler/internal`, as the idempotency plugin
 * decides it): another copy of `@steadyfn/handler` may have made the error.
 */
export function storeFailure(error: unknown): Error {
  return passThroughStoreError(error) ?? new OutboxUnavailableError('inbox: the store could not be reached', error);
}

/**
 * The error for a seq marker another holder has: the same event's earlier delivery (its lease
 * still runs — killed, or its completion half done) or a pre-fingerprint marker still in
 * progress: retryable, the redelivery after the lease resolves it. Another event id: the
 * producer gave two events one seq — terminal.
 */
export function markerTaken(event: EventEnvelope, agg: string, record: StoredRecord): Error {
  const legacy = record.fingerprint === FINGERPRINT || record.fingerprint === '';
  if (record.fingerprint === markerFingerprint(event) || (legacy && record.status === 'in_progress')) {
    return new EventInProgressError('inbox: this event is being handled by another delivery; retry');
  }
  return new SeqConflictError(`inbox: event ${event.seq} of ${agg} was already taken by another event with the same seq`, { aggregate: agg, seq: event.seq });
}

/**
 * A duplicate of an applied event: its marker must be completed too, or the aggregate's next
 * event would wait for it (`maxGapRetries`). A kill between the event record's completion and
 * the marker's leaves it held until its lease ends, then absent: the redelivery completes it
 * (expiring with the event record); while it is held, the delivery is retried.
 */
export async function restoreMarker(store: IdempotencyStore, event: EventEnvelope, agg: string, seqKey: string, expiresAt: number, leaseUntil: number, signal: AbortSignal): Promise<void> {
  const owner = randomUUID();
  const fingerprint = markerFingerprint(event);
  try {
    const marker = await store.claim({ key: seqKey, owner, fingerprint, leaseUntil }, { signal });
    if (marker.claimed) {
      await store.complete({ key: seqKey, owner, fingerprint, result: '1', expiresAt });
      return;
    }
    // Completed (by this event, or by another one with the same seq — a conflict, but this event is done): nothing to mend.
    if (marker.record.status === 'completed') return;
  } catch (error) {
    throw storeFailure(error);
  }
  throw new EventInProgressError(`inbox: event ${event.seq} of ${agg} was applied, its seq marker is still held; retry`);
}
