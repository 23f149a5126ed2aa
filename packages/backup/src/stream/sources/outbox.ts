/**
 * Outbox events as streamed records. The envelope is `@steadyfn/outbox`'s:
 * `{ id (UUIDv7), type, aggregateType, aggregateId, seq, payload, occurredAt, change?: { op, before?, after? } }`.
 * `seq` grows by one per aggregate, so a jump is a lost event: the timeline is marked broken.
 * A `seq` at or below the last seen is kept, marked `stale` with that last `seq` (a repeat, or an
 * older event that arrived late: a restore applies the highest `seq` of an aggregate as its
 * document's last change, and point-in-time restore skips a stale record the snapshot holds a
 * later `seq` of).
 * An event with `change.after` (or `op: 'delete'`) can rebuild state; one without is archived only.
 */
import { EJSON } from 'bson';
import { SourceRecordInvalidError } from '../../errors.js';
import { zonedIsoMs } from '../../format/zoned-time.js';
import { toEjson } from '../../sources/mongo.js';
import type { PulledBatch, StreamRecord } from '../types.js';

/**
 * The outbox event envelope, structurally `@steadyfn/outbox`'s `EventEnvelope` (kept here so
 * this package's types need no outbox install; a test checks the two stay assignable).
 */
export interface OutboxEnvelope {
  id: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  seq: number;
  payload: unknown;
  /** When the event happened: an ISO date-time with its zone (`Z` or an offset); one without is refused (`SourceRecordInvalidError`). */
  occurredAt: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  schemaVersion?: number;
  /**
   * The changed document. Point-in-time restore applies it to the document with the image's own
   * `_id` (`after._id`, for a delete `before._id`; Extended JSON keeps an ObjectId one), else
   * with `aggregateId` as `_id`.
   */
  change?: { op: 'insert' | 'update' | 'delete' | 'manual'; before?: unknown; after?: unknown };
  related?: Record<string, unknown>;
  context?: Record<string, string | number | boolean | null>;
}

/** Per-aggregate last `seq` seen, bounded: the oldest entries are dropped (those aggregates are not gap-checked until seen again). */
export interface SeqState {
  seqs: Record<string, number>;
}

const MAX_TRACKED = 10_000;

/** Why `value` is not an outbox envelope, or undefined when it is one. */
function envelopeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const v = value as Partial<OutboxEnvelope>;
  for (const field of ['id', 'aggregateType', 'aggregateId', 'occurredAt'] as const) if (typeof v[field] !== 'string') return `"${field}" is not a string`;
  if (!Number.isSafeInteger(v.seq) || v.seq! < 0) return '"seq" is not a whole number ≥ 0';
  // Read as written, never in the machine's local time (as a point-in-time restore's `at`).
  if (!Number.isFinite(zonedIsoMs(v.occurredAt!))) return '"occurredAt" is not an ISO time with its zone (Z or an offset)';
  return undefined;
}

/** The text of an envelope (a Redis stream field), parsed. @throws {SourceRecordInvalidError} not JSON */
export function parseEnvelopeText(text: string | undefined, position: string): unknown {
  try {
    return JSON.parse(text ?? 'null') as unknown;
  } catch {
    throw invalidAt(position, 'not JSON');
  }
}

function invalidAt(position: string, problem: string): SourceRecordInvalidError {
  return new SourceRecordInvalidError(`the source record at position ${position} is not an outbox envelope (${problem}); nothing of its batch was archived`, [{ key: position, message: problem }]);
}

/**
 * The `_id` an image (`change.after`, or `change.before` of a delete) gives, deserialized, or
 * undefined when it has none. `aggregateId` is a string: an ObjectId (or number) `_id` is only
 * known from the image, given as Extended JSON (`{ "$oid": … }`).
 */
