/**
 * Review (try-to-break) finding on two snapshot jobs sharing a target and a job name — the
 * default `job: 'snapshot'`, say a MongoDB and a Redis backup (or two databases) on one bucket
 * prefix. The job name alone keyed the checkpoint, so a run of one job continued the other's
 * checkpointed backup: the Redis run "resumed" the MongoDB backup, wrote Redis keys under the
 * collection's name and committed it as a complete MongoDB backup (which then failed every
 * verification and restore), and the MongoDB backup it took over was gone. A run that finds a
 * checkpoint of another source must refuse with `ConfigurationError` on `job`, writing nothing
 * and leaving that checkpoint to its own job.
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { mongoSource, redisSource, restore, mongoTarget, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, timeOnlyAtStart, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('two snapshot sources under one job name, on $name', (server) => {
  it('a run meeting the other source’s checkpoint is refused with nothing written; the owner then resumes it', async () => {
    const s3 = await freshBucket(server);
    const shop = await freshDb('jobshop');
    const billing = await freshDb('jobbill');
    const restored = await freshDb('jobdst');
    const redis: Redis = await redisClient();
    const pattern = `${unique('jobkeys')}:*`;
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shared' };
      await shop.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      await billing.collection<{ _id: number }>('orders').insertMany([{ _id: 9 }]);
      await redis.set(pattern.replace('*', 'a'), '1');
      const shopJob = snapshotBackup({ source: mongoSource({ db: shop }), target: storage });
      // Checkpointed by its deadline before its first part: the next run of this job continues it.
      const first = await shopJob.run(timeOnlyAtStart());
      expect(first.status).toBe('checkpointed');
      const before = await listAll(s3.client, s3.bucket);

      for (const other of [snapshotBackup({ source: redisSource({ client: redis, pattern }), target: storage }), snapshotBackup({ source: mongoSource({ db: billing }), target: storage })]) {
        const error = await other.run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).field).toBe('job');
        // Nothing written, the checkpoint as it was (the lease object is rewritten by every claim and release).
        expect((await listAll(s3.client, s3.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual(before.filter((k) => !k.endsWith('/lease.json')));
      }

      const resumed = await shopJob.run();
      expect(resumed).toMatchObject({ status: 'complete', resumed: true, records: 2, backupId: first.backupId });
      await verifyBackup({ backup: { storage, id: first.backupId! }, level: 'full' });
      await restore({ backup: { storage, id: first.backupId! }, target: mongoTarget({ db: restored }) });
      expect(await restored.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2 }]);
    } finally {
      await redis.del(pattern.replace('*', 'a'));
      redis.disconnect();
      await Promise.all([shop.dropDatabase(), billing.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  });
});
