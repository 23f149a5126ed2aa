/**
 * New-user trial finding (Redis-mode transitions): `alsoSet`'s own TSDoc suggests
 * `{ [`${to}At`]: new Date() }`, and in Redis mode every value that was not a string or a number
 * went through `JSON.stringify` — so a `Date` was stored with its JSON quotes
 * (`"\"2026-12-02T15:00:00.000Z\""`), which `new Date(value)` reads as Invalid Date. A `Date` is
 * now stored as its ISO string, as the envelope writes a `Date` in a payload; booleans as
 * `true`/`false`; other objects stay JSON text. Redis.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, transitions } from '../src/index.js';
import { openRedis, type RedisBackend } from './support.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

describe('Redis-mode transitions: alsoSet values in the hash', () => {
  it('a Date is kept as its ISO string, readable back as the same instant', async () => {
    const key = (id: string) => `${backend.prefix}order:{${id}}`;
    const store = redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` });
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
    const at = new Date('2026-12-02T15:00:00.000Z');
    const flow = transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: key, alsoSet: (_from, to) => ({ [`${to}At`]: at, audited: true, by: 'api', tries: 2, meta: { via: 'card' } }) });
    const pay = handler({ use: [orders, flow], logSink: () => undefined }, async (_input, ctx) => ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }));
    await backend.client.hset(key('o-1'), 'status', 'validated');
    await pay.invoke({}, { deliveryId: 'd-1' });
    const hash = await backend.client.hgetall(key('o-1'));
    expect(hash).toEqual({ status: 'paid', paidAt: '2026-12-02T15:00:00.000Z', audited: 'true', by: 'api', tries: '2', meta: '{"via":"card"}' });
    expect(new Date(hash.paidAt!).getTime()).toBe(at.getTime());
  });
});
