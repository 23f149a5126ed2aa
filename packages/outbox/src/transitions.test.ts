import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { openMongo, openRedis, type MongoBackend, type RedisBackend } from '../test/support.js';
import { outbox } from './plugin.js';
import { transitions } from './transitions.js';
import { mongoEmbeddedOutbox } from './stores/mongo-embedded.js';
import { redisOutbox } from './stores/redis.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;
const input = z.object({ id: z.string(), from: z.string(), to: z.string() });

describe('transitions', () => {
  let mongo: MongoBackend;
  let redis: RedisBackend;
  beforeAll(async () => {
    mongo = await openMongo();
    redis = await openRedis('redis');
  });
  afterAll(async () => {
    await mongo.close();
    await redis.close();
  });

  it('checks the table up front', () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'orders', aggregateType: 'order', writeLease: mongo.lease });
    expect(() => transitions({ table: { a: ['b'] } as never, store })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => transitions({ table, store, field: '_outboxSeq' })).toThrow(/field/);
  });

  it('embedded: moves the document and records the event; illegal and lost races are typed 409s', async () => {
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'orders', aggregateType: 'order', writeLease: mongo.lease });
    const fn = handler({ input, use: [outbox({ events, store }), transitions({ table, store })] }, async (i, ctx) => {
      return ctx.transition(i.id, i.from as never, i.to as never, { type: 'OrderPaid', aggregateId: i.id, payload: {} });
    });
    await mongo.db.collection('orders').insertOne({ _id: 't-1' as never, status: 'validated' });
    await expect(fn.invoke({ id: 't-1', from: 'validated', to: 'paid' })).resolves.toEqual({ duplicate: false });
    expect(await mongo.db.collection('orders').findOne({ _id: 't-1' as never })).toMatchObject({ status: 'paid', _outboxSeq: 1 });
    await expect(fn.invoke({ id: 't-1', from: 'validated', to: 'dispatched' })).rejects.toMatchObject({ code: 'TRANSITION_ILLEGAL' });
    const lost = fn.invoke({ id: 't-1', from: 'validated', to: 'paid' });
    await expect(lost).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT', message: expect.stringContaining('it is "paid"') });
    expect(await mongo.db.collection('orders').findOne({ _id: 't-1' as never })).toMatchObject({ _outboxSeq: 1 });
  });

  it('Redis: the check and the move are one script; a lost race is TRANSITION_CONFLICT and writes nothing', async () => {
    const key = (id: string) => `${redis.prefix}order:{${id}}`;
    const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
    const fn = handler({ input, use: [outbox({ events, store }), transitions({ table, store, redisKey: key })] }, async (i, ctx) => {
      return ctx.transition(i.id, i.from as never, i.to as never, { type: 'OrderPaid', aggregateId: i.id, payload: {} });
    });
    await redis.client.hset(key('t-2'), 'status', 'validated');
    await fn.invoke({ id: 't-2', from: 'validated', to: 'paid' });
    expect(await redis.client.hget(key('t-2'), 'status')).toBe('paid');
    await expect(fn.invoke({ id: 't-2', from: 'validated', to: 'paid' })).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT' });
    expect(await redis.client.xlen(`${redis.prefix}{t-2}:events`)).toBe(1);
  });
});
