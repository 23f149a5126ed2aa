/**
 * Review follow-up: `backup: { id: 'latest' }` picked the newest backup under the prefix,
 * whatever its job or kind: on a prefix shared by a MongoDB job and a Redis job, a MongoDB
 * restore of `'latest'` picked the Redis backup (and was refused). `backup.job` names the job:
 * `'latest'` is then the newest backup of that job; with an explicit id, a backup of another
 * job is refused (`BackupNotFoundError`); a job that is not a non-empty string is a
 * `ConfigurationError` on `backup.job` before anything is sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { BackupNotFoundError, mongoSource, mongoTarget, redisSource, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { configError, storage as offlineStorage } from './offline-options.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

const quits: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await closeMongo();
  for (const q of quits) await q();
});

describe("backup.job with id 'latest'", () => {
  it('picks the newest backup of that job on a prefix shared by a MongoDB and a Redis job', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('latestsrc');
    const target: Db = await freshDb('latestdst');
    const client = await redisClient();
    quits.push(() => client.quit());
    const p = unique('latestjob');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'shared' };
      await source.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      const mongo = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, job: 'orders' }).run();
      expect(mongo.status).toBe('complete');
      await client.set(`${p}:k`, 'v');
      const redis = await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage, job: 'cache' }).run();
      expect(redis.status).toBe('complete');

      const report = await restore({ backup: { storage, id: 'latest', job: 'orders' }, target: mongoTarget({ db: target }) });
      expect(report.backupId).toBe((mongo as { backupId: string }).backupId);
      expect(await target.collection('orders').countDocuments()).toBe(1);

      const verified = await verifyBackup({ backup: { storage, id: 'latest', job: 'cache' }, level: 'quick' });
      expect(verified.backupId).toBe((redis as { backupId: string }).backupId);

      await expect(restore({ backup: { storage, id: (redis as { backupId: string }).backupId, job: 'orders' }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupNotFoundError);
      await expect(restore({ backup: { storage, id: 'latest', job: 'nosuchjob' }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupNotFoundError);
    } finally {
      await client.del(`${p}:k`);
      await s3.drop();
    }
  });

  it('a job that is not a non-empty string is refused before anything is sent', async () => {
    const target = mongoTarget({ db: { databaseName: 'x', collection: () => ({}), command: async () => ({}), listCollections: () => ({ toArray: async () => [] }) } as never });
    expect((await configError(() => restore({ backup: { storage: offlineStorage, id: 'latest', job: '' }, target }))).field).toBe('backup.job');
    expect((await configError(() => restore({ backup: { storage: offlineStorage, id: 'latest', job: 7 as never }, target }))).field).toBe('backup.job');
  });
});