function imageId(image: unknown): { value: unknown } | undefined {
  if (image === null || typeof image !== 'object' || Array.isArray(image) || !Object.hasOwn(image, '_id')) return undefined;
  const { _id } = EJSON.deserialize({ _id: (image as { _id: unknown })._id }, { relaxed: false }) as { _id: unknown };
  return _id === undefined || _id === null ? undefined : { value: _id };
}

/** The streamed record for one envelope at `position`. */
export function envelopeRecord(envelope: OutboxEnvelope, position: string): StreamRecord {
  const change = envelope.change;
  // The document a change is: the image's own _id when it has one (the restore finds and writes
  // it by that), else the aggregate id.
  const id = imageId(change?.op === 'delete' ? change.before : change?.after);
  const base = { id: envelope.id, position, time: new Date(zonedIsoMs(envelope.occurredAt)).toISOString(), namespace: envelope.aggregateType, key: toEjson(id ? id.value : envelope.aggregateId), payload: envelope };
  if (change?.op === 'delete') return { ...base, op: 'delete' };
  if (change && change.after !== undefined) {
    // The after image may be plain JSON or EJSON; store it canonical, with the aggregate id as _id unless it has its own.
    const after = EJSON.deserialize(change.after as Record<string, unknown>, { relaxed: false }) as Record<string, unknown>;
    return { ...base, op: 'upsert', doc: toEjson({ _id: envelope.aggregateId, ...after }) };
  }
  return { ...base, op: 'event' };
}

/**
 * Turns envelopes (with their positions) into records, checking `seq` per aggregate against
 * `state`. A repeat (`seq` ≤ last) is kept, marked `stale: <last>` (restore drops it by id, or — a
 * new id, an older event arriving late — does not apply it over a higher `seq`; point-in-time
 * restore skips it when `last` was archived before the snapshot's mark); a jump is a gap.
 *
 * With `onInvalid`, an item that is not an outbox envelope is left out of the batch (its `seq`
 * not recorded) and handed to `onInvalid` with the problem, in words (`sqsSource` leaves such a
 * message on its queue and archives the rest).
 *
 * @throws {SourceRecordInvalidError} without `onInvalid`: an item that is not an outbox envelope (its position in `problems`)
 */
export function envelopesToBatch(items: Array<{ envelope: unknown; position: string }>, state: unknown, drained: boolean, onInvalid?: (position: string, problem: string) => void): PulledBatch {
  const seqs = new Map(Object.entries((state as SeqState | undefined)?.seqs ?? {}));
  const records: StreamRecord[] = [];
  const gaps: string[] = [];
  for (const { envelope, position } of items) {
    let problem = envelopeProblem(envelope);
    let record: StreamRecord | undefined;
    if (problem === undefined) {
      try {
        record = envelopeRecord(envelope as OutboxEnvelope, position);
      } catch {
        problem = (envelope as OutboxEnvelope).change?.op === 'delete' ? '"change.before._id" is not Extended JSON' : '"change.after" is not an Extended JSON document';
      }
    }
    if (record === undefined) {
      const why = problem ?? 'not an outbox envelope';
      if (!onInvalid) throw invalidAt(position, why);
      onInvalid(position, why);
      continue;
    }
    const { aggregateType, aggregateId, seq } = envelope as OutboxEnvelope;
    const aggregate = `${aggregateType}/${aggregateId}`;
    const last = seqs.get(aggregate);
    if (last !== undefined && seq > last + 1) gaps.push(`${aggregate}: seq ${last} then ${seq}`);
    if (last === undefined || seq > last) {
      seqs.delete(aggregate);
      seqs.set(aggregate, seq);
      records.push(record);
    } else {
      records.push({ ...record, stale: last });
    }
  }
  while (seqs.size > MAX_TRACKED) seqs.delete(seqs.keys().next().value!);
  return { records, drained, state: { seqs: Object.fromEntries(seqs) } satisfies SeqState, ...(gaps.length > 0 ? { gap: `outbox seq gap (${gaps.slice(0, 3).join('; ')})` } : {}) };
}
