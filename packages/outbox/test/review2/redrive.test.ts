/**
 * Review finding: `orders.redrive(ctx, { where, aggregate })` needs the aggregate's `where`
 * (its Redis partition — the hash tag — or collection), but the one place a quarantine shows,
 * the `outbox aggregate quarantined` warning, named only `aggregate`: an operator had to
 * reconstruct the partition from key naming. The warning now carries `where`, and what it
 * names redrives the aggregate (here: an event too large for the queue, quarantined, redriven
 * after a claim check is configured; real Redis, moto SQS and S3).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../../src/index.js';
import { sqsSender } from '../../src/sqs.js';
import { createBucket, s3Client } from '../sqs-servers.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';
import { s3ClaimCheck } from '../../src/s3.js';

let backend: RedisBackend;
let sqs: SQSClient;
let queue: { url: string; remove(): Promise<void> };
const s3 = s3Client();
let bucket: string;
beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('moto');
  queue = await createQueue(sqs, { maxMessageBytes: 262_144 });
  bucket = await createBucket(s3, 'obx-redrive');
});
afterAll(async () => {
  await queue?.remove();
  sqs?.destroy();
  await backend?.close();
});

const events = { Stored: { aggregateType: 'doc', schema: z.object({ text: z.string() }) } };

describe('a quarantined aggregate, redriven from what the warning names', () => {
  it('the warning names where and aggregate; redrive with them sends the events in order', async () => {
    const make = (claimCheck: boolean) =>
      outbox({ events, store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }), relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url, ...(claimCheck ? { claimCheck: s3ClaimCheck({ s3, bucket }) } : {}) }), lease: backend.lease } });
    const records: Array<Record<string, unknown>> = [];
    const store = handler({ use: [make(false)], logLevel: 'warn', logSink: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) }, async (input: unknown, ctx) => {
      const { size } = input as { size: number };
      ctx.outbox.call('SET', `${backend.prefix}doc:{d-1}`, String(size));
      ctx.outbox.add({ type: 'Stored', aggregateId: 'd-1', payload: { text: 'x'.repeat(size) } });
    });
    await store.invoke({ size: 300_000 }, { deliveryId: 'd-big' });
    await store.invoke({ size: 10 }, { deliveryId: 'd-small' });
    expect(await drainQueue(sqs, queue.url, 1)).toHaveLength(0);
    const warning = records.find((r) => r.msg === 'outbox aggregate quarantined');
    // The quarantine's identity, which a redrive reference must carry: fromSeq and quarantinedAt.
    expect(warning).toMatchObject({ where: 'd-1', aggregate: 'doc/d-1', fromSeq: 1, quarantinedAt: expect.any(Number) });

    const fixed = make(true);
    const redrive = handler({ use: [fixed], logSink: () => undefined }, async (_input, ctx) => fixed.redrive(ctx, { where: warning!.where as string, aggregate: warning!.aggregate as string, fromSeq: warning!.fromSeq as number, quarantinedAt: warning!.quarantinedAt as number }));
    await expect(redrive.invoke({}, { deliveryId: 'd-redrive' })).resolves.toMatchObject({ redriven: true, metrics: { sent: 2 } });
    const received = await drainQueue(sqs, queue.url);
    expect(received.map((m) => m.MessageAttributes?.['steadyfn.seq']?.StringValue).sort()).toEqual(['1', '2']);
  });
});
