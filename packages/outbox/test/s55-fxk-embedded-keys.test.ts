/**
 * s55-fxk (review rvm2), embedded mode on FerretDB, two regressions of s55-fxe's per-call keys:
 * 1. the calls of one document were numbered across every request key: a caller's
 *    `requestKey: 'pay-42'` became `pay-42#1` when a call under another key (a miss) ran first
 *    on the document, so the same key in another delivery without that call was `pay-42` — and
 *    applied twice. Now each key is numbered by its own calls (and the events added after an
 *    update are written under that update's key's next number).
 * 2. a miss was recorded in the applied-key list, trimmed to `maxAppliedKeys`: it pushed out the
 *    same run's applied key, and the redelivery applied that update again. Misses now have their
 *    own bounded list (`_outboxMissed`).
 * And (LOW) `transitions({ alsoSet })` and `updateOne` refused every `_outbox…` key; only the
 * outbox's own fields (and paths inside them) are refused now: `_outboxedAt` is the author's.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, transitions } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();

const events = {
  Paid: { aggregateType: 'order', schema: z.object({}) },
  Counted: { aggregateType: 'order', schema: z.object({}) },
  Noted: { aggregateType: 'order', schema: z.object({}) },
  OrderPaid: { aggregateType: 'order', schema: z.object({}) },
};

async function setup(doc: Record<string, unknown>, maxAppliedKeys?: number) {
  const collection = `orders_${randomUUID().slice(0, 8)}`;
  const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease, ...(maxAppliedKeys ? { maxAppliedKeys } : {}) });
  const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
  await docs.insertOne({ _id: 'o-1', ...doc });
  const read = async () => (await docs.findOne({ _id: 'o-1' }))!;
  const types = async () => ((await read())._outbox as Array<{ t: string }> | undefined)?.map((e) => e.t) ?? [];
  return { store, docs, read, types, orders: outbox({ events, store }) };
}

describe('embedded mode, request keys numbered per key', () => {
  it('a given requestKey is the same key whether or not a call under another key ran first on the document', async () => {
    const { orders, read, types } = await setup({ status: 'open', paid: 0 });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      if ((input as { touch: boolean }).touch) await ctx.outbox.updateOne({ _id: 'o-1', status: 'stale' }, { $set: { status: 'closed' } });
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return (await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { paid: 10 } }, { requestKey: 'pay-42' })).duplicate;
    });
    await expect(fn.invoke({ touch: true }, { deliveryId: 'msg-A' })).resolves.toBe(false);
    await expect(fn.invoke({ touch: false }, { deliveryId: 'msg-B' })).resolves.toBe(true);
    expect((await read()).paid).toBe(10);
    expect(await types()).toEqual(['Paid']);
  });

  it('events added after an update under a given key are written under that key\'s next number, once across deliveries', async () => {
    const { orders, read, types } = await setup({ status: 'open', paid: 0 });
    const fn = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      if ((input as { touch: boolean }).touch) await ctx.outbox.updateOne({ _id: 'o-1', status: 'stale' }, { $set: { status: 'closed' } });
      const paid = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { paid: 10 } }, { requestKey: 'pay-43' });
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return paid.duplicate;
    });
    await expect(fn.invoke({ touch: true }, { deliveryId: 'msg-C' })).resolves.toBe(false);
    await expect(fn.invoke({ touch: false }, { deliveryId: 'msg-D' })).resolves.toBe(true);
    expect((await read()).paid).toBe(10);
    expect(await types()).toEqual(['Paid']);
    expect((await read())._outboxApplied).toEqual(['pay-43', 'pay-43#1']);
  });
});

describe('embedded mode, a recorded miss never evicts an applied key', () => {
  it('maxAppliedKeys 2, one applied update and two misses: the redelivery finds the update applied (n written once)', async () => {
    const { orders, read, types } = await setup({ status: 'open', n: 0 }, 2);
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      ctx.outbox.add({ type: 'Counted', aggregateId: 'o-1', payload: {} });
      const a = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } });
      const b = await ctx.outbox.updateOne({ _id: 'o-1', status: 'closed' }, { $set: { x: 1 } });
      const c = await ctx.outbox.updateOne({ _id: 'o-1', status: 'closed' }, { $set: { y: 1 } });
      return [a.duplicate, b.matched, c.matched];
    });
    await expect(fn.invoke({}, { deliveryId: 'd-1' })).resolves.toEqual([false, false, false]);
    await expect(fn.invoke({}, { deliveryId: 'd-1' })).resolves.toEqual([true, false, false]);
    expect(await read()).toMatchObject({ n: 1 });
    expect(await types()).toEqual(['Counted']);
  });

  it('the misses stay recorded: the document coming to match their filters still answers matched: false', async () => {
    const { orders, docs, read } = await setup({ status: 'open', n: 0 }, 2);
    const fn = handler({ use: [orders], logSink: () => undefined }, async (_input: unknown, ctx) => {
      const a = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } });
      const b = await ctx.outbox.updateOne({ _id: 'o-1', status: 'closed' }, { $set: { x: 1 } });
      return [a.duplicate, b.matched];
    });
    await expect(fn.invoke({}, { deliveryId: 'd-2' })).resolves.toEqual([false, false]);
    await docs.updateOne({ _id: 'o-1' }, { $set: { status: 'closed' } });
    await expect(fn.invoke({}, { deliveryId: 'd-2' })).resolves.toEqual([true, false]);
    const doc = await read();
    expect(doc).toMatchObject({ n: 1 });
    expect(doc.x).toBeUndefined();
  });
});

describe('the outbox reserves its own fields only', () => {
  it('alsoSet and updateOne may set _outboxedAt (kept by ctx.outbox.read); _outboxAnswers.x and _outboxMissed are refused', async () => {
    const { orders, store, read } = await setup({ status: 'validated' });
    const at = new Date('2026-12-07T12:00:00.000Z');
    let extra: Record<string, unknown> = { _outboxedAt: at };
    const flow = transitions({ table: { validated: ['paid'], paid: [] }, store, alsoSet: () => extra });
    const refusal = (e: unknown) => ({ code: (e as { code?: unknown }).code });
    const pay = handler({ use: [orders, flow], logSink: () => undefined }, async (_input: unknown, ctx) =>
      ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }).then(() => 'paid', refusal),
    );
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('paid');
    expect(await read()).toMatchObject({ status: 'paid', _outboxedAt: at });
    const touch = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      const outcome = await ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { [(input as { field: string }).field]: 2 } }).then(() => 'written', refusal);
      return { outcome, read: await ctx.outbox.read('o-1') };
    });
    await expect(touch.invoke({ field: '_outboxedBy' }, { deliveryId: randomUUID() })).resolves.toMatchObject({ outcome: 'written', read: { _outboxedBy: 2, _outboxedAt: at } });
    for (const field of ['_outboxAnswers.x', '_outboxMissed', '_outbox.0']) {
      await expect(touch.invoke({ field }, { deliveryId: randomUUID() }), field).resolves.toMatchObject({ outcome: { code: 'OUTBOX_EVENT_INVALID' } });
    }
    extra = { '_outboxAnswers.x': 1 };
    const flow2 = handler({ use: [orders, transitions({ table: { paid: ['validated'], validated: [] }, store, alsoSet: () => extra })], logSink: () => undefined }, async (_input: unknown, ctx) =>
      ctx.transition('o-1', 'paid', 'validated', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }).then(() => 'moved', refusal),
    );
    await expect(flow2.invoke({}, { deliveryId: randomUUID() })).resolves.toEqual({ code: 'CONFIG_INVALID' });
    expect((await read()).status).toBe('paid');
  });
});
