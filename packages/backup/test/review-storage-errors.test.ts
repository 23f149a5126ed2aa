/**
 * Review (try-to-break) finding on S3 failures before a job starts, on both S3 servers: a
 * bucket that does not exist made `restore` and a snapshot run reject (and `verifyBackup` throw, untyped) with the
 * SDK's raw `NoSuchBucket` (the start-up probe's error passed through). It must be the
 * documented typed `StorageError` (`BACKUP_STORAGE_FAILED`), with the SDK error as `cause`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StorageError, mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshDb, s3Client, S3_SERVERS } from './support.js';
import { requireService } from '../../../test/services/env.js';
import { afterAll } from 'vitest';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a missing bucket on $name', (server) => {
  it('is a StorageError for restore and a snapshot run, and a failed verification naming it', async () => {
    await requireService(server.service);
    const storage = { client: s3Client(process.env[server.env]!), bucket: `missing-${randomUUID().slice(0, 8)}`, prefix: 'p' };
    const db = await freshDb('missingbucket');
    for (const work of [
      () => restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db }) }),
      () => snapshotBackup({ source: mongoSource({ db }), target: storage }).run(),
    ]) {
      const error = await work().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
      // The start-up probe names the missing bucket (missing-bucket.ts; s3-probe-missing-bucket.test.ts).
      expect(error).toMatchObject({ retryable: false, bucket: storage.bucket });
      expect((error as StorageError).message).toContain(`"${storage.bucket}" does not exist`);
    }
    // verifyBackup reports every failure as a failed verification, naming the cause's code.
    const failed = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'quick' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'VerificationFailedError', report: { error: 'BACKUP_STORAGE_FAILED' } });
  });
});
