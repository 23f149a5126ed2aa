/**
 * `verifyBackup` of `id: 'latest'` whose newest manifest is damaged fails (a drill of 'latest'
 * must not pass on an older backup), wrapped in `VerificationFailedError`. restore's error for
 * the same case names the newest older backup whose manifest is readable; the wrapper carried
 * only the inner code (`... failed: BACKUP_CORRUPTED`), so an operator reading the alarm had to
 * list the bucket. The wrapper now carries the inner message (the older backup's id and job)
 * and the inner error as its `cause`. Both S3 emulators.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BackupCorruptedError, mongoSource, snapshotBackup, verifyBackup, VerificationFailedError } from '../src/index.js';
import { closeMongo, flipByte, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)("verifyBackup of 'latest' with a damaged newest manifest (%s)", (server) => {
  it('fails naming the newest older backup with a readable manifest, the inner error as cause', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('verlatestsrc');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
      const job = snapshotBackup({ source: mongoSource({ db: source }), target: storage, job: 'orders' });
      await source.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      const older = (await job.run()) as { backupId: string };
      await source.collection<{ _id: number }>('orders').insertOne({ _id: 2 });
      const newest = (await job.run()) as { backupId: string };
      const key = `p/backups/${newest.backupId}/manifest.json`;
      await flipByte(s3.client, s3.bucket, key);

      for (const level of ['quick', 'full'] as const) {
        const failed: unknown = await verifyBackup({ backup: { storage, id: 'latest' }, level }).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(VerificationFailedError);
        const error = failed as VerificationFailedError;
        expect(error.code).toBe('BACKUP_VERIFY_FAILED');
        expect(error.problems.map((p) => p.key)).toContain(key);
        expect(error.message).toContain('BACKUP_CORRUPTED');
        expect(error.message).toContain(`the newest older backup with a readable manifest is ${older.backupId} (job "orders")`);
        expect(error.cause).toBeInstanceOf(BackupCorruptedError);
      }
    } finally {
      await s3.drop();
    }
  });
});
