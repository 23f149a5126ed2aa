import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsSender } from './sqs.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from '../test/support.js';
import { outbox } from './plugin.js';
import { redisOutbox } from './stores/redis.js';
import { partitionKeys } from './stores/redis-keys.js';
import { parseEnvelope } from './envelope.js';
import { sleepUntil } from '../../../test/support/window.js';

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int().positive() }) },
};

describe.each(['redis', 'cluster'] as const)('outbox plugin, Redis mode on %s', (name) => {
  let backend: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    backend = await openRedis(name);
    sqs = await sqsClient();
    queue = await createQueue(sqs);
  });
  afterAll(async () => {
    await queue.remove();
    await backend.close();
  });

  const make = (flush = true, logSink?: (line: string) => void) => {
    const lease = backend.lease;
    const orders = outbox({
      events,
      store: redisOutbox({ client: backend.client, prefix: backend.prefix }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease, flush, sweep: { graceMs: 0 } },
    });
    const pay = handler({ input: z.object({ orderId: z.string(), amountCents: z.number() }), use: [orders], ...(logSink ? { logSink, logLevel: 'info' as const } : {}) }, async (input, ctx) => {
      const key = `${backend.prefix}order:{${input.orderId}}`;
      ctx.outbox.check({ key, field: 'status', equals: 'validated', label: 'order is validated' });
      ctx.outbox.call('HSET', key, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
      return { paid: input.orderId };
    });
    return { orders, pay };
  };

  it('writes state and event together and flushes the event to SQS in the same invocation', async () => {
    const { pay } = make();
    const key = `${backend.prefix}order:{o-1}`;
    await backend.client.hset(key, 'status', 'validated');
    await expect(pay.invoke({ orderId: 'o-1', amountCents: 500 })).resolves.toEqual({ paid: 'o-1' });
    expect(await backend.client.hget(key, 'status')).toBe('paid');
    const messages = await drainQueue(sqs, queue.url);
    expect(messages).toHaveLength(1);
    const parsed = parseEnvelope(messages[0]!.Body);
    expect(parsed).toMatchObject({ ok: true, event: { type: 'OrderPaid', aggregateId: 'o-1', seq: 1, payload: { amountCents: 500 } } });
    expect(messages[0]!.MessageAttributes?.['steadyfn.seq']?.StringValue).toBe('1');
    // The envelope's trace context travels as the W3C attribute too.
    expect(messages[0]!.MessageAttributes?.traceparent?.StringValue).toBe((parsed as { event: { traceparent: string } }).event.traceparent);
    // Marked (deleted) after SQS accepted it: nothing pending.
    const keys = partitionKeys(backend.prefix, 'o-1');
    expect(await backend.client.xlen(keys.events)).toBe(0);
    expect(await backend.client.zcard(keys.pending)).toBe(0);
  });

  it('a failed precondition is a 409 that writes and sends nothing', async () => {
    const { pay } = make();
    const key = `${backend.prefix}order:{o-2}`;
    await backend.client.hset(key, 'status', 'dispatched');
    await expect(pay.invoke({ orderId: 'o-2', amountCents: 5 })).rejects.toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
    expect(await backend.client.hget(key, 'status')).toBe('dispatched');
    expect(await backend.client.exists(partitionKeys(backend.prefix, 'o-2').events)).toBe(0);
    expect(await drainQueue(sqs, queue.url)).toHaveLength(0);
  });

  it('an invalid event fails the invocation before anything is written', async () => {
    const { pay } = make();
    const key = `${backend.prefix}order:{o-3}`;
    await backend.client.hset(key, 'status', 'validated');
    await expect(pay.invoke({ orderId: 'o-3', amountCents: -5 })).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await backend.client.hget(key, 'status')).toBe('validated');
  });

  it('the sweeper relays what no flush sent, in seq order', async () => {
    const { orders, pay } = make(false);
    const key = `${backend.prefix}order:{o-4}`;
    await backend.client.hset(key, 'status', 'validated');
    await pay.invoke({ orderId: 'o-4', amountCents: 1 });
    await backend.client.hset(key, 'status', 'validated');
    await pay.invoke({ orderId: 'o-4', amountCents: 2 });
    expect(await drainQueue(sqs, queue.url, 1)).toHaveLength(0);
    const result = await orders.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: console as never });
    expect(result.found).toBe(1);
    expect(result.metrics.sent).toBe(2);
    const messages = await drainQueue(sqs, queue.url);
    expect(messages.map((m) => (parseEnvelope(m.Body) as { event: { seq: number } }).event.seq).sort()).toEqual([1, 2]);
  });

  it('logs one outbox record per invocation (recorded, sent, batches, fill ratios); the sweeper reports the age of the oldest pending event', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
    const { pay } = make(true, sink);
    const key = `${backend.prefix}order:{o-5}`;
    await backend.client.hset(key, 'status', 'validated');
    await pay.invoke({ orderId: 'o-5', amountCents: 7 });
    const records = lines.filter((l) => l.msg === 'outbox');
    expect(records).toHaveLength(1);
    // One event in one SendMessageBatch call: one entry of ten, a small share of the queue's byte limit.
    expect(records[0]).toMatchObject({ outbox: 'outbox', recorded: 1, sent: 1, failed: 0, retries: 0, quarantined: 0, batches: 1, fillEntries: 0.1, inboxDuplicates: 0 });
    expect(records[0]!.fillBytes).toBeGreaterThan(0);
    expect(records[0]!.fillBytes).toBeLessThan(0.01);
    expect(await drainQueue(sqs, queue.url)).toHaveLength(1);

    // Left pending (no flush) for at least 50 ms: the sweep that sends it reports that age.
    const { orders, pay: payLater } = make(false, sink);
    await backend.client.hset(key, 'status', 'validated');
    await payLater.invoke({ orderId: 'o-5', amountCents: 8 });
    // Recorded by the time the invocation returned: 50 ms from then, exactly (a timer may fire early).
    await sleepUntil(Date.now() + 50);
    const swept = await orders.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: console as never });
    expect(swept.metrics).toMatchObject({ sent: 1, batches: 1 });
    expect(swept.metrics.oldestPendingAgeMs).toBeGreaterThanOrEqual(50);
    expect(await drainQueue(sqs, queue.url)).toHaveLength(1);
  });
});
