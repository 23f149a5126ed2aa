/**
 * Setup shared by the restore tests on an own Redis server (the whole database is the test's):
 * a fresh S3 bucket (moto), a started `redis-server` on a free port and a client of it, ended
 * however the test ends; and a snapshot backup of that server's keys.
 */
import { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { mongoSource, redisSource, snapshotBackup } from '../src/index.js';
import { startRedis } from '../../../test/support/servers.js';
import { freshBucket, S3_SERVERS, type Sender } from './support.js';

/** What `withOwnRedis` hands the test. */
export interface OwnRedisRestore {
  s3: Awaited<ReturnType<typeof freshBucket>>;
  /** The test's own `redis-server` (stop it to make the target unreachable). */
  server: Awaited<ReturnType<typeof startRedis>>;
  /** A client of `server` that gives up a request after 2 retries. */
  redis: Redis;
  /** The backup storage: the fresh bucket under `prefix`. */
  storage: { client: Sender; bucket: string; prefix: string };
}

/** Runs `test` with a fresh bucket and an own Redis server; drops and stops both after it. */
export async function withOwnRedis<T>(prefix: string, test: (env: OwnRedisRestore) => Promise<T>): Promise<T> {
  const s3 = await freshBucket(S3_SERVERS[0]!);
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
  try {
    return await test({ s3, server, redis, storage: { client: s3.client, bucket: s3.bucket, prefix } });
  } finally {
    redis.disconnect();
    await server.stop();
    await s3.drop();
  }
}

/** A complete snapshot backup of the keys `pattern` matches; resolves to its id. */
export async function redisBackupOf(redis: Redis, storage: OwnRedisRestore['storage'], pattern = 'k:*'): Promise<string> {
  const done = await snapshotBackup({ source: redisSource({ client: redis, pattern }), target: storage as never }).run();
  if (done.status !== 'complete') throw new Error('backup did not complete');
  return done.backupId!;
}

/** A complete snapshot backup of `count` documents of `orders` (values `<value><i>`), replacing what `source` held; resolves to its id. */
export async function mongoBackupOf(source: Db, storage: OwnRedisRestore['storage'], value: string, count: number): Promise<string> {
  await source.collection('orders').deleteMany({});
  await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: count }, (_, i) => ({ _id: i, v: `${value}${i}` })));
  const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage as never }).run();
  if (done.status !== 'complete') throw new Error('backup did not complete');
  return done.backupId!;
}
