/**
 * s55-fxe (review rvo), embedded mode on FerretDB: the request keys of one document's updates
 * were numbered by the updates that had MATCHED (`<key>`, `<key>#1`, …). A call that matched
 * nothing (or threw) took the key the next call then took too; on a redelivery the first call
 * found that key applied — answered `matched: true, duplicate: true` without its filter checked —
 * and every later call got a key one higher than the first attempt's: written again (`$inc`
 * twice, its event twice). Now every call takes the next number, whatever its outcome, and a
 * miss of a run that returned is recorded beside the applied keys, so the redelivery answers
 * `matched: false` again; a run that failed leaves its misses unrecorded (its retry checks the
 * filter again).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, transitions } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();

const events = {
  Counted: { aggregateType: 'order', schema: z.object({}) },
  Noted: { aggregateType: 'order', schema: z.object({}) },
  OrderPaid: { aggregateType: 'order', schema: z.object({}) },
};

async function setup(doc: Record<string, unknown>) {
  const collection = `orders_${randomUUID().slice(0, 8)}`;
  const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
  const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
  await docs.insertOne({ _id: 'o-1', ...doc });
  const read = async () => (await docs.findOne({ _id: 'o-1' }))!;
  const types = async () => ((await read())._outbox as Array<{ t: string }> | undefined)?.map((e) => e.t) ?? [];
  return { store, docs, read, types, orders: outbox({ events, store }) };
}

const notMatched = { matched: false, duplicate: false, upserted: false, events: [] };

describe('embedded mode, a redelivery of a function whose update matched nothing or threw', () => {
  it('an update that matched nothing: the redelivery answers matched: false again, the later $inc and its event are written once', async () => {
    const { orders, read, types } = await setup({ status: 'paid', n: 0 });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      const first = await ctx.outbox.updateOne({ _id: 'o-1', status: 'validated' }, { $set: { status: 'paid' } });
      ctx.outbox.add({ type: 'Counted', aggregateId: 'o-1', payload: {} });
      const second = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } });
      return { first, second: { matched: second.matched, duplicate: second.duplicate } };
    });
    await expect(fn.invoke({}, { deliveryId: 'd-1' })).resolves.toEqual({ first: notMatched, second: { matched: true, duplicate: false } });
    await expect(fn.invoke({}, { deliveryId: 'd-1' })).resolves.toEqual({ first: notMatched, second: { matched: true, duplicate: true } });
    expect((await read()).n).toBe(1);
    expect(await types()).toEqual(['Counted']);
  });

  it('the miss is recorded: a redelivery after the document came to match its filter still answers matched: false, nothing written', async () => {
    const { orders, docs, read, types } = await setup({ status: 'paid', n: 0 });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return (await ctx.outbox.updateOne({ _id: 'o-1', status: 'validated' }, { $set: { status: 'paid' }, $inc: { n: 1 } })).matched;
    });
    await expect(fn.invoke({}, { deliveryId: 'd-2' })).resolves.toBe(false);
    await docs.updateOne({ _id: 'o-1' }, { $set: { status: 'validated' } });
    await expect(fn.invoke({}, { deliveryId: 'd-2' })).resolves.toBe(false);
    expect(await read()).toMatchObject({ status: 'validated', n: 0 });
    expect(await types()).toEqual([]);
    // Another request checks its filter.
    await expect(fn.invoke({}, { deliveryId: 'd-3' })).resolves.toBe(true);
  });

  it('a run that failed after its miss leaves it unrecorded: the retry checks the filter again', async () => {
    const { orders, docs, read, types } = await setup({ status: 'created' });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      const result = await ctx.outbox.updateOne({ _id: 'o-1', status: 'validated' }, { $set: { status: 'paid' } });
      if (!result.matched) throw new Error('not validated yet: retry later');
      return 'paid';
    });
    await expect(fn.invoke({}, { deliveryId: 'd-4' })).rejects.toThrow();
    await docs.updateOne({ _id: 'o-1' }, { $set: { status: 'validated' } });
    await expect(fn.invoke({}, { deliveryId: 'd-4' })).resolves.toBe('paid');
    expect((await read()).status).toBe('paid');
    expect(await types()).toEqual(['OrderPaid']);
  });

  it('an update that threw (the server refused it): the later $inc and its event are written once', async () => {
    const { orders, read, types } = await setup({ label: 'x', n: 0 });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      // $inc of a string: refused by the server, caught by the function.
      const first = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { label: 1 } }).then(
        () => 'written',
        () => 'threw',
      );
      ctx.outbox.add({ type: 'Counted', aggregateId: 'o-1', payload: {} });
      const second = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } });
      return { first, duplicate: second.duplicate };
    });
    await expect(fn.invoke({}, { deliveryId: 'd-5' })).resolves.toEqual({ first: 'threw', duplicate: false });
    await expect(fn.invoke({}, { deliveryId: 'd-5' })).resolves.toEqual({ first: 'threw', duplicate: true });
    expect(await read()).toMatchObject({ label: 'x', n: 1 });
    expect(await types()).toEqual(['Counted']);
  });

  it('a caught TRANSITION_CONFLICT: the redelivery throws it again, the later update and its event are written once', async () => {
    const { orders, store, read, types } = await setup({ status: 'paid', notes: 0 });
    const flow = transitions({ table: { validated: ['paid'], paid: [] }, store });
    const fn = handler({ use: [orders, flow], logSink: () => undefined }, async (_input: unknown, ctx) => {
      let transition: unknown;
      try {
        transition = await ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'TRANSITION_CONFLICT') throw error;
        transition = 'TRANSITION_CONFLICT';
      }
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { notes: 1 } });
      return { transition };
    });
    await expect(fn.invoke({}, { deliveryId: 'd-6' })).resolves.toEqual({ transition: 'TRANSITION_CONFLICT' });
    await expect(fn.invoke({}, { deliveryId: 'd-6' })).resolves.toEqual({ transition: 'TRANSITION_CONFLICT' });
    expect(await read()).toMatchObject({ status: 'paid', notes: 1 });
    expect(await types()).toEqual(['Noted']);
  });
});
