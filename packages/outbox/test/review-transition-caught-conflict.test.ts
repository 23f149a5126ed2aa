/**
 * New-user trial finding: a function that catches `TRANSITION_CONFLICT` — the documented typed
 * 409 of a lost race, natural to handle ("already paid: answer as before") — still failed.
 * The transition had staged its event before the conditional update; the update did not match,
 * the event stayed staged, and the outbox then refused the invocation at its end with
 * `OUTBOX_EVENT_INVALID` ("added but no ctx.outbox.updateOne wrote them") — or, had a later
 * `updateOne` of the function matched, the lost transition's event would have been written
 * with it. A transition that loses now takes its own event back: nothing of it is written, and
 * what the function staged itself is untouched. Embedded outbox on FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, transitions } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({}) },
  PaymentSeen: { aggregateType: 'order', schema: z.object({}) },
};
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;

async function setup(status: string) {
  const collection = `orders_${randomUUID().slice(0, 8)}`;
  const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
  await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, status });
  return { collection, orders: outbox({ events, store }), flow: transitions({ table, store }) };
}

describe('embedded transitions: a caught TRANSITION_CONFLICT', () => {
  it('lets the function answer; nothing of the lost transition is written', async () => {
    const { collection, orders, flow } = await setup('paid');
    const pay = handler({ use: [orders, flow], logSink: () => undefined }, async (_input, ctx) => {
      try {
        await ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
        return 'paid now';
      } catch (error) {
        if ((error as { code?: unknown }).code === 'TRANSITION_CONFLICT') return 'was already paid';
        throw error;
      }
    });
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('was already paid');
    const doc = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect(doc?.status).toBe('paid');
    expect(doc?._outboxSeq ?? 0).toBe(0);
  });

  it('a later update of the function writes only its own event, not the lost transition’s', async () => {
    const { collection, orders, flow } = await setup('paid');
    const pay = handler({ use: [orders, flow], logSink: () => undefined }, async (_input, ctx) => {
      try {
        await ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'TRANSITION_CONFLICT') throw error;
        ctx.outbox.add({ type: 'PaymentSeen', aggregateId: 'o-1', payload: {} });
        await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { seen: 1 } });
      }
      return 'ok';
    });
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('ok');
    const doc = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect((doc?._outbox as Array<{ t: string }>).map((e) => e.t)).toEqual(['PaymentSeen']);
    expect(doc?.seen).toBe(1);
  });
});
