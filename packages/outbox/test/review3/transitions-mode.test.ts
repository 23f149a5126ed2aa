/**
 * Review finding (transitions() with a Redis store and no redisKey): nothing said so until the
 * first invocation, whose transition then failed with a ConfigurationError — a deploy that
 * passed every definition-time check broke on its first message. `transitions()` now takes
 * the outbox's `store`, whose mode says which option it needs, and checks it when called.
 */
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../../test/support/config-errors.js';
import { handler } from '@steadyfn/handler';
import { z } from 'zod';
import { mongoEmbeddedOutbox, mongoTransactionOutbox, outbox, redisOutbox, transitions } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:1', { lazyConnect: true });
const mongo = new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:1/');
const db = mongo.db('never_used');
afterAll(async () => {
  redis.disconnect();
  await mongo.close();
});
const table = { validated: ['paid'], paid: [] };
const collection = () => db.collection('orders') as never;

describe('transitions() checks what its store mode needs when it is called', () => {
  it('Redis store without redisKey; transaction store without collection', () => {
    expectOptionRefused(() => transitions({ table, store: redisOutbox({ client: redis }) }), 'transitions', 'redisKey', ['the store is redis']);
    expectOptionRefused(() => transitions({ table, store: mongoTransactionOutbox({ client: mongo, db }) }), 'transitions', 'collection', ['the store is mongo-transaction']);
  });

  it("another mode's option, and a missing or foreign store, are refused too", () => {
    expectOptionRefused(() => transitions({ table, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order' }), redisKey: (id) => id }), 'transitions', 'redisKey', ['Redis mode']);
    expectOptionRefused(() => transitions({ table, store: redisOutbox({ client: redis }), redisKey: (id) => id, collection }), 'transitions', 'collection');
    expectOptionRefused(() => transitions({ table } as never), 'transitions', 'store');
    expectOptionRefused(() => transitions({ table, store: redis as never }), 'transitions', 'store');
  });

  it('each mode with what it needs is accepted', () => {
    expect(() => transitions({ table, store: redisOutbox({ client: redis }), redisKey: (id) => `order:{${id}}` })).not.toThrow();
    expect(() => transitions({ table, store: mongoTransactionOutbox({ client: mongo, db }), collection })).not.toThrow();
    expect(() => transitions({ table, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order' }) })).not.toThrow();
  });

  it('an outbox listed before it with a store of another mode fails the transition before anything is written', async () => {
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store: redisOutbox({ client: redis }) });
    const flow = transitions({ table, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order' }) });
    const logged: string[] = [];
    const fn = handler({ use: [orders, flow], logSink: (line) => void logged.push(String(line)) }, (_input, ctx) => ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }));
    // The answer hides a configuration error's details; the log names the field.
    await expect(fn.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(logged.join('\n')).toContain('"field":"store"');
  });
});
