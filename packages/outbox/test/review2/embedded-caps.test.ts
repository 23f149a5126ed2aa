/**
 * Review finding (embedded mode caps): a write whose own events exceed a document's caps — one
 * event larger than `maxPendingBytes`, or more events in one update than `maxPendingEvents` —
 * failed with `OUTBOX_DOCUMENT_FULL`, retryable ("until the relay drains it"), although no
 * amount of draining lets it fit: a queue redelivered it until its DLQ, an HTTP caller was told
 * to retry forever. It is now `OUTBOX_EVENT_INVALID` (terminal), nothing written; a write that
 * only has to wait for pending events is still the retryable `OUTBOX_DOCUMENT_FULL`. FerretDB.
 */
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox } from '../../src/index.js';
import { useMongo } from '../support.js';

const mongo = useMongo();

describe('embedded outbox: a write larger than the document caps', () => {
  it('is terminal when its own events cannot fit; retryable when it only has to wait', async () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection: 'orders', aggregateType: 'order', writeLease: mongo.lease, maxPendingBytes: 2048, maxPendingEvents: 2 });
    const orders = outbox({ events: { Noted: { aggregateType: 'order', schema: z.object({ text: z.string() }) } }, store });
    const note = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { size, count } = input as { size: number; count: number };
      for (let i = 0; i < count; i++) ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: { text: 'x'.repeat(size) } });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { notes: count } }, { upsert: true });
    });
    const failure = (input: object, deliveryId: string) => note.invoke(input, { deliveryId }).then(() => undefined, (e: unknown) => e);

    expect(await failure({ size: 3000, count: 1 }, 'd-big')).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(await failure({ size: 10, count: 3 }, 'd-many')).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(await mongo.db.collection('orders').countDocuments({})).toBe(0);

    // Two pending events fill the document (nothing relays them here): the next write waits.
    await expect(note.invoke({ size: 10, count: 2 }, { deliveryId: 'd-fill' })).resolves.toMatchObject({ matched: true });
    expect(await failure({ size: 10, count: 1 }, 'd-wait')).toMatchObject({ code: 'OUTBOX_DOCUMENT_FULL', retryable: true });
  });
});
