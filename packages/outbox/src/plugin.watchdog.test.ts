/**
 * The watchdog: a function armed a delayed message before its commit and died before its
 * flush; when the relay queue delivers the message, its consumer relays what is pending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createQueue, drainQueue, eventually, openRedis, sqsClient, type RedisBackend } from '../test/support.js';
import { receiveAll } from '../test/sqs-servers.js';
import { outbox } from './plugin.js';
import { outboxWatchdog, sqsSender } from './sqs.js';
import { redisOutbox } from './stores/redis.js';
import type { Sender } from './relay/types.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

describe('watchdog (fauxqs)', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  let relayQueue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient('fauxqs');
    queue = await createQueue(sqs);
    relayQueue = await createQueue(sqs);
  });
  afterAll(async () => {
    await queue?.remove();
    await relayQueue?.remove();
    await redis?.close();
  });

  it('recovers events whose flush died, within the watchdog delay', { timeout: 60_000 }, async () => {
    const real = sqsSender({ client: sqs, queueUrl: queue.url });
    let dead = true;
    const dying: Sender = { fifo: false, send: async (m, o) => (dead ? Promise.reject(new Error('killed before the flush')) : real.send(m, o)) };
    const lease = redis.lease;
    const make = (sender: Sender) =>
      outbox({ name: 'orders', events, store: redisOutbox({ client: redis.client, prefix: redis.prefix }), relay: { sender, lease }, watchdog: outboxWatchdog({ client: sqs, queueUrl: relayQueue.url, delayMs: 1000 }) });
    const pay = handler({ use: [make(dying)] }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${redis.prefix}order:{wd-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'wd-1', payload: {} });
    });
    const committedAt = Date.now();
    await pay.invoke({});
    expect(await drainQueue(sqs, queue.url, 1)).toHaveLength(0);
    dead = false;
    // The relay queue's consumer.
    const consumer = make(real);
    let watchdogMessages: Array<{ Body?: string }> = [];
    await eventually(async () => (watchdogMessages = await receiveAll(sqs, relayQueue.url, 1, 200)).length > 0, 20_000, 100);
    const waited = Date.now() - committedAt;
    const metrics = await consumer.relayWatchdog({ signal: new AbortController().signal, remainingMs: () => 30_000, log: console as never }, watchdogMessages[0]!.Body);
    expect(metrics?.sent).toBe(1);
    const sent = await drainQueue(sqs, queue.url);
    expect(sent.map((m) => JSON.parse(m.Body!).aggregateId)).toEqual(['wd-1']);
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(await consumer.relayWatchdog({ signal: new AbortController().signal, remainingMs: () => 30_000, log: console as never }, '{"not":"a watchdog"}')).toBeUndefined();
  });
});
