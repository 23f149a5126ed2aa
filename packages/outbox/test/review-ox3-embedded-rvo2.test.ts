/**
 * Review findings (rvo2) on embedded mode, FerretDB:
 * - D1: with atomicity 'server', the update pins `_outboxSeq` and `_outboxApplied` as read. A
 *   concurrent update of the document that adds no events still appends its request key to
 *   `_outboxApplied` without moving the seq; our update then missed the pin, the re-read saw the
 *   seq unchanged and answered `matched: false` though the author's filter matched — events taken
 *   back, state change lost. A moved applied list is now a race like a moved seq: read again.
 * - D2: a plugin listed before the outbox that runs the function again (a retrying `wrap`) got
 *   an update keyed `<key>#1` on the re-run (the first run's key still counted): not in the
 *   document's applied list, so the change was applied twice with a second event, and a
 *   transition was refused with TRANSITION_CONFLICT instead of answering duplicate. Each run now
 *   numbers its updates from `<key>` again.
 * - D3: `updateOne({ _id }, {})` (or an operator mapping no field) reached the driver, which
 *   refuses an empty update: a retryable INTERNAL. It is now OUTBOX_EVENT_INVALID naming `update`.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, transitions } from '../src/index.js';
import { useMongo, withUpdateOneHook } from './support.js';

const mongo = useMongo();

/** A plugin listed before the outbox that runs the function once more when it throws. */
const retryOnce = { name: 'retry-once', async wrap(_c: unknown, next: () => Promise<unknown>) { try { return await next(); } catch { return next(); } } } as unknown as Plugin;

describe('embedded mode: a concurrent update without events (atomicity server)', () => {
  it('moving only the applied list between our read and our update is a race, not matched: false', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, status: 'open' });
    const events = { Paid: { aggregateType: 'order', schema: z.object({}) } };
    const plainStore = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', atomicity: 'server' });
    // Another writer: no events, its own request key (the delivery id).
    const a = handler({ use: [outbox({ events, store: plainStore })], logSink: () => undefined }, async (_i: unknown, ctx) => ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { views: 1 } }));
    let injected = false;
    // Its whole invocation runs between our read of the outbox fields and our update.
    const db = withUpdateOneHook(mongo.db, collection, async () => {
      if (injected) return;
      injected = true;
      await a.invoke({}, { deliveryId: randomUUID() });
    });
    const bStore = mongoEmbeddedOutbox({ db, collection, aggregateType: 'order', atomicity: 'server' });
    const b = handler({ use: [outbox({ events, store: bStore })], logSink: () => undefined }, async (_i: unknown, ctx) => {
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      const r = await ctx.outbox.updateOne({ _id: 'o-1', status: 'open' }, { $set: { status: 'paid' } });
      return { matched: r.matched, events: r.events.length };
    });
    expect(await b.invoke({}, { deliveryId: randomUUID() })).toEqual({ matched: true, events: 1 });
    expect(injected).toBe(true);
    const doc = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect(doc).toMatchObject({ status: 'paid', views: 1, _outboxSeq: 1 });
    expect(doc?._outboxApplied).toHaveLength(2);
  });
});

describe('embedded mode: a plugin before the outbox runs the function again', () => {
  it('updateOne: the re-run finds its update applied (duplicate), nothing written twice', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, n: 0 });
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    let runs = 0;
    const fn = handler({ use: [retryOnce, outbox({ events: { Bumped: { aggregateType: 'order', schema: z.object({}) } }, store })], logSink: () => undefined }, async (_i: unknown, ctx) => {
      runs++;
      ctx.outbox.add({ type: 'Bumped', aggregateId: 'o-1', payload: {} });
      const r = await ctx.outbox.updateOne({ _id: 'o-1' }, { $inc: { n: 1 } });
      if (runs === 1) throw new Error('transient after the write');
      return { duplicate: r.duplicate };
    });
    expect(await fn.invoke({}, { deliveryId: randomUUID() })).toEqual({ duplicate: true });
    const doc = await mongo.db.collection(collection).findOne({ _id: 'o-1' as never });
    expect(runs).toBe(2);
    expect(doc?.n).toBe(1);
    expect(doc?._outboxSeq).toBe(1);
    expect(doc?._outboxApplied).toHaveLength(1);
  });

  it('transitions(): the re-run answers duplicate, not TRANSITION_CONFLICT', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, status: 'validated' });
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const table = { validated: ['paid'], paid: [] } as const;
    let runs = 0;
    const fn = handler(
      { use: [retryOnce, outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store }), transitions({ table, store })], logSink: () => undefined },
      async (_i: unknown, ctx) => {
        runs++;
        const r = await ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
        if (runs === 1) throw new Error('transient after the write');
        return r;
      },
    );
    expect(await fn.invoke({}, { deliveryId: randomUUID() })).toEqual({ duplicate: true });
    expect(runs).toBe(2);
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-1' as never })).toMatchObject({ status: 'paid', _outboxSeq: 1 });
  });
});

describe('embedded mode: an update without an operator', () => {
  it.each<[string, boolean]>([
    ['without events', false],
    ['with an event', true],
  ])('{} %s: OUTBOX_EVENT_INVALID (terminal) naming update, nothing written', async (_name, withEvent) => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, a: 0 });
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const lines: string[] = [];
    const fn = handler({ use: [outbox({ events: { Paid: { aggregateType: 'order', schema: z.object({}) } }, store })], logSink: (line) => void lines.push(line) }, async (_i: unknown, ctx) => {
      if (withEvent) ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, {}, { requestKey: null });
    });
    const error = await fn.invoke({}, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'update' }] });
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-1' as never })).toEqual({ _id: 'o-1', a: 0 });
  });

  it('an operator of no field is what the servers take (no change): kept, e.g. { $set: {} } to write events alone', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    await mongo.db.collection(collection).insertOne({ _id: 'o-1' as never, a: 0 });
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const fn = handler({ use: [outbox({ events: { Paid: { aggregateType: 'order', schema: z.object({}) } }, store })], logSink: () => undefined }, async (input: unknown, ctx) => {
      if ((input as { add: boolean }).add) ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1', a: 0 }, { $set: {}, $inc: {} }, { requestKey: null });
    });
    await expect(fn.invoke({ add: false }, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true, events: [] });
    await expect(fn.invoke({ add: true }, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true, events: [{ seq: 1 }] });
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-1' as never })).toMatchObject({ a: 0, _outboxSeq: 1, _outboxCount: 1 });
  });
});
