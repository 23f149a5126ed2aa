/**
 * New-user trial finding (Redis mode): a staged command or check without a string key — a
 * forgotten key (`ctx.outbox.call('DEL')`), a helper that returned `undefined`, a number — or
 * an unsupported command without one (`ctx.outbox.call('FLUSHALL')`) failed the invocation
 * with an untyped 500 `INTERNAL` ("Internal error"): the write read every key's hash tag to
 * choose its partition before it checked the keys, and reading a tag of `undefined` threw a
 * `TypeError`. The checks that name the field (`commands.0.key`, `checks.0.key`, `commands.0`)
 * existed but ran after. They now run first: `OUTBOX_EVENT_INVALID` naming the field, nothing
 * written. Redis.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../src/index.js';
import { openRedis, type RedisBackend } from './support.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

type Staging = { call: (...command: unknown[]) => void; check: (check: unknown) => void };

describe('Redis mode: commands and checks without a string key', () => {
  it.each<[string, (o: Staging, key: string) => void, string]>([
    ['call without a key', (o) => o.call('DEL'), 'commands.0.key'],
    ['call with an undefined key', (o) => o.call('HSET', undefined, 'status', 'paid'), 'commands.0.key'],
    ['call with a number key', (o) => o.call('SET', 42, 'v'), 'commands.0.key'],
    ['an unsupported command', (o) => o.call('FLUSHALL'), 'commands.0'],
    ['a later command without a key', (o, key) => (o.call('HSET', key, 'a', '1'), o.call('DEL')), 'commands.1.key'],
    ['check with an undefined key', (o) => o.check({ key: undefined, field: 'status', equals: 'validated' }), 'checks.0.key'],
  ])('%s: OUTBOX_EVENT_INVALID naming the field, nothing written', async (_name, stage, field) => {
    const prefix = `${backend.prefix}outbox:`;
    const key = `${backend.prefix}order:{o-1}`;
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store: redisOutbox({ client: backend.client, prefix }) });
    const lines: string[] = [];
    const pay = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (_input, ctx) => {
      stage(ctx.outbox as unknown as Staging, key);
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
    });
    const error = await pay.invoke({}, { deliveryId: `d-${field}` }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    // The invocation's error log names the field (the answer itself exposes no details of a 500).
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field }] });
    expect(await backend.client.exists(key, `${prefix}{o-1}:events`)).toBe(0);
  });
});
