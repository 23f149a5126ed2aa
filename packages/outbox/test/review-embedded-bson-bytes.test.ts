/**
 * Review finding (obx, embedded byte cap): `maxPendingBytes` caps the bytes of pending events
 * one document holds, but the capture measured each event as its envelope's UTF-8 length plus a
 * fixed 96-byte allowance — less than MongoDB stores for an event with a long type name or a
 * traceparent (each field's BSON header, the type, the id, the date). Documents then held more
 * than the cap. It is now the event's BSON size (`BSON.calculateObjectSize`, the driver's bson).
 * FerretDB: events of 4-byte emoji (two UTF-16 units, four bytes each) written one per
 * invocation until the document is full; what the document really stores stays within the cap,
 * and its byte counter equals it.
 */
import { handler } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox } from '@steadyfn/outbox';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useMongo } from './support.js';

const TYPE = 'TickRecordedWithAnEventTypeNameLongEnoughToCount';
const events = { [TYPE]: { aggregateType: 'tick', schema: z.object({ pad: z.string() }) } };
const CAP = 2048;

const mongo = useMongo();

/** Bytes the pending array's elements take in the stored document: each element's type byte, index key and document. */
const storedBytes = (pending: unknown[]) => pending.reduce<number>((sum, e, i) => sum + 1 + String(i).length + 1 + BSON.calculateObjectSize(e as object), 0);

describe('the embedded outbox caps pending bytes by what MongoDB stores', () => {
  it('refuses the event that would take a document past maxPendingBytes as stored (BSON), and counts exactly that', async () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'ticks', aggregateType: 'tick', writeLease: mongo.lease, maxPendingBytes: CAP });
    const write = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.add({ type: TYPE, aggregateId: 't-1', payload: { pad: '😀'.repeat(120) } });
      await ctx.outbox.updateOne({ _id: 't-1' }, { $inc: { n: 1 } }, { upsert: true });
    });
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 10 && refusal === undefined; i++) {
      refusal = await write.invoke({}).then(() => void accepted++, (e: unknown) => e);
    }
    expect(refusal).toMatchObject({ code: 'OUTBOX_DOCUMENT_FULL' });
    expect(accepted).toBeGreaterThan(0);
    const doc = (await mongo.db.collection<{ _id: string; n: number; _outbox: unknown[]; _outboxBytes: number }>('ticks').findOne({ _id: 't-1' }))!;
    const pending = doc._outbox;
    expect(pending).toHaveLength(accepted);
    expect(doc.n).toBe(accepted);
    const stored = storedBytes(pending);
    expect(stored).toBeLessThanOrEqual(CAP);
    // The counter is the stored size, each element's header counted as its largest (8 bytes;
    // the index keys here are one digit: 3 bytes).
    expect(doc._outboxBytes).toBeGreaterThanOrEqual(stored);
    expect(doc._outboxBytes).toBeLessThanOrEqual(stored + 5 * accepted);
  });
});
