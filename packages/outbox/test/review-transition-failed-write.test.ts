/**
 * Review finding: an embedded transition whose `updateOne` threw (a server error, the outbox's
 * own `CONFIG_INVALID`, an unreachable server) kept its event staged. A function that caught
 * the error and went on had that event written with its next `updateOne` of the aggregate —
 * and relayed, though the transition never happened. A transition whose write fails now takes
 * its event back, as a lost one does. Embedded outbox on FerretDB, real writes; transaction
 * mode (FerretDB has no transactions) with the plugin alone and a collection whose update throws.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, transitions } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({}) },
  PaymentSeen: { aggregateType: 'order', schema: z.object({}) },
};
const table = { validated: ['paid'], paid: [] } as const;

describe('embedded transitions: a write that throws', () => {
  it('takes its event back: a later update of the function writes only its own event', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, status: 'validated' });
    // The server refuses this write (the immutable _id changed): the transition's update throws.
    const flow = transitions({ table, store, alsoSet: () => ({ _id: 'o-other' }) });
    let caught: unknown;
    const pay = handler({ use: [outbox({ events, store }), flow], logSink: () => undefined }, async (_input, ctx) => {
      try {
        await ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      } catch (error) {
        caught = error;
        ctx.outbox.add({ type: 'PaymentSeen', aggregateId: 'o-1', payload: {} });
        await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { seen: 1 } });
      }
      return 'ok';
    });
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('ok');
    expect(caught).toBeDefined();
    const doc = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect(doc).toMatchObject({ status: 'validated', seen: 1 });
    expect((doc?._outbox as Array<{ t: string }>).map((e) => e.t)).toEqual(['PaymentSeen']);
  });
});

describe('transaction-mode transitions: an update that throws', () => {
  it('takes its event back: the transaction the function may still commit does not carry it', async () => {
    // Pure logic: the transaction outbox's context is an event list and a session; the
    // collection's update fails as a driver error would.
    const store = mongoTransactionOutbox({ client: { startSession: () => ({}) } as never, db: () => ({}) as never });
    const failing = { updateOne: async () => Promise.reject(Object.assign(new Error('write failed'), { name: 'MongoServerError', code: 2 })), findOne: async () => null };
    const flow = transitions({ table, store, collection: () => failing as never });
    const staged: unknown[] = [];
    const ctx = { outbox: { add: (event: unknown) => (staged.push(event), event), staged, session: {} } };
    const { transition } = flow.extend!(ctx as never, []) as { transition: (...args: unknown[]) => Promise<unknown> };
    await expect(transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} })).rejects.toMatchObject({ message: 'write failed' });
    expect(staged).toEqual([]);
  });
});
