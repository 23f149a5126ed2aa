/**
 * Review (try-to-break) finding on restore drills, on FerretDB, Redis 7 and moto: a drill
 * restores into its scratch target (overwriting by `_id` / `RESTORE … REPLACE`) and then
 * removes what it restored. Pointed by mistake at a target that holds data — the live
 * database, the live keyspace without a `keyPrefix`, or what a crashed drill left — it rolled
 * live data back to the backup and then dropped it. A drill must refuse a scratch target that
 * holds data of the backup's datasets, before writing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import type { Redis } from 'ioredis';
import { ConfigurationError, mongoSource, mongoTarget, redisSource, redisTarget, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('a drill into a target that holds data', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    await s3.drop();
  });

  it('MongoDB: refuses the live database, and leaves its documents as they are', async () => {
    const live: Db = await freshDb('drilllive');
    await live.collection<{ _id: number; v: string }>('orders').insertMany([{ _id: 1, v: 'old' }, { _id: 2, v: 'old' }]);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'mongo' };
    expect(await snapshotBackup({ source: mongoSource({ db: live }), target: storage }).run()).toMatchObject({ status: 'complete' });
    await live.collection<{ _id: number; v: string }>('orders').updateOne({ _id: 1 }, { $set: { v: 'new' } });

    const error = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: live }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'scratch' });
    expect(await live.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, v: 'new' }, { _id: 2, v: 'old' }]);

    // An empty scratch database still drills.
    const scratch = await freshDb('drillscratch');
    expect(await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) })).toMatchObject({ ok: true });
    await live.dropDatabase();
  });

  it('Redis: refuses the live keyspace (no keyPrefix), and leaves its keys as they are', async () => {
    const redis: Redis = await redisClient();
    const prefix = `${unique('drilllive')}:`;
    try {
      await redis.set(`${prefix}a`, 'old');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'redis' };
      expect(await snapshotBackup({ source: redisSource({ client: redis, pattern: `${prefix}*` }), target: storage }).run()).toMatchObject({ status: 'complete' });
      await redis.set(`${prefix}a`, 'new');

      const error = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: redisTarget({ client: redis }) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ConfigurationError', field: 'scratch' });
      expect(await redis.get(`${prefix}a`)).toBe('new');

      expect(await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: `${unique('scratch')}:` }) })).toMatchObject({ ok: true });
    } finally {
      const keys = await redis.keys(`*${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
