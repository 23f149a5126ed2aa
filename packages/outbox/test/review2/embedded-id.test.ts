/**
 * Review finding (embedded mode): an update whose filter named the document by a number
 * (`{ _id: 42 }`) was written — state and event — but the relay looks documents up by the
 * aggregate id, a string (`'42'`), so neither the flush nor any sweep ever found the event: a
 * committed event stuck for good, against "at least once, once committed". The README says
 * the document's `_id` is a string; a non-string `_id` is now refused before anything is
 * written (`OUTBOX_EVENT_INVALID`). Checked on the shared MongoDB-wire server (FerretDB).
 */
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, type EmbeddedResult } from '../../src/index.js';
import { scriptedSender, useMongo } from '../support.js';

const mongo = useMongo();

describe('embedded outbox: the document _id', () => {
  it('a number _id is refused before anything is written; a string _id is written and relayed', async () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection: 'orders', aggregateType: 'order', writeLease: mongo.lease });
    await store.ensureIndexes();
    const sender = scriptedSender();
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store, relay: { sender, lease: mongo.lease } });
    const pay = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx): Promise<EmbeddedResult> => {
      const { id } = input as { id: string | number };
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: String(id), payload: {} });
      return ctx.outbox.updateOne({ _id: id as string }, { $set: { status: 'paid' } });
    });
    const orderDocs = mongo.db.collection<{ _id: string | number; status: string }>('orders');
    await orderDocs.insertMany([{ _id: 42, status: 'validated' }, { _id: '43', status: 'validated' }]);

    const error = await pay.invoke({ id: 42 }, { deliveryId: 'd-42' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await orderDocs.findOne({ _id: 42 })).toEqual({ _id: 42, status: 'validated' });

    await expect(pay.invoke({ id: '43' }, { deliveryId: 'd-43' })).resolves.toMatchObject({ matched: true });
    expect(sender.accepted.map((m) => JSON.parse(m.body).aggregateId)).toEqual(['43']);
  });
});
