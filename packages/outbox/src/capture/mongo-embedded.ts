/**
 * MongoDB embedded mode: the author's single-document update becomes one update that also
 * appends the events to the document's `_outbox` array, assigns their seq, keeps the indexed
 * `_outboxPendingSince`, and records the request key — so state, events and "this request
 * was applied" are written together, on any server, without transactions.
 *
 *   read      the document's outbox fields (seq, count, bytes, applied keys)
 *   refuse    a request key already applied (a duplicate: nothing written), or a write
 *             that would pass the pending cap (count, bytes): `OUTBOX_DOCUMENT_FULL`
 *   update    filter: author's filter + _id + _outboxSeq as read + request key not applied
 *             update: author's operators + $push $each events, $inc count/bytes, $set seq,
 *                     $min pendingSince, $set the bounded applied-key list (pinned as read)
 *   no match  read again: the seq or the applied-key list moved (a concurrent writer) → retry;
 *             else the author's filter does not match → `{ matched: false }`
 *   a key recorded as "matched nothing" (`recordMiss`, when the function returned, in its own
 *             list `_outboxMissed`) answers `{ matched: false }` again, its filter not checked
 *
 * Only operators FerretDB 1.24 runs are used ($push with $each, $inc, $set, $min, $pullAll,
 * $pop — checked against the server in the tests; it accepts $push's $slice but ignores it). FerretDB does not apply a
 * filtered update atomically under concurrency, so on FerretDB every writer of one document
 * (the relay's marks too) first takes a write lease on it (`@steadyfn/lease`).
 */
import { randomUUID } from 'node:crypto';
import { sleep } from '@steadyfn/handler/internal';
import type { PendingEvent } from '../envelope.js';
import { OutboxFullError, UnsupportedServerError, WriteConflictError } from '../errors.js';
import type { RelayLease } from '../relay/types.js';
import { FIELDS, NOT_MATCHED, answerField, type CollectionLike } from '../stores/mongo-shapes.js';
import { bsonSize, embeddedBytes } from '../stores/bson-size.js';
import { checkEmbeddedWrite, embeddedEvents, refuseOversized } from './mongo-embedded-check.js';

export { EMBEDDED_OPERATORS, checkEmbeddedWrite } from './mongo-embedded-check.js';

/** Limits of one document's outbox. */
export interface EmbeddedLimits {
  maxPendingEvents: number;
  maxPendingBytes: number;
  maxAppliedKeys: number;
  /** Largest answer (bytes) kept beside an applied request key for an idempotency replay. */
  maxAnswerBytes: number;
}

/** How writers of one document are kept from interleaving. */
export interface WriteSerialisation {
  /** `'server'`: the server applies a filtered update atomically (MongoDB). `'lease'`: take a write lease first (FerretDB). */
  mode: 'server' | 'lease';
  lease?: RelayLease | undefined;
  leaseMs: number;
  /** How long a writer waits for another's write lease before a retryable conflict. */
  waitMs: number;
}

/** The author's part of one embedded write. */
export interface EmbeddedUpdate {
  filter: Record<string, unknown>;
  update: Record<string, unknown>;
  upsert?: boolean | undefined;
  /** Exactly-once key: the write is skipped when the document already applied it. */
  requestKey?: string | undefined;
}

/** Where a write registers its document as pending, when the sweeper cannot query the collection by index (FerretDB). */
export interface PendingRegistry {
  /** `<collection>_outbox_pending`: `{ _id: document id, p: oldest pending event's commit time }`. */
  collection: CollectionLike;
}

/** What one embedded write did. */
export interface EmbeddedResult {
  /** The author's filter matched (or the document was upserted) and everything was written. */
  matched: boolean;
  /** The request key was already applied: nothing was written this time. */
  duplicate: boolean;
  upserted: boolean;
  /** Events written, with the seq assigned. */
  events: Array<{ id: string; seq: number }>;
  /** With `duplicate`: the answer the first attempt recorded for this request key, if it did. */
  answer?: string;
}

const MAX_RACE_RETRIES = 5;

/** Author's operators plus the outbox's, merged per operator. */
function mergeUpdate(author: Record<string, unknown>, outbox: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...author };
  for (const [op, fields] of Object.entries(outbox)) merged[op] = { ...((author[op] as object | undefined) ?? {}), ...fields };
  return merged;
}

interface OutboxState {
  /** The answer recorded for the request key, when there is one. */
  answer: string | undefined;
  /** The request key's update matched nothing, recorded so (`recordMiss`: `_outboxMissed`; or, by an earlier version, in the applied list with {@link NOT_MATCHED}). */
  missed: boolean;
  seq: number | undefined;
  count: number;
  bytes: number;
  applied: string[];
  /** The list exactly as stored (for the equality pin), or undefined when absent. */
  appliedRaw: unknown[] | undefined;
  exists: boolean;
}

