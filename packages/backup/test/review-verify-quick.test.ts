/**
 * Review: a `quick` verification (manifest and segment sizes only) after a passed `full` or
 * `drill` one, on moto and gofakes3 (FerretDB as the source). Retention and point-in-time
 * restore trust a backup whose last full or drill verification passed; a passing quick check
 * (say, a daily monitor) used to overwrite that record, so the backup lost its trust. A
 * passing quick check now leaves a passed full/drill record as it is; a failing one still
 * replaces it (the backup is damaged now).
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a quick verification after a full one, on $name', (server) => {
  it('keeps the full verification when it passes, and replaces it when it fails', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('vquick');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'vq' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }, { _id: 2 }]);
      const done = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const id = done.backupId;
      await verifyBackup({ backup: { storage, id }, level: 'full' });
      expect((await applyRetention({ storage, dryRun: true })).protected.newestVerified).toBe(id);

      expect(await verifyBackup({ backup: { storage, id }, level: 'quick' })).toMatchObject({ ok: true });
      expect(await readJson(s3.client, s3.bucket, `vq/backups/${id}/verification.json`)).toMatchObject({ level: 'full', ok: true });
      expect((await applyRetention({ storage, dryRun: true })).protected.newestVerified).toBe(id);

      // A segment gone: the quick check fails and its record replaces the full one.
      const manifest = (await readJson<{ datasets: Array<{ segments: Array<{ key: string }> }> }>(s3.client, s3.bucket, `vq/backups/${id}/manifest.json`))!;
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: manifest.datasets[0]!.segments[0]!.key }));
      await expect(verifyBackup({ backup: { storage, id }, level: 'quick' })).rejects.toMatchObject({ code: 'BACKUP_VERIFY_FAILED' });
      expect(await readJson(s3.client, s3.bucket, `vq/backups/${id}/verification.json`)).toMatchObject({ level: 'quick', ok: false });
      expect((await applyRetention({ storage, dryRun: true })).protected.newestVerified).toBeUndefined();
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  });
});
