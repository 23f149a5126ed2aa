/**
 * A stream run that finds nothing to archive still checkpoints what the source learned: a Redis
 * stream's removal counter taken on an empty run is the base the next run compares with, so
 * entries added and removed (trimmed, or deleted by an outbox relay) between two runs that found
 * nothing are a gap, not silently lost. Also: an entry without the `envelopeField` names the field,
 * and the README's archive of a real `@steadyfn/outbox` Redis stream (relay `mark: 'sent'`) works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { redisLeaseStore } from '@steadyfn/lease';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { SourceRecordInvalidError, redisStreamSource, streamBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

describe('stream runs that archive nothing (Redis stream source)', () => {
  let redis: Redis;
  let bucket: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    redis = await redisClient();
    bucket = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    await bucket?.drop();
    redis?.disconnect();
  });
  const storage = () => ({ client: bucket.client, bucket: bucket.bucket, prefix: unique('p') });
  const envelope = (id: string) => JSON.stringify({ id, type: 'Saved', aggregateType: 'order', aggregateId: 'o1', seq: 1, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1 });

  it('reports entries removed between two empty runs as a gap', async () => {
    const key = unique('empty-runs');
    const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key }), target: storage(), buffer: { maxBytes: 1024, maxMs: 60_000 } });
    // An entry added and removed before the first run: the base the backup starts from.
    const before = await redis.xadd(key, '*', 'f', 'v0');
    await redis.xdel(key, before!);
    expect(await job.run()).toMatchObject({ records: 0, timelineBroken: false });
    // Added and removed between two runs, never archived: lost.
    const lost = await redis.xadd(key, '*', 'f', 'v1');
    await redis.xdel(key, lost!);
    expect(await job.run()).toMatchObject({ records: 0, timelineBroken: true, snapshotRequired: true });
    await redis.del(key);
  });

  it('reports an unarchived entry deleted from a stream whose archived entries are kept (max-deleted-entry-id)', async () => {
    const key = unique('kept');
    const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key }), target: storage(), buffer: { maxBytes: 1024, maxMs: 60_000 } });
    for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'f', `a${i}`);
    expect(await job.run()).toMatchObject({ records: 3, timelineBroken: false });
    // Archived entries deleted: no gap.
    const [[archived]] = (await redis.xrange(key, '-', '+', 'COUNT', 1)) as [[string, string[]]];
    await redis.xdel(key, archived);
    await redis.xadd(key, '*', 'f', 'b0');
    expect(await job.run()).toMatchObject({ records: 1, timelineBroken: false });
    // One of two new entries deleted before it was archived: fewer removals than archived
    // entries, but still a gap.
    const lost = await redis.xadd(key, '*', 'f', 'c0');
    await redis.xadd(key, '*', 'f', 'c1');
    await redis.xdel(key, lost!);
    expect(await job.run()).toMatchObject({ records: 1, timelineBroken: true });
    // Reported once: the next run, with nothing new removed, goes on.
    await redis.xadd(key, '*', 'f', 'd0');
    expect(await job.run()).toMatchObject({ records: 1, timelineBroken: false });
    await redis.del(key);
  });

  it('names the envelope field an entry lacks, and the fields it has', async () => {
    const key = unique('no-field');
    await redis.xadd(key, '*', 'a', 'order/o1', 'e', envelope('01a24319-35e1-7149-8e56-cbe377b0662f'));
    const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'envelope' }), target: storage() });
    const error = await job.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceRecordInvalidError);
    expect((error as Error).message).toContain('no field "envelope"');
    expect((error as Error).message).toContain('a, e');
    await redis.del(key);
  });

  it("archives a real @steadyfn/outbox partition stream as the README says (key outbox:{tag}:events, field e, mark: 'sent')", async () => {
    const prefix = `${unique('obx')}:`;
    const sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1' });
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: unique('q').replace(/[^a-z0-9-]/g, '') }))).QueueUrl!;
    const orders = outbox({
      events: { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } },
      store: redisOutbox({ client: redis, prefix, mark: 'sent' }),
      relay: { sender: sqsSender({ client: sqs, queueUrl }), lease: redisLeaseStore({ client: redis, prefix: `${prefix}lease:` }) },
    });
    const pay = handler({ input: z.object({ orderId: z.string() }), use: [orders] }, async ({ orderId }, ctx) => {
      ctx.outbox.call('HSET', `${prefix}order:{orders}:${orderId}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: { amountCents: 5 } });
      return { paid: orderId };
    });
    const archive = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: `${prefix}{orders}:events`, envelopeField: 'e' }), target: storage() });
    try {
      await pay.invoke({ orderId: 'o-1' }); // sent to SQS by the relay, kept in the stream
      expect(await archive.run()).toMatchObject({ records: 1, timelineBroken: false });
      await pay.invoke({ orderId: 'o-2' });
      expect(await archive.run()).toMatchObject({ records: 1, timelineBroken: false });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    }
  });
});
