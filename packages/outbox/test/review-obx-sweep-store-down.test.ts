/**
 * Review finding (fresh-eyes review, obx): `sweep()` is documented never to throw for a store
 * or queue failure (what is not relayed waits for the next sweep), but two store calls outside
 * the relay's rounds were not guarded:
 * - the outbox store unreachable when the sweep lists its pending aggregates: the client's raw
 *   error escaped (an untyped 500 `INTERNAL` from the sweeper function). It is now the typed
 *   `OUTBOX_STORE_UNAVAILABLE` (503, retryable), nothing relayed — the sweeper's own failure
 *   is the alarm that its store is gone;
 * - the lease store unreachable: the relay's rounds stopped as documented (warned, events kept
 *   pending), and then the `mark: 'sent'` cleanup's lease claim threw, failing the whole sweep
 *   after its rounds and losing its result. The cleanup now waits for the next sweep, warned,
 *   like the partition pruning.
 * Redis on 16379, with a client of a Redis that is not there (port 1) for the store that fails.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from './support.js';

let redis: RedisBackend;
let sqs: SQSClient;
let dead: Redis;
beforeAll(async () => {
  redis = await openRedis('redis');
  sqs = await sqsClient('moto');
  // Nothing listens on port 1: every command fails at once.
  dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  dead.on('error', () => undefined);
});
afterAll(async () => {
  dead?.disconnect();
  await redis?.close();
  sqs?.destroy();
});

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

function relayContext() {
  const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const log = { debug() {}, info() {}, error() {}, warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
  return { ctx: { signal: new AbortController().signal, remainingMs: () => 30_000, log: log as never }, warnings };
}

describe('sweep() with a store that cannot be reached', () => {
  it('outbox store: a typed OUTBOX_STORE_UNAVAILABLE, not the client error', async () => {
    const queue = await createQueue(sqs);
    const orders = outbox({ events, store: redisOutbox({ client: dead }), relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease } });
    const failure = await orders.sweep(relayContext().ctx).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'OUTBOX_STORE_UNAVAILABLE', status: 503, retryable: true });
    await queue.remove();
  });

  it('lease store: the sweep returns (events pending, cleanup put off, both warned) instead of throwing', async () => {
    const queue = await createQueue(sqs);
    const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}outbox:`, mark: 'sent' });
    const write = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
    });
    await write.invoke({}, { deliveryId: randomUUID() });

    const { ctx, warnings } = relayContext();
    const cut = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redisLeaseStore({ client: dead }), sweep: { graceMs: 0 } } });
    const swept = await cut.sweep(ctx);
    expect(swept).toMatchObject({ found: 1, cleaned: 0, metrics: { sent: 0 } });
    expect(warnings.map((w) => w.msg)).toEqual(expect.arrayContaining(['outbox relay stopped; pending events stay for the next flush or sweep', 'outbox sent-event cleanup stopped; it goes on next sweep']));

    // Once the lease store is back, the next sweep sends the event.
    const back = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease, sweep: { graceMs: 0 } } });
    expect((await back.sweep(relayContext().ctx)).metrics.sent).toBe(1);
    expect((await drainQueue(sqs, queue.url)).map((m) => (JSON.parse(m.Body!) as { aggregateId: string }).aggregateId)).toEqual(['o-1']);
    await queue.remove();
  });
});
