/**
 * New-user finding (nu): an event SQS refuses as it is (larger than the queue takes, no claim
 * check) is quarantined with its aggregate's later events — held until a redrive, never retried
 * by a flush or sweep — yet the relay's warning for the round said "they stay pending for the
 * next flush or sweep", so an operator waited for a sweep that would never send it. The warning
 * now says which events are quarantined (`quarantined`, their count) and that they wait for a
 * redrive; events that were only not sent (no verdict, a retryable refusal) keep the old text.
 * Redis and moto, a queue of 1,024-byte messages.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { createQueue, sqsClient, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ note: z.string() }) } };
const redis = useRedis('redis');
let sqs: SQSClient;
let queue: Awaited<ReturnType<typeof createQueue>>;

beforeAll(async () => {
  sqs = await sqsClient('moto');
  queue = await createQueue(sqs, { maxMessageBytes: 1_024 });
});
afterAll(async () => {
  await queue?.remove().catch(() => undefined);
  sqs?.destroy();
});

it('a round whose events SQS refuses as they are says they are quarantined until a redrive, not that a sweep will send them', async () => {
  const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}nu:outbox:` });
  const orders = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url, maxMessageBytes: 'auto' }), lease: redis.lease } });
  const lines: Array<Record<string, unknown>> = [];
  const pay = handler({ use: [orders], logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (input: unknown, ctx) => {
    const { id, note } = input as { id: string; note: string };
    ctx.outbox.call('HSET', `${redis.prefix}nu:order:{${id}}`, 'status', 'paid');
    ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: { note } });
  });
  await pay.invoke({ id: 'o-big', note: 'x'.repeat(2_000) }, { deliveryId: 'nu-big' });
  const warned = lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('outbox relay: some events were not sent'));
  expect(warned).toEqual([expect.objectContaining({ failed: 1, quarantined: 1, codes: 'OUTBOX_SQS_MESSAGE_TOO_LARGE' })]);
  expect(warned[0]!.msg).toMatch(/quarantined until a redrive/);
  expect(warned[0]!.msg).not.toMatch(/stay pending/);
  expect(lines.findLast((l) => l.msg === 'outbox')).toMatchObject({ sent: 0, failed: 1, quarantined: 1 });
}, 60_000);
