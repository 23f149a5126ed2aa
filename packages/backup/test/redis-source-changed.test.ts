/**
 * A Redis snapshot whose server restarted between two invocations cannot be resumed (the
 * SCAN cursor of the old server means nothing to the new one: keys would be missed). On a
 * redis-server of this test's own, restarted on the same port: the resumed run is refused with
 * `SourceChangedError`, the unfinished backup is removed (no checkpoint, no upload, no data
 * objects), and the next run makes a new, complete backup.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SourceChangedError, redisSource, snapshotBackup } from '../src/index.js';
import { startRedis } from '../../../test/support/servers.js';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { deadlineAfter, freshBucket, listAll, openUploads, S3_SERVERS } from './support.js';

/** ~12 MiB of keys gzip cannot shrink: three parts of 5 MiB or so. */
async function fill(redis: Redis): Promise<void> {
  for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => redis.set(`k:${i + j}`, randomBytes(6 * 1024))));
}

describe.each(S3_SERVERS)('a Redis snapshot whose server restarted, on $name', (server) => {
  it('is refused with SourceChangedError and removed; the next run starts a new backup', async () => {
    const s3 = await freshBucket(server);
    // No persistence: the restarted server comes back empty, with a new run_id.
    const redisServer = await startRedis();
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined); // the restart below drops the connection; it reconnects
    try {
      await fill(redis);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'changed' };
      // The first run stops once its first part is sent: a segment in progress, parts uploaded.
      const cut = deadlineAfter(s3.client, UploadPartCommand, 1);
      const job = snapshotBackup({ source: redisSource({ client: redis, pattern: 'k:*', scanCount: 100 }), target: { ...storage, client: cut.client }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024 });
      const first = await job.run(cut.ctx());
      expect(first.status).toBe('checkpointed');
      expect(await listAll(s3.client, s3.bucket, 'changed/jobs/')).toContain('changed/jobs/snapshot/checkpoint.json');
      expect(await openUploads(s3.client, s3.bucket)).toHaveLength(1); // the segment in progress, parts uploaded

      await redisServer.stop();
      await redisServer.start();
      await fill(redis); // the same keys again, on a server that is not the one the backup began on

      const error = await job.run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceChangedError);
      expect(error).toMatchObject({ code: 'BACKUP_SOURCE_CHANGED' });
      expect(await listAll(s3.client, s3.bucket, 'changed/jobs/snapshot/checkpoint.json')).toEqual([]);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect(await listAll(s3.client, s3.bucket, `changed/backups/${first.backupId}/`)).toEqual([]);

      const next = await job.run();
      expect(next).toMatchObject({ status: 'complete', resumed: false, records: 2000 });
      expect(next.backupId).not.toBe(first.backupId);
    } finally {
      redis.disconnect();
      await redisServer.dispose();
      await s3.drop();
    }
  }, 180_000);
});
