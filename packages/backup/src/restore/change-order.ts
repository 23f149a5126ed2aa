/**
 * Which of a document's streamed changes is its last. Records are archived in the order they
 * arrived; an outbox event also carries its aggregate's `seq`, which orders one aggregate's
 * events even when they arrived out of order (a standard SQS queue, a relay retrying a batch).
 */
import type { StreamRecord } from '../stream/types.js';

/** An outbox event's place in its aggregate's order. */
export interface AggregateOrder {
  /** `<aggregateType>/<aggregateId>`. */
  aggregate: string;
  /** The envelope's per-aggregate `seq`. */
  seq: number;
}

/**
 * The aggregate and `seq` of a record archived from an outbox envelope (its `payload` is the
 * envelope, whose `id` is the record's), or undefined for any other record.
 */
export function aggregateOrder(record: StreamRecord): AggregateOrder | undefined {
  const payload = record.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const { id, aggregateType, aggregateId, seq } = payload as Record<string, unknown>;
  if (id !== record.id || typeof aggregateType !== 'string' || typeof aggregateId !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq)) return undefined;
  return { aggregate: `${aggregateType}/${aggregateId}`, seq };
}

/**
 * Whether a change that arrived later (`next`) replaces the one kept so far (`kept`) as its
 * document's last: always, unless both are events of one aggregate and `next`'s `seq` is lower
 * (an older image that arrived late).
 */
export function replacesKept(next: AggregateOrder | undefined, kept: AggregateOrder | undefined): boolean {
  return !next || !kept || next.aggregate !== kept.aggregate || next.seq >= kept.seq;
}
