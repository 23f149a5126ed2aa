/**
 * Outbox events as streamed records. The envelope is `@steadyfn/outbox`'s:
 * `{ id (UUIDv7), type, aggregateType, aggregateId, seq, payload, occurredAt, change?: { op, before?, after? } }`.
 * `seq` grows by one per aggregate, so a jump is a lost event: the timeline is marked broken.
 * An event with `change.after` (or `op: 'delete'`) can rebuild state; one without is archived only.
 */
import { EJSON } from 'bson';
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
  occurredAt: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  schemaVersion?: number;
  change?: { op: 'insert' | 'update' | 'delete' | 'manual'; before?: unknown; after?: unknown };
  related?: Record<string, unknown>;
  context?: Record<string, string | number | boolean | null>;
}

/** Per-aggregate last `seq` seen, bounded: the oldest entries are dropped (those aggregates are not gap-checked until seen again). */
export interface SeqState {
  seqs: Record<string, number>;
}

const MAX_TRACKED = 10_000;

function isEnvelope(value: unknown): value is OutboxEnvelope {
  const v = value as Partial<OutboxEnvelope> | null;
  return !!v && typeof v.id === 'string' && typeof v.aggregateType === 'string' && typeof v.aggregateId === 'string' && typeof v.seq === 'number' && typeof v.occurredAt === 'string';
}

/** The streamed record for one envelope at `position`. */
export function envelopeRecord(envelope: OutboxEnvelope, position: string): StreamRecord {
  const base = { id: envelope.id, position, time: new Date(envelope.occurredAt).toISOString(), namespace: envelope.aggregateType, key: toEjson(envelope.aggregateId), payload: envelope };
  const change = envelope.change;
  if (change?.op === 'delete') return { ...base, op: 'delete' };
  if (change && change.after !== undefined) {
    // The after image may be plain JSON or EJSON; store it canonical, with the aggregate id as _id.
    const after = EJSON.deserialize(change.after as Record<string, unknown>, { relaxed: false }) as Record<string, unknown>;
    return { ...base, op: 'upsert', doc: toEjson({ _id: envelope.aggregateId, ...after }) };
  }
  return { ...base, op: 'event' };
}

/**
 * Turns envelopes (with their positions) into records, checking `seq` per aggregate against
 * `state`. A repeat (`seq` ≤ last) is kept (restore drops it by id); a jump is a gap.
 *
 * @throws {TypeError} an item that is not an outbox envelope
 */
export function envelopesToBatch(items: Array<{ envelope: unknown; position: string }>, state: unknown, drained: boolean): PulledBatch {
  const seqs = new Map(Object.entries((state as SeqState | undefined)?.seqs ?? {}));
  const records: StreamRecord[] = [];
  const gaps: string[] = [];
  for (const { envelope, position } of items) {
    if (!isEnvelope(envelope)) throw new TypeError(`not an outbox envelope at position ${position}`);
    const aggregate = `${envelope.aggregateType}/${envelope.aggregateId}`;
    const last = seqs.get(aggregate);
    if (last !== undefined && envelope.seq > last + 1) gaps.push(`${aggregate}: seq ${last} then ${envelope.seq}`);
    if (last === undefined || envelope.seq > last) {
      seqs.delete(aggregate);
      seqs.set(aggregate, envelope.seq);
    }
    records.push(envelopeRecord(envelope, position));
  }
  while (seqs.size > MAX_TRACKED) seqs.delete(seqs.keys().next().value!);
  return { records, drained, state: { seqs: Object.fromEntries(seqs) } satisfies SeqState, ...(gaps.length > 0 ? { gap: `outbox seq gap (${gaps.slice(0, 3).join('; ')})` } : {}) };
}
