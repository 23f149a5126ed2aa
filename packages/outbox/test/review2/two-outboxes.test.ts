/**
 * Review finding: two outbox plugins in one handler's `use` were accepted; the second replaced
 * `ctx.outbox`, so the first's event types failed as undeclared (`OUTBOX_EVENT_INVALID`, a 500
 * "Internal error" that says nothing about the cause) and the first's store was never written.
 * The second outbox now refuses with a `ConfigurationError` naming `use` (terminal).
 */
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:1', { lazyConnect: true });
afterAll(() => redis.disconnect());

describe('two outbox plugins in one handler', () => {
  it('the second is refused as a ConfigurationError naming use, before the function runs', async () => {
    const orders = outbox({ name: 'orders', events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store: redisOutbox({ client: redis }) });
    const payments = outbox({ name: 'payments', events: { Charged: { aggregateType: 'payment', schema: z.object({}) } }, store: redisOutbox({ client: redis }) });
    let ran = false;
    const fn = handler({ use: [orders, payments], logSink: () => undefined }, async () => {
      ran = true;
    });
    const error = await fn.invoke({}, { deliveryId: 'd-1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(ran).toBe(false);
  });

  it('one outbox per handler still runs', async () => {
    const orders = outbox({ name: 'orders', events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store: redisOutbox({ client: redis }) });
    const fn = handler({ use: [orders], logSink: () => undefined }, async () => 'ok');
    // Twice: a warm invocation gets a ctx of its own.
    await expect(fn.invoke({}, { deliveryId: 'd-2' })).resolves.toBe('ok');
    await expect(fn.invoke({}, { deliveryId: 'd-3' })).resolves.toBe('ok');
  });
});
