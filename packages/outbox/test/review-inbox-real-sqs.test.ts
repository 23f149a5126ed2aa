/**
 * New-user trial: the README's inbox, fed by what a real SQS queue (moto) hands out — the relay's
 * own sender with every body claim-checked to S3 (moto), the messages received with their
 * attributes and passed on in the Lambda event's shape. Probes: a redelivery after the visibility
 * timeout is a duplicate; k+1 received before k is retried, then handled after k; a claim-check
 * object changed or deleted fails the message without running the function; a body that is not
 * an event fails it.
 */
import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inbox, outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { createBucket, s3Client } from './sqs-servers.js';
import { createQueue, lambdaContext, openRedis, sqsClient, type RedisBackend } from './support.js';
import { s3ClaimCheck } from '../src/s3.js';

let backend: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };
const s3 = s3Client();
let bucket: string;
beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('moto');
  queue = await createQueue(sqs);
  bucket = await createBucket(s3, 'obx-inbox-real');
});
afterAll(async () => {
  await queue?.remove();
  sqs?.destroy();
  s3.destroy();
  await backend?.close();
});

const events = { Shipped: { aggregateType: 'order', schema: z.object({ n: z.number().int() }) } };

function record(m: Message) {
  const messageAttributes: Record<string, { stringValue?: string; dataType: string }> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) messageAttributes[k] = { stringValue: v.StringValue!, dataType: v.DataType! };
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
    awsRegion: 'us-east-1',
  };
}

async function receive(count: number): Promise<Message[]> {
  const got: Message[] = [];
  for (let i = 0; i < 20 && got.length < count; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    got.push(...(r.Messages ?? []));
  }
  return got;
}
const redeliverNow = (m: Message) => sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));

describe('the README inbox fed by a real queue and claim-check bucket', () => {
  it('dedupes a redelivery, restores order, fails tampered / deleted claim checks and non-events', async () => {
    const prefix = `${backend.prefix}`;
    const producer = outbox({
      events,
      store: redisOutbox({ client: backend.client, prefix: `${prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url, claimCheck: s3ClaimCheck({ s3, bucket, prefix: 'p/', thresholdBytes: 0 }) }), lease: backend.lease },
    });
    const produce = handler({ use: [producer], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { id, n } = input as { id: string; n: number };
      ctx.outbox.call('SET', `${prefix}order:{${id}}`, String(n));
      ctx.outbox.add({ type: 'Shipped', aggregateId: id, payload: { n } });
    });
    const order = `o-${randomUUID().slice(0, 6)}`;
    for (let n = 1; n <= 2; n++) await produce.invoke({ id: order, n }, { deliveryId: `d-${order}-${n}` });
    await produce.invoke({ id: `${order}-x`, n: 1 }, { deliveryId: `d-${order}-x1` });
    await produce.invoke({ id: `${order}-y`, n: 1 }, { deliveryId: `d-${order}-y1` });

    const effects: string[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const consumer = handler(
      { use: [inbox({ store: redisStore({ client: backend.client, prefix: `${prefix}idem:` }), consumer: 'shipping', unseenAggregate: 'retry', claimCheck: s3ClaimCheck({ s3 }) })], logLevel: 'warn', logSink: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) },
      async (_input, ctx) => void effects.push(`${ctx.inbox.event.aggregateId}#${ctx.inbox.event.seq}`),
    );
    const run = async (m: Message) => ((await consumer.aws({ Records: [record(m)] }, lambdaContext())) as { batchItemFailures: unknown[] }).batchItemFailures.length;

    const messages = await receive(4);
    expect(messages).toHaveLength(4);
    expect(messages.every((m) => m.MessageAttributes?.['steadyfn.claimCheck'])).toBe(true);
    const bySeq = (id: string, seq: string) => messages.find((m) => m.MessageAttributes?.['steadyfn.aggregate']?.StringValue === `order/${id}` && m.MessageAttributes?.['steadyfn.seq']?.StringValue === seq)!;
    const [k, k1, x, y] = [bySeq(order, '1'), bySeq(order, '2'), bySeq(`${order}-x`, '1'), bySeq(`${order}-y`, '1')];

    // k+1 before k: a retryable gap, nothing run.
    expect(await run(k1)).toBe(1);
    expect(effects).toEqual([]);
    expect(await run(k)).toBe(0);
    await redeliverNow(k1);
    const [k1again] = (await receive(1));
    expect(k1again?.MessageId).toBe(k1.MessageId);
    expect(await run(k1again!)).toBe(0);
    expect(effects).toEqual([`${order}#1`, `${order}#2`]);

    // A real redelivery of k (visibility made 0): a duplicate, not run again.
    await redeliverNow(k);
    const [kagain] = await receive(1);
    expect(kagain?.MessageId).toBe(k.MessageId);
    expect(Number(kagain!.Attributes!.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);
    expect(await run(kagain!)).toBe(0);
    expect(effects).toHaveLength(2);

    // Claim check changed (same size, other bytes) and deleted: failed, not run.
    const px = JSON.parse(x.Body!) as { key: string; size: number };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: px.key, Body: Buffer.alloc(px.size, 0x20) }));
    expect(await run(x)).toBe(1);
    const py = JSON.parse(y.Body!) as { key: string };
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: py.key }));
    expect(await run(y)).toBe(1);
    expect(effects).toHaveLength(2);
    const codes = logs.filter((l) => l.level === 'error' || l.level === 'warn').map((l) => (l.err as { code?: string } | undefined)?.code ?? l.code);
    expect(codes).toEqual(expect.arrayContaining(['INBOX_SEQ_GAP', 'OUTBOX_SQS_CLAIM_CHECK_MISMATCH', 'OUTBOX_SQS_CLAIM_CHECK_MISSING']));
    // No payload in the logs.
    expect(JSON.stringify(logs)).not.toContain('"n":');

    // Not an event: failed, not run.
    expect(await run({ ...k, MessageId: randomUUID(), Body: '{"hello":"world"}', MessageAttributes: {} })).toBe(1);
    expect(await run({ ...k, MessageId: randomUUID(), Body: 'not json \u0001', MessageAttributes: {} })).toBe(1);
    expect(effects).toHaveLength(2);
  });
});
