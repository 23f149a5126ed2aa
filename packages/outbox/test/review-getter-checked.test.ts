/**
 * A store option given as a getter (`db: () => …`, `client: () => …`, e.g. a
 * `@steadyfn/connections` getter) was documented as "checked at first use", but only a value
 * was checked: a getter returning the wrong thing — the `MongoClient` where `client.db(name)`
 * goes, the connections handle itself where its client goes — failed each write with a
 * `TypeError` the handler answered as a retryable `INTERNAL`, and the sweep as a retryable
 * `OUTBOX_STORE_UNAVAILABLE`. The getter's result is now checked as a value is: a
 * `ConfigurationError` (`CONFIG_INVALID`) naming the option, before anything is written.
 * Real FerretDB and Redis.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, redisOutbox } from '../src/index.js';
import { openMongo, openRedis, runCtx, scriptedSender, type MongoBackend, type RedisBackend } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
let mongo: MongoBackend;
let redis: RedisBackend;
beforeAll(async () => {
  [mongo, redis] = await Promise.all([openMongo(), openRedis('redis')]);
});
afterAll(async () => {
  await Promise.all([mongo?.close(), redis?.close()]);
});

/** What the invocation answered: the handler's answer carries the code, not the option (no details in answers). */
const invocation = (promise: Promise<unknown>) => promise.then(() => ({ code: 'none' }), (e: { code?: unknown; retryable?: unknown }) => ({ code: e?.code, retryable: e?.retryable }));
const direct = (promise: Promise<unknown>) => promise.then(() => ({ code: 'none' }), (e: { code?: unknown; field?: unknown }) => ({ code: e?.code, field: e?.field }));

describe('a store getter returning the wrong thing', () => {
  it('embedded db: () => the MongoClient is CONFIG_INVALID naming db, for the write and the sweep; nothing written', async () => {
    const store = mongoEmbeddedOutbox({ db: () => mongo.client as never, collection: 'orders', aggregateType: 'order', atomicity: 'server' });
    const box = outbox({ events, store, relay: { sender: scriptedSender(), lease: mongo.lease, flush: false } });
    const pay = handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } });
    });
    expect(await invocation(pay.invoke({}))).toEqual({ code: 'CONFIG_INVALID', retryable: false });
    expect(await direct(box.sweep(runCtx()))).toEqual({ code: 'CONFIG_INVALID', field: 'db' });
    expect(await direct(store.collection())).toEqual({ code: 'CONFIG_INVALID', field: 'db' });
    expect(await mongo.db.collection('orders').countDocuments({})).toBe(0);
  });

  it('transaction client: () => a Db is CONFIG_INVALID naming client (FerretDB has no transactions: the store\'s own client() is what a write starts its session on)', async () => {
    const store = mongoTransactionOutbox({ client: () => mongo.db as never, db: mongo.db });
    expect(await direct(store.client())).toEqual({ code: 'CONFIG_INVALID', field: 'client' });
    expect(await mongoTransactionOutbox({ client: () => mongo.client, db: mongo.db }).client()).toBe(mongo.client);
  });

  it('redis client: () => a connections handle is CONFIG_INVALID naming client; a getter of the client writes', async () => {
    const handle = { name: 'redis', acquire: async () => redis.client, get: async () => redis.client };
    const write = (client: () => unknown) =>
      handler({ use: [outbox({ events, store: redisOutbox({ client: client as never, prefix: redis.prefix }) })], logSink: () => undefined }, async (_input, ctx) => {
        ctx.outbox.call('SET', `${redis.prefix}order:{o-3}`, 'paid');
        ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-3', payload: {} });
        return { ok: true };
      });
    expect(await invocation(write(() => handle).invoke({}))).toEqual({ code: 'CONFIG_INVALID', retryable: false });
    expect(await direct(redisOutbox({ client: (() => handle) as never, prefix: redis.prefix }).client())).toEqual({ code: 'CONFIG_INVALID', field: 'client' });
    expect(await redis.client.exists(`${redis.prefix}order:{o-3}`)).toBe(0);
    expect(await write(() => handle.get()).invoke({})).toEqual({ ok: true });
  });

  it('redis client: the sweep\'s refusal names redisOutbox, the function the user called (it named the internal redisRelayStore)', async () => {
    const handle = { name: 'redis', acquire: async () => redis.client, get: async () => redis.client };
    const box = outbox({ events, store: redisOutbox({ client: (() => handle) as never, prefix: redis.prefix }), relay: { sender: scriptedSender(), lease: redis.lease } });
    const failure = await box.sweep(runCtx()).then(() => undefined, (e: unknown) => e as { code?: unknown; field?: unknown; message?: unknown });
    expect(failure).toMatchObject({ code: 'CONFIG_INVALID', field: 'client' });
    expect(failure?.message).toMatch(/^redisOutbox\(\)/);
  });
});
