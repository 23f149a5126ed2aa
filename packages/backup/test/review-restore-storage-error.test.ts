/**
 * Review: restore and verification while S3 fails a read (a 503 on a segment), on moto and
 * gofakes3 (FerretDB). They rejected with the AWS SDK's own error — not a `SteadyError`, no
 * stable code, its message free to carry request details. Now a `StorageError`
 * (`BACKUP_STORAGE_FAILED`, retryable); nothing was written, and a verification cut short by
 * S3 records no verdict (the backup keeps its last one).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('S3 failing under a restore or a verification, on $name', (server) => {
  it('is a StorageError, with nothing written and no verdict recorded', async () => {
    const s3 = await freshBucket(server);
    const [db, restored] = [await freshDb('r503'), await freshDb('r503r')];
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      await db.collection<{ _id: number }>('a').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
      const done = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: done.backupId }, level: 'full' });
      const failing = {
        async send(command: unknown, options?: unknown) {
          if (command instanceof GetObjectCommand && String(command.input.Key).endsWith('.ndjson.gz')) {
            throw Object.assign(new Error('Service Unavailable for AKIA-secret'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } });
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const backup = { storage: { ...storage, client: failing }, id: done.backupId };
      const error = await restore({ backup, target: mongoTarget({ db: restored }) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'StorageError', code: 'BACKUP_STORAGE_FAILED', retryable: true });
      expect(String((error as Error).message)).not.toContain('AKIA-secret');
      expect(await restored.collection('a').countDocuments()).toBe(0);

      expect(await verifyBackup({ backup, level: 'full' }).catch((e: unknown) => e)).toMatchObject({ name: 'StorageError', code: 'BACKUP_STORAGE_FAILED' });
      expect(await readJson(s3.client, s3.bucket, `r/backups/${done.backupId}/verification.json`)).toMatchObject({ level: 'full', ok: true });
    } finally {
      await Promise.all([db.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  });
});
