/**
 * Review finding (D2): a stream checkpoint did not record which source it belonged to, so a
 * stream backup whose source was changed under the same name (another Redis stream key, another
 * collection, another queue) took the old position for the new source: entries of the new
 * Redis stream up to the old position were skipped, `timelineBroken: false` ("gaps are never
 * silent"). The checkpoint now names its source; another source is refused with
 * `ConfigurationError` on `name`, nothing read or written. A checkpoint written before it named
 * its source is taken, and named on its next save. Redis 7, FerretDB, SQS and S3 on moto.
 */
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { mongoWatermarkSource, redisStreamSource, streamBackup } from '../src/index.js';
import { serializeStreamCheckpoint, type StreamCheckpoint } from '../src/stream/checkpoint.js';
import { sqsSource } from '../src/sqs.js';
import { requireService } from '../../../test/services/env.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

async function refused(run: Promise<unknown>): Promise<ConfigurationError> {
  const error = await run.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).field).toBe('name');
  expect((error as Error).message).toMatch(/new name/);
  return error as ConfigurationError;
}

describe('a stream backup whose source changed under the same name (moto)', () => {
  it('Redis stream: another key is refused, nothing read; an old checkpoint without a source is taken and named', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const redis: Redis = await redisClient();
    const a = unique('events:a');
    const b = unique('events:b');
    try {
      for (let i = 0; i < 5; i++) await redis.xadd(b, '*', 'n', String(i));
      for (let i = 0; i < 3; i++) await redis.xadd(a, '*', 'n', String(i));
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'st' };
      const first = await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: a }), target: storage }).run();
      expect(first.records).toBe(3);
      const before = (await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'));
      const checkpointKey = 'st/streams/orders/checkpoint.json';
      const stored = await readJson<StreamCheckpoint>(s3.client, s3.bucket, checkpointKey);

      await refused(streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: b }), target: storage }).run());
      expect((await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual(before);
      expect(await readJson<StreamCheckpoint>(s3.client, s3.bucket, checkpointKey)).toEqual(stored);
      // Push mode checks it too.
      await refused(streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: b }), target: storage }).append([]));

      // A new name for the new source archives all of it.
      expect((await streamBackup({ name: 'orders-b', source: redisStreamSource({ client: redis, key: b }), target: storage }).run()).records).toBe(5);

      // A checkpoint written before checkpoints named their source: taken, then named.
      const { source: _source, selfChecksum: _sum, ...old } = stored as StreamCheckpoint & { source?: unknown };
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: checkpointKey, Body: serializeStreamCheckpoint(old as StreamCheckpoint) }));
      await redis.xadd(a, '*', 'n', '3');
      expect((await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: a }), target: storage }).run()).records).toBe(1);
      const named = JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: checkpointKey }))).Body!.transformToString()) as { source?: unknown };
      expect(named.source).toEqual(stored && (stored as { source?: unknown }).source);
      await refused(streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key: b }), target: storage }).run());
    } finally {
      await redis.del(a, b);
      redis.disconnect();
      await s3.drop();
    }
  }, 60_000);

  it('MongoDB watermark: another collection, field or database is refused', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('d2wm');
    const other = await freshDb('d2wm2');
    try {
      const at = new Date(Date.now() - 60_000);
      await db.collection<{ _id: number }>('items').insertMany([{ _id: 1, updatedAt: at, changedAt: at } as never]);
      await db.collection<{ _id: number }>('others').insertMany([{ _id: 1, updatedAt: at } as never]);
      await other.collection<{ _id: number }>('items').insertMany([{ _id: 1, updatedAt: at } as never]);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'wm' };
      expect((await streamBackup({ name: 'wm', source: mongoWatermarkSource({ db, collection: 'items' }), target: storage }).run()).records).toBe(1);
      for (const source of [mongoWatermarkSource({ db, collection: 'others' }), mongoWatermarkSource({ db, collection: 'items', field: 'changedAt' }), mongoWatermarkSource({ db: other, collection: 'items' })]) {
        await refused(streamBackup({ name: 'wm', source, target: storage }).run());
      }
      expect((await streamBackup({ name: 'wm', source: mongoWatermarkSource({ db: () => db, collection: 'items' }), target: storage }).run()).records).toBe(0);
    } finally {
      await Promise.all([db.dropDatabase(), other.dropDatabase(), s3.drop()]);
    }
  }, 60_000);

  it('SQS: another queue is refused', async () => {
    await requireService('sqs');
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const queues: string[] = [];
    try {
      for (const name of ['d2qa', 'd2qb']) queues.push((await sqs.send(new CreateQueueCommand({ QueueName: unique(name).replace(/[^a-z0-9-]/g, '') }))).QueueUrl!);
      await sqs.send(new SendMessageCommand({ QueueUrl: queues[0], MessageBody: '{"n":1}' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queues[1], MessageBody: '{"n":2}' }));
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'q' };
      expect((await streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: queues[0]!, waitTimeSeconds: 0 }), target: storage }).run()).records).toBe(1);
      await refused(streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: queues[1]!, waitTimeSeconds: 0 }), target: storage }).run());
    } finally {
      for (const QueueUrl of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    }
  }, 60_000);
});
