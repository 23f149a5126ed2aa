/**
 * Review finding (D1): a MongoDB and a Redis snapshot on one storage prefix, both on the default
 * job. The guard compared the source only against an open checkpoint, so once the first backup
 * committed the other source ran under the same job; retention then counted both sources'
 * backups together and `keepLast: 1` deleted the MongoDB database's only backup. A backup
 * starting without an open checkpoint must refuse (ConfigurationError on `job`, nothing
 * written) when the job's newest backup is of another source; retention must refuse a job whose
 * manifests name different sources (nothing deleted). FerretDB, Redis 7, moto.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { applyRetention, mongoSource, mongoTarget, redisSource, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('two sources under the default job on one prefix (moto)', () => {
  it('the second source is refused once the first committed; a mongo backup of another database too', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const shop = await freshDb('d1shop');
    const other = await freshDb('d1other');
    const restored = await freshDb('d1dst');
    const redis: Redis = await redisClient();
    const pattern = `${unique('d1keys')}:*`;
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shop' };
      await shop.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      await other.collection<{ _id: number }>('orders').insertMany([{ _id: 7 }]);
      await redis.set(pattern.replace('*', 'a'), '1');
      const mongo = await snapshotBackup({ source: mongoSource({ db: shop }), target: storage }).run();
      expect(mongo.status).toBe('complete');
      const before = (await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'));

      for (const source of [redisSource({ client: redis, pattern }), mongoSource({ db: other })]) {
        const error = await snapshotBackup({ source, target: storage }).run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).field).toBe('job');
        expect((error as Error).message).toMatch(/give each snapshotBackup its own job/);
        expect((await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual(before);
      }

      // A job whose backups were made before the source record existed: its newest manifest is read.
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'shop/jobs/snapshot/source.json' }));
      const error = await snapshotBackup({ source: redisSource({ client: redis, pattern }), target: storage }).run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/its newest backup, .* is a mongodb backup/);
      expect((await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual(before.filter((k) => !k.endsWith('/source.json')));

      // Its own job: allowed; the same source again under the default job: allowed (and recorded again).
      expect((await snapshotBackup({ source: redisSource({ client: redis, pattern }), target: storage, job: 'cache' }).run()).status).toBe('complete');
      expect((await snapshotBackup({ source: mongoSource({ db: shop }), target: storage }).run()).status).toBe('complete');
      expect(await listAll(s3.client, s3.bucket, 'shop/jobs/snapshot/')).toContain('shop/jobs/snapshot/source.json');
      if (mongo.status !== 'complete') throw new Error('unreachable');
      await verifyBackup({ backup: { storage, id: mongo.backupId }, level: 'full' });
      expect((await restore({ backup: { storage, id: mongo.backupId }, target: mongoTarget({ db: restored }) })).records).toBe(2);
    } finally {
      await redis.del(pattern.replace('*', 'a'));
      redis.disconnect();
      await Promise.all([shop.dropDatabase(), other.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('retention refuses a job whose manifests name different sources, deleting nothing', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const shop = await freshDb('d1rshop');
    const redis: Redis = await redisClient();
    const pattern = `${unique('d1rkeys')}:*`;
    const read = async (key: string) => Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
    try {
      await shop.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }]);
      await redis.set(pattern.replace('*', 'a'), '1');
      // Made under the default job on two prefixes, then copied to one (as a version without the
      // start check could leave them on one prefix).
      const made = [
        { prefix: 'm', job: snapshotBackup({ source: mongoSource({ db: shop }), target: { client: s3.client, bucket: s3.bucket, prefix: 'm' } }) },
        { prefix: 'r', job: snapshotBackup({ source: redisSource({ client: redis, pattern }), target: { client: s3.client, bucket: s3.bucket, prefix: 'r' } }) },
      ];
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shared' };
      const ids: string[] = [];
      for (const { prefix, job } of made) {
        const done = await job.run();
        if (done.status !== 'complete') throw new Error('snapshot did not complete');
        ids.push(done.backupId);
        for (const key of await listAll(s3.client, s3.bucket, `${prefix}/backups/`)) {
          await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `shared/${key.slice(prefix.length + 1)}`, Body: await read(key) }));
        }
        await verifyBackup({ backup: { storage, id: done.backupId }, level: 'full' });
      }
      const before = await listAll(s3.client, s3.bucket, 'shared/backups/');
      const error = await applyRetention({ storage, keepLast: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).field).toBe('job');
      expect(await listAll(s3.client, s3.bucket, 'shared/backups/')).toEqual(before);
      const named = await applyRetention({ storage, keepLast: 1, job: 'snapshot' }).catch((e: unknown) => e);
      expect(named).toBeInstanceOf(ConfigurationError);
      expect(await listAll(s3.client, s3.bucket, 'shared/backups/')).toEqual(before);
      expect(ids).toHaveLength(2);
    } finally {
      await redis.del(pattern.replace('*', 'a'));
      redis.disconnect();
      await Promise.all([shop.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
