/**
 * `relay.leaseMs` against `writeWaitMs` with `atomicity: 'auto'` (the default) and a
 * `writeLease`, on the real FerretDB: `outbox()` no longer refuses such a lease up front (on
 * MongoDB, where 'auto' never takes the write lease, it is fine — it was refused there too);
 * it is refused once the server turns out to take the write lease, on the relay's own path —
 * the function's `ctx.outbox.updateOne` before it writes, and a relay entry point before it
 * reads or sends. The relay harnesses that call `relayAggregates` directly skip this check;
 * this test goes through `outbox()` and a real relay run instead.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { memoryLeaseStore } from '@steadyfn/lease';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox } from '../src/index.js';
import { runCtx, scriptedSender, useMongo } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

const mongo = useMongo();

describe("relay.leaseMs with atomicity 'auto' on FerretDB", () => {
  it('is refused at the first write and relay run, before anything is written or sent; a long enough lease relays', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease, writeWaitMs: 5_000 });
    // The check is the subject here, not SQS: a sender that records what reaches it.
    const sender = scriptedSender();
    const relay = { sender, lease: memoryLeaseStore(), allowInProcessLease: true };
    const short = outbox({ events, store, relay: { ...relay, leaseMs: 9_999 } });
    const pay = handler({ input: z.object({ id: z.string() }), use: [short] }, async ({ id }, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
      return ctx.outbox.updateOne({ _id: id }, { $set: { status: 'paid' } }, { upsert: true });
    });
    await expect(pay.invoke({ id: 'o-1' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await mongo.db.collection(collection).countDocuments()).toBe(0);
    const ctx = runCtx();
    await expect(short.sweep(ctx)).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'relay.leaseMs', message: expect.stringContaining('option "relay.leaseMs" must be at least 10000 ms') });

    // Twice the wait: written and relayed through the same store.
    const enough = outbox({ events, store, relay: { ...relay, leaseMs: 10_000 } });
    const ok = handler({ input: z.object({ id: z.string() }), use: [enough] }, async ({ id }, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
      return ctx.outbox.updateOne({ _id: id }, { $set: { status: 'paid' } }, { upsert: true });
    });
    await expect(ok.invoke({ id: 'o-2' })).resolves.toMatchObject({ matched: true });
    expect(sender.accepted).toHaveLength(1);
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-2' as never })).toMatchObject({ status: 'paid', _outboxCount: 0 });
  });

  it('a failed server probe fails the write (retryable) or the relay run: neither goes on un-judged', async () => {
    // Before, the judge let a failed buildInfo through: the write asked again, found FerretDB,
    // wrote in lease mode and its flush relayed with the too-short lease; a relay entry point
    // relayed the same way. The write and the relay are real; only the first probe fails.
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const failingOnce = () => {
      let failed = false;
      return new Proxy(mongo.db, {
        get(target, prop) {
          if (prop === 'command' && !failed) {
            return async () => {
              failed = true;
              throw Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' });
            };
          }
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const sender = scriptedSender();
    const relay = { sender, lease: memoryLeaseStore(), allowInProcessLease: true };
    const storeOn = (db: typeof mongo.db) => mongoEmbeddedOutbox({ db, collection, aggregateType: 'order', writeLease: mongo.lease, writeWaitMs: 5_000 });
    const outboxOn = (db: typeof mongo.db, leaseMs: number, flush = true) => outbox({ events, store: storeOn(db), relay: { ...relay, leaseMs, flush } });
    const payWith = (o: ReturnType<typeof outboxOn>) =>
      handler({ input: z.object({ id: z.string() }), use: [o], logSink: () => undefined }, async ({ id }, ctx) => {
        ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
        return ctx.outbox.updateOne({ _id: id }, { $set: { status: 'paid' } }, { upsert: true });
      });

    const pay = payWith(outboxOn(failingOnce(), 9_999));
    await expect(pay.invoke({ id: 'o-1' })).rejects.toMatchObject({ code: 'OUTBOX_STORE_UNAVAILABLE', retryable: true });
    await expect(pay.invoke({ id: 'o-1' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await mongo.db.collection(collection).countDocuments()).toBe(0);
    expect(sender.accepted).toEqual([]);

    // An event written with a long enough lease (no flush), then a short-lease relay entry point.
    await expect(payWith(outboxOn(mongo.db, 10_000, false)).invoke({ id: 'o-2' })).resolves.toMatchObject({ matched: true });
    const short = outboxOn(failingOnce(), 9_999);
    const ctx = runCtx();
    await expect(short.sweep(ctx)).rejects.toMatchObject({ code: 'OUTBOX_STORE_UNAVAILABLE', retryable: true, message: expect.stringContaining('nothing was relayed') });
    await expect(short.sweep(ctx)).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'relay.leaseMs' });
    expect(sender.accepted).toEqual([]);
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-2' as never })).toMatchObject({ _outboxCount: 1 });
  });
});
