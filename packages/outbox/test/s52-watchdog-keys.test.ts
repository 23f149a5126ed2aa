/**
 * Watchdog keys, Redis :16379 and a real relay queue on moto.
 *
 * - With a watchdog on, a valid write whose watchdog key (`JSON.stringify([where, aggregate])`)
 *   passed 1,024 characters (a long partition tag and aggregate id) failed `CONFIG_INVALID`:
 *   `arm()` refuses such keys. Now the plugin arms without keys (the whole outbox), as it does
 *   past 100 keys: the write succeeds and the message relays the event.
 * - The documented manual flow sent `keys: [orderId]`, which the consumer always refused
 *   (`OUTBOX_RELAY_TARGET_INVALID`, `keys[0]`). Now `watchdogKey(where, aggregate)` builds the key
 *   the consumer reads; the flow below is the documented one, end to end.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '@steadyfn/outbox';
import * as sqsEntry from '../src/sqs.js';
import { outboxWatchdog } from '../src/sqs.js';
import { redisOutbox } from '../src/stores/redis.js';
import { createQueue, drainQueue, openRedis, runCtx, scriptedSender, sqsClient, tickEvents, type RedisBackend } from './support.js';

describe('watchdog keys (Redis, moto)', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  let relayQueue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient('moto');
    relayQueue = await createQueue(sqs);
  });
  afterAll(async () => {
    await relayQueue?.remove();
    await redis?.close();
  });

  function setup(sender = scriptedSender()) {
    const prefix = `${redis.prefix}${randomUUID().slice(0, 6)}:`;
    const watchdog = outboxWatchdog({ client: sqs, queueUrl: relayQueue.url, delayMs: 0 });
    const box = outbox({ name: 'ticks', events: tickEvents, store: redisOutbox({ client: redis.client, prefix }), relay: { sender, lease: redis.lease, flush: false }, watchdog });
    return { prefix, watchdog, box, sender };
  }

  it('a write whose watchdog key passes 1,024 characters succeeds, arming the whole outbox; the message relays it', { timeout: 30_000 }, async () => {
    const { prefix, box, sender } = setup();
    const tag = `p${'t'.repeat(899)}`;
    const id = `o-${'x'.repeat(248)}`;
    expect(JSON.stringify([tag, `tick/${id}`]).length).toBeGreaterThan(1024);
    const fn = handler({ use: [box], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${prefix}n:{${tag}}`, 'n', '1');
      ctx.outbox.add({ type: 'Tick', aggregateId: id, payload: { n: 1 } });
      return 'ok';
    });
    expect(await fn.invoke({})).toBe('ok');
    const messages = await drainQueue(sqs, relayQueue.url);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!.Body!)).toEqual({ watchdog: 1, outbox: 'ticks' });
    const metrics = await box.relayWatchdog(runCtx(), messages[0]!.Body);
    expect(metrics?.sent).toBe(1);
    expect(sender.accepted.map((m) => (JSON.parse(m.body) as { aggregateId: string }).aggregateId)).toEqual([id]);
  });

  it('the documented manual flow: arm with watchdogKey(where, aggregate), the consumer relays that aggregate', { timeout: 30_000 }, async () => {
    const sender = scriptedSender();
    const prefix = `${redis.prefix}${randomUUID().slice(0, 6)}:`;
    // The function records without a watchdog plugin; the application arms it itself, as documented.
    const box = outbox({ name: 'ticks', events: tickEvents, store: redisOutbox({ client: redis.client, prefix }), relay: { sender, lease: redis.lease, flush: false } });
    const watchdog = outboxWatchdog({ client: sqs, queueUrl: relayQueue.url, delayMs: 0 });
    const fn = handler({ input: z.object({ id: z.string() }), use: [box], logSink: () => undefined }, async (input, ctx) => {
      await watchdog.arm({ outbox: 'ticks', keys: [sqsEntry.watchdogKey(input.id, `tick/${input.id}`)] }, { signal: ctx.signal });
      ctx.outbox.call('HSET', `${prefix}tick:{${input.id}}`, 'n', '1');
      ctx.outbox.add({ type: 'Tick', aggregateId: input.id, payload: { n: 1 } });
      return 'ok';
    });
    expect(await fn.invoke({ id: 't-42' })).toBe('ok');
    const messages = await drainQueue(sqs, relayQueue.url);
    expect(messages).toHaveLength(1);
    const metrics = await box.relayWatchdog(runCtx(), messages[0]!.Body);
    expect(metrics?.sent).toBe(1);
    expect(sender.accepted.map((m) => (JSON.parse(m.body) as { aggregateId: string }).aggregateId)).toEqual(['t-42']);
  });
});