/** Two applied lists as stored are the same (both absent, or the same keys in the same order). */
function sameList(a: unknown[] | undefined, b: unknown[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((key, i) => key === b[i]);
}

async function readState(collection: CollectionLike, id: unknown, requestKey: string | undefined): Promise<OutboxState> {
  const answer = requestKey === undefined ? undefined : `${FIELDS.answers}.${answerField(requestKey)}`;
  const doc = await collection.findOne({ _id: id }, { projection: { [FIELDS.seq]: 1, [FIELDS.count]: 1, [FIELDS.bytes]: 1, [FIELDS.applied]: 1, [FIELDS.missed]: 1, ...(answer ? { [answer]: 1 } : {}) } });
  const answers = doc?.[FIELDS.answers] as Record<string, unknown> | undefined;
  const recorded = requestKey === undefined ? undefined : answers?.[answerField(requestKey)];
  return {
    answer: typeof recorded === 'string' ? recorded : undefined,
    missed: recorded === NOT_MATCHED || (requestKey !== undefined && Array.isArray(doc?.[FIELDS.missed]) && (doc[FIELDS.missed] as unknown[]).includes(requestKey)),
    exists: doc !== null,
    seq: typeof doc?.[FIELDS.seq] === 'number' ? doc[FIELDS.seq] : undefined,
    count: typeof doc?.[FIELDS.count] === 'number' ? doc[FIELDS.count] : 0,
    bytes: typeof doc?.[FIELDS.bytes] === 'number' ? doc[FIELDS.bytes] : 0,
    applied: Array.isArray(doc?.[FIELDS.applied]) ? doc[FIELDS.applied] : [],
    appliedRaw: Array.isArray(doc?.[FIELDS.applied]) ? doc[FIELDS.applied] : undefined,
  };
}

/** Runs `work` holding the document's write lease (FerretDB), or directly (MongoDB). */
export async function serialised<T>(serialisation: WriteSerialisation, key: string, signal: AbortSignal | undefined, work: (deadline: number) => Promise<T>): Promise<T> {
  if (serialisation.mode === 'server') return work(Number.POSITIVE_INFINITY);
  const lease = serialisation.lease;
  if (!lease) throw new UnsupportedServerError('outbox: this server does not apply a filtered update atomically (FerretDB); embedded mode needs the "writeLease" option (a @steadyfn/lease MongoDB store) to serialise writers of one document');
  const giveUpAt = Date.now() + serialisation.waitMs;
  let delay = 5;
  for (;;) {
    // A token per attempt, as the lease asks (a Redis lease reads a claim meeting its own token as its own resent claim).
    const owner = randomUUID();
    const claimedAt = Date.now();
    const claim = await lease.claim({ key, owner, leaseMs: serialisation.leaseMs }, { signal });
    if (claim.claimed) {
      try {
        // Work must end well inside the lease: past half of it, the writer stops before writing.
        return await work(claimedAt + serialisation.leaseMs / 2);
      } finally {
        await lease.settle({ key, owner, fence: claim.fence }, { signal }).catch(() => false);
      }
    }
    if (signal?.aborted || Date.now() + delay > giveUpAt) throw new WriteConflictError('outbox: another writer holds this document; retry');
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 100);
  }
}

const NOTHING_MATCHED: EmbeddedResult = { matched: false, duplicate: false, upserted: false, events: [] };

/** The request key found applied (a duplicate), or recorded by an earlier attempt as the miss it was (`matched: false` again). */
function duplicateOf(state: OutboxState): EmbeddedResult {
  if (state.missed) return { ...NOTHING_MATCHED, events: [] };
  return { matched: true, duplicate: true, upserted: false, events: [], ...(state.answer === undefined ? {} : { answer: state.answer }) };
}

/**
 * Records the answer of a request this invocation's update applied (`requestKey` in the
 * document's applied list), so a retry of the request replays it. Serialised like every write
 * of the document. Returns false when the key is no longer in the list (evicted: too many later
 * requests) or the document is gone.
 */
export async function recordAnswer(collection: CollectionLike, id: string, requestKey: string, answer: string, serialisation: WriteSerialisation, signal?: AbortSignal): Promise<boolean> {
  return serialised(serialisation, `outbox-write:${collection.collectionName}:${id}`, signal, async () => {
    const result = await collection.updateOne({ _id: id, [FIELDS.applied]: requestKey }, { $set: { [`${FIELDS.answers}.${answerField(requestKey)}`]: answer } });
    return result.matchedCount > 0;
  });
}

/**
 * Writes the author's update with `events` into one document.
 *
 * @throws OutboxFullError when the pending events would pass a cap (nothing written).
 * @throws WriteConflictError when concurrent writers kept moving the document (retryable).
 * @throws EventInvalidError for what {@link checkEmbeddedWrite} refuses.
 */
