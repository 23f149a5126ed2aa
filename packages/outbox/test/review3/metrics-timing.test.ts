/**
 * Review finding (`ctx.outbox.metrics()` read 0 inside the function): the write and the flush
 * run after the function returns, so that is what "so far" means there. The TSDoc and the
 * README now say exactly when the numbers are meaningful; this pins it on real Redis and moto:
 * zeros (and the event in `staged`) inside the function, the complete numbers in a `finally`
 * hook of a plugin listed before the outbox and in the `outbox` log record.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler, type Plugin } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, type OutboxMetrics } from '../../src/index.js';
import { sqsSender } from '../../src/sqs.js';
import { createQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';

let backend: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };
beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('moto');
  queue = await createQueue(sqs);
});
afterAll(async () => {
  await queue?.remove();
  sqs?.destroy();
  await backend?.close();
});

describe('ctx.outbox.metrics(): a snapshot of the invocation so far', () => {
  it('reads zeros inside the function (Redis mode), the complete numbers in a finally hook listed before the outbox and in the log record', async () => {
    const orders = outbox({
      events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } },
      store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: backend.lease },
    });
    let atEnd: OutboxMetrics | undefined;
    const reader: Plugin = { name: 'reader', finally: (ctx) => void (atEnd = (ctx as unknown as { outbox: { metrics(): OutboxMetrics } }).outbox.metrics()) };
    const lines: string[] = [];
    const pay = handler({ use: [reader, orders], logLevel: 'info', logSink: (line) => void lines.push(String(line)) }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${backend.prefix}order:{o-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return { inside: ctx.outbox.metrics(), staged: ctx.outbox.staged.length };
    });
    const result = (await pay.invoke({}, { deliveryId: 'd-1' })) as { inside: OutboxMetrics; staged: number };
    expect(result.inside).toMatchObject({ recorded: 0, sent: 0, batches: 0 });
    expect(result.staged).toBe(1);
    expect(atEnd).toMatchObject({ recorded: 1, sent: 1, failed: 0, batches: 1 });
    const record = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'outbox');
    expect(record).toMatchObject({ recorded: 1, sent: 1 });
  });
});
