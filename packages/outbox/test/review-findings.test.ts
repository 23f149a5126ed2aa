/**
 * Review finding: a wrong event declaration given to `outbox()` (no schema, a bad type or
 * aggregate type name, `schemaVersion: 0`) threw `EventInvalidError` (`OUTBOX_EVENT_INVALID`,
 * the error of a bad event at run time) instead of the `ConfigurationError` every other
 * factory throws for a bad option, and named the field `type` instead of the declaration.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '@steadyfn/handler';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { closeAll } from '@steadyfn/connections';
import { redis } from '@steadyfn/connections/redis';
import { redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox } from '../src/index.js';

const client = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
afterAll(async () => {
  client.disconnect();
  await closeAll();
});

function thrownBy(events: unknown): unknown {
  try {
    outbox({ events: events as never, store: redisOutbox({ client }) });
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('outbox(): event declarations are options', () => {
  it.each([
    ['no schema', { OrderPaid: { aggregateType: 'order' } }, 'events.OrderPaid.schema', 'a zod schema'],
    ['a schema that is not zod', { OrderPaid: { aggregateType: 'order', schema: {} } }, 'events.OrderPaid.schema', 'a zod schema'],
    ['a bad aggregate type', { OrderPaid: { aggregateType: 'order line', schema: z.object({}) } }, 'events.OrderPaid.aggregateType', 'an aggregate type name of 1-64 characters of A-Z a-z 0-9 . _ -'],
    ['schemaVersion 0', { OrderPaid: { aggregateType: 'order', schema: z.object({}), schemaVersion: 0 } }, 'events.OrderPaid.schemaVersion', 'an integer from 1 to 2147483647 (a CloudEvents Integer)'],
    ['a bad type name', { 'Order Paid': { aggregateType: 'order', schema: z.object({}) } }, 'events.Order Paid', 'declared under an event type name of 1-128 characters of A-Z a-z 0-9 . _ : -'],
    ['a declaration that is not an object', { OrderPaid: 'order' }, 'events.OrderPaid', 'a declaration { aggregateType, schema, schemaVersion? }'],
  ])('%s: ConfigurationError naming the declaration', (_name, events, field, expected) => {
    const error = thrownBy(events);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, field, issues: [{ field, expected }] });
    expect((error as Error).message).toMatch(/^outbox\(\): option "events\./);
  });
});

/**
 * Review finding: a `@steadyfn/connections` handle given where an ioredis client goes — the
 * likeliest mistake, since the handle is what a function keeps in module scope — was accepted
 * by `redisOutbox()` and failed every invocation with a retryable TypeError; `redisStore()`
 * refused it under another factory's name (`redisLeaseStore()`). Each factory refuses it in its
 * own name and says to pass the getter.
 */
describe('a connections handle where a Redis client goes', () => {
  const handle = redis({ url: process.env.REDIS_URL! });
  it.each([
    ['redisOutbox', () => redisOutbox({ client: handle as never })],
    ['redisStore', () => redisStore({ client: handle as never })],
    ['redisLeaseStore', () => redisLeaseStore({ client: handle as never })],
  ])('%s() refuses it, naming itself and the getter to pass', (owner, make) => expectOptionRefused(make, owner, 'client', ['() => handle.get()']));

  it('the getter works: an outbox write through the handle', async () => {
    const prefix = `review-${Date.now().toString(36)}:`;
    const store = redisOutbox({ client: () => handle.get(), prefix });
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
    const { handler } = await import('@steadyfn/handler');
    const main = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('SET', `${prefix}order:{o-9}`, 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-9', payload: {} });
      return 'ok';
    });
    await expect(main.invoke({}, { deliveryId: 'd-9' })).resolves.toBe('ok');
    const r = await handle.get();
    expect(await r.get(`${prefix}order:{o-9}`)).toBe('paid');
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
  });
});