export async function embeddedWrite(
  collection: CollectionLike,
  aggregateType: string,
  write: EmbeddedUpdate,
  events: ReadonlyArray<PendingEvent>,
  limits: EmbeddedLimits,
  serialisation: WriteSerialisation,
  signal?: AbortSignal,
  registry?: PendingRegistry,
): Promise<EmbeddedResult> {
  await checkEmbeddedWrite(aggregateType, write, events, limits);
  const id = write.filter._id as string;
  const lockKey = `outbox-write:${collection.collectionName}:${id}`;
  const size = await bsonSize();
  return serialised(serialisation, lockKey, signal, async (writeBy) => {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const state = await readState(collection, id, write.requestKey);
      if (write.requestKey !== undefined && (state.applied.includes(write.requestKey) || state.missed)) return duplicateOf(state);
      const base = state.seq ?? 0;
      const now = new Date();
      const embedded = embeddedEvents(events, base, now);
      // What MongoDB stores for them (BSON), the measure of maxPendingBytes.
      const bytes = embedded.reduce((sum, e) => sum + embeddedBytes(e, size), 0);
      refuseOversized(embedded.length, bytes, limits);
      if (state.count + embedded.length > limits.maxPendingEvents) {
        throw new OutboxFullError('count', `outbox: document ${String(id)} would hold ${state.count + embedded.length} pending events (cap ${limits.maxPendingEvents}); nothing was written`);
      }
      if (state.bytes + bytes > limits.maxPendingBytes) {
        throw new OutboxFullError('bytes', `outbox: document ${String(id)} would hold ${state.bytes + bytes} bytes of pending events (cap ${limits.maxPendingBytes}); nothing was written`);
      }
      const outboxOps: Record<string, Record<string, unknown>> = {};
      if (embedded.length > 0) {
        outboxOps.$push = { [FIELDS.events]: { $each: embedded } };
        outboxOps.$set = { [FIELDS.seq]: base + embedded.length };
        outboxOps.$inc = { [FIELDS.count]: embedded.length, [FIELDS.bytes]: bytes };
        outboxOps.$min = { [FIELDS.pendingSince]: now };
      }
      const filter: Record<string, unknown> = { ...write.filter, [FIELDS.seq]: state.seq === undefined ? { $exists: false } : state.seq };
      if (write.requestKey !== undefined) {
        // FerretDB 1.24 ignores $push's $slice: the bounded list is set whole, pinned on the list as read.
        const all = [...state.applied, write.requestKey];
        (outboxOps.$set ??= {})[FIELDS.applied] = all.slice(-limits.maxAppliedKeys);
        filter[FIELDS.applied] = state.appliedRaw === undefined ? { $exists: false } : state.appliedRaw;
        // Not recorded as a miss meanwhile (recordMiss pins the reverse).
        filter[FIELDS.missed] = { $ne: write.requestKey };
        // An evicted key's answer goes with it.
        for (const evicted of all.slice(0, Math.max(0, all.length - limits.maxAppliedKeys))) (outboxOps.$unset ??= {})[`${FIELDS.answers}.${answerField(evicted)}`] = '';
      }
      if (Date.now() > writeBy) throw new WriteConflictError('outbox: the write lease ran short before the write; nothing was written');
      // Registered before the update (a registration without events is dropped by the next sweep): a document with events is always found.
      if (registry && embedded.length > 0) await registry.collection.updateOne({ _id: id }, { $min: { p: now } }, { upsert: true });
      let result: { matchedCount: number; upsertedCount?: number | null };
      try {
        result = await collection.updateOne(filter, mergeUpdate(write.update, outboxOps), { upsert: write.upsert === true });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 11000) throw error;
        // An upsert that matched nothing found its _id taken: another upsert of a new document
        // won the race, or the document existed and the filter did not match it. Judged below
        // like any update that matched nothing (read again: moved → retry; else matched: false).
        result = { matchedCount: 0, upsertedCount: 0 };
      }
      const upserted = (result.upsertedCount ?? 0) > 0;
      if (result.matchedCount > 0 || upserted) return { matched: true, duplicate: false, upserted, events: embedded.map((e) => ({ id: e.i, seq: e.s })) };
      const after = await readState(collection, id, write.requestKey);
      if (write.requestKey !== undefined && (after.applied.includes(write.requestKey) || after.missed)) return duplicateOf(after);
      // The filter pins the applied list too: an update of another request that adds no event
      // moves only that list, and is a race like a moved seq, not a filter that stopped matching.
      const appliedMoved = write.requestKey !== undefined && !sameList(after.appliedRaw, state.appliedRaw);
      if (after.seq === state.seq && after.exists === state.exists && !appliedMoved) return { ...NOTHING_MATCHED, events: [] };
    }
    throw new WriteConflictError('outbox: concurrent writers kept changing this document; retry');
  });
}
