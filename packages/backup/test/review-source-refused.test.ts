/**
 * A source that refuses the job's credentials — FerretDB's `AuthenticationFailed` (code 18) for a
 * user it does not know, Redis `WRONGPASS` for an unknown ACL user — is a configuration fault a
 * retry does not change: the run rejects with the terminal `SourceRefusedError`
 * (`BACKUP_SOURCE_REFUSED`, not retryable), so a scheduled function is not invoked again and
 * again, with the driver error's class and code only (never the user name), nothing written and
 * the job's lease released. Before, each was a retryable `SourceReadError`. On FerretDB 1.24,
 * Redis 7 and moto (the S3 side is not what is tested); the shared servers are not reconfigured:
 * the credentials are simply ones they do not know.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { SourceRefusedError, mongoSource, mongoWatermarkSource, redisSource, redisStreamSource, snapshotBackup, streamBackup } from '../src/index.js';
import { closeMongo, freshBucket, listAll, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** Every object under the prefix but the jobs' lease objects (a run takes its lease before it reads the source). */
async function written(s3: Awaited<ReturnType<typeof freshBucket>>, prefix: string): Promise<string[]> {
  return (await listAll(s3.client, s3.bucket, `${prefix}/`)).filter((k) => !k.includes('lease'));
}

function expectRefused(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(SourceRefusedError);
  expect(error).toMatchObject({ code: 'BACKUP_SOURCE_REFUSED', retryable: false });
  expect((error as Error).message).toContain(code);
  expect((error as Error).message).not.toMatch(/secret|invalid username/);
}

describe('a source refusing the credentials is a terminal SourceRefusedError', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  const url = new URL(process.env.MONGODB_URI!);
  const badMongo = new MongoClient(`mongodb://secretuser:secretpw@${url.host}/?authSource=admin`, { serverSelectionTimeoutMS: 5_000 });
  // One client per run: a client refused at its connect closes (no retry strategy).
  const redises: Redis[] = [];
  const badRedis = (): Redis => {
    const client = new Redis(process.env.REDIS_URL!, { username: 'secretuser', password: 'secretpw', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => undefined);
    redises.push(client);
    return client;
  };
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    await badMongo.close();
    for (const client of redises) client.disconnect();
    await s3.drop();
  });

  it('snapshotBackup of MongoDB (FerretDB AuthenticationFailed), twice: the lease was released', async () => {
    const prefix = unique('refmongo');
    const job = snapshotBackup({ source: mongoSource({ db: badMongo.db(unique('refdb').replace(/[^a-z0-9_]/g, '_')) }), target: { client: s3.client, bucket: s3.bucket, prefix } });
    for (let i = 0; i < 2; i++) expectRefused(await job.run().catch((e: unknown) => e), 'MongoServerError 18');
    expect(await written(s3, prefix)).toEqual([]);
  });

  it('snapshotBackup of Redis (WRONGPASS)', async () => {
    const prefix = unique('refredis');
    const job = snapshotBackup({ source: redisSource({ client: badRedis(), pattern: `${prefix}:*` }), target: { client: s3.client, bucket: s3.bucket, prefix } });
    expectRefused(await job.run().catch((e: unknown) => e), 'WRONGPASS');
    expect(await written(s3, prefix)).toEqual([]);
  });

  it('streamBackup of a Redis stream (WRONGPASS) and of a MongoDB collection (AuthenticationFailed)', async () => {
    const prefix = unique('refstream');
    const target = { client: s3.client, bucket: s3.bucket, prefix };
    const fromRedis = streamBackup({ name: 'r', source: redisStreamSource({ client: badRedis(), key: `${prefix}:events` }), target });
    expectRefused(await fromRedis.run().catch((e: unknown) => e), 'WRONGPASS');
    const fromMongo = streamBackup({ name: 'm', source: mongoWatermarkSource({ db: badMongo.db('refwm'), collection: 'orders' }), target });
    expectRefused(await fromMongo.run().catch((e: unknown) => e), 'MongoServerError 18');
  });
});
