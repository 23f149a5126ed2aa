import { describe, expect, it } from 'vitest';
import { SourceRecordInvalidError } from '../../errors.js';
import { envelopesToBatch, type OutboxEnvelope } from './outbox.js';

const env = (aggregateId: string, seq: number, change?: OutboxEnvelope['change']): OutboxEnvelope => ({ id: `${aggregateId}-${seq}`, type: 'T', aggregateType: 'carts', aggregateId, seq, payload: {}, occurredAt: '2026-11-30T10:00:00Z', ...(change ? { change } : {}) });

describe('outbox envelopes as stream records', () => {
  it('maps after images to upserts and deletes to deletes; others are archived events', () => {
    const batch = envelopesToBatch(
      [
        { envelope: env('c1', 1, { op: 'insert', after: { qty: 1 } }), position: 'p1' },
        { envelope: env('c1', 2, { op: 'delete' }), position: 'p2' },
        { envelope: env('c2', 1), position: 'p3' },
      ],
      undefined,
      true,
    );
    expect(batch.records.map((r) => [r.op, r.namespace, r.key, r.doc])).toEqual([
      ['upsert', 'carts', '"c1"', '{"_id":"c1","qty":{"$numberInt":"1"}}'],
      ['delete', 'carts', '"c1"', undefined],
      ['event', 'carts', '"c2"', undefined],
    ]);
    expect(batch.gap).toBeUndefined();
  });
  it('reports a seq jump per aggregate as a gap, and keeps repeats for restore to drop', () => {
    const first = envelopesToBatch([{ envelope: env('a', 1), position: '1' }], undefined, true);
    const repeat = envelopesToBatch([{ envelope: env('a', 1), position: '2' }], first.state, true);
    expect(repeat.gap).toBeUndefined();
    expect(repeat.records).toHaveLength(1);
    const jump = envelopesToBatch([{ envelope: env('a', 3), position: '3' }], repeat.state, true);
    expect(jump.gap).toMatch(/carts\/a: seq 1 then 3/);
  });
  it('refuses what is not an envelope', () => {
    expect(() => envelopesToBatch([{ envelope: { id: 1 }, position: 'x' }], undefined, true)).toThrow(SourceRecordInvalidError);
  });
});
