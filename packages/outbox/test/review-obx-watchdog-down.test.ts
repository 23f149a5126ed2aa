/**
 * Review finding (fresh-eyes review, obx): the watchdog's delayed message is sent before the
 * commit (sent after, a crash in between would leave nothing to recover the events), so a
 * relay queue that cannot be reached stops the write — by design, but undocumented, and the
 * invocation failed with the SQS client's raw error: an untyped 500 `INTERNAL` naming nothing.
 * It is now `OUTBOX_SQS_WATCHDOG_UNAVAILABLE` (503; retryable unless SQS refused for good —
 * queue missing, access denied), nothing written, and the README says so. Redis, with a relay
 * queue endpoint nobody listens on, then a real one on moto.
 */
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { outboxWatchdog } from '@steadyfn/outbox/sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, drainQueue, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

describe('the watchdog queue cannot be reached before the commit', () => {
  it('fails the write typed, nothing written; with the queue back the write and its watchdog message go through', async () => {
    const { redis, sqs } = servers;
    const prefix = `${redis.prefix}outbox:`;
    const unreachable = new SQSClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const pay = (watchdog: ReturnType<typeof outboxWatchdog>) =>
      handler({ use: [outbox({ name: 'orders', events, store: redisOutbox({ client: redis.client, prefix }), watchdog })], logSink: () => undefined }, async (_input, ctx) => {
        ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'status', 'paid');
        ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
        return 'paid';
      });

    const failure = await pay(outboxWatchdog({ client: unreachable, queueUrl: 'http://127.0.0.1:1/000000000000/relay', delayMs: 0 }))
      .invoke({}, { deliveryId: randomUUID() })
      .then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'OUTBOX_SQS_WATCHDOG_UNAVAILABLE', retryable: true });
    expect(await redis.client.hget(`${redis.prefix}order:{o-1}`, 'status')).toBeNull();
    expect(await redis.client.exists(`${prefix}{o-1}:events`)).toBe(0);
    unreachable.destroy();

    const relayQueue = await createQueue(sqs);
    await expect(pay(outboxWatchdog({ client: sqs, queueUrl: relayQueue.url, delayMs: 0 })).invoke({}, { deliveryId: randomUUID() })).resolves.toBe('paid');
    expect(await redis.client.hget(`${redis.prefix}order:{o-1}`, 'status')).toBe('paid');
    expect((await drainQueue(sqs, relayQueue.url)).map((m) => (JSON.parse(m.Body!) as { outbox: string }).outbox)).toEqual(['orders']);
    await relayQueue.remove();
  });
});
