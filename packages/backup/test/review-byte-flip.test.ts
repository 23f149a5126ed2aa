/**
 * Attack list: one byte flipped in each kind of object a snapshot backup writes — the manifest
 * and each dataset's segment (a multipart object of gzip parts: its first part's first byte,
 * a byte in the middle of a part, the last byte of the object) — on both S3 emulators, the
 * source on FerretDB. `verifyBackup` (`full`) must fail with `BACKUP_VERIFY_FAILED`, a problem
 * naming the flipped object; `restore` must refuse it with a typed error naming the object and
 * write nothing into the target. The unflipped backup passes both (the test can fail).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BackupError, mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup, VerificationFailedError } from '../src/index.js';
import { closeMongo, flipByte, freshBucket, freshDb, listAll, noise, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('one byte flipped in each object of a snapshot backup ($name)', (server) => {
  it('fails full verification naming the object, and restore refuses it writing nothing', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('flipsrc');
    const target = await freshDb('flipdst');
    try {
      await source.collection<{ _id: number; blob: string }>('a').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, blob: noise(512) })));
      await source.collection<{ _id: string }>('b').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `k${i}` })));
      await source.collection('b').createIndex({ x: 1 }, { name: 'x_1' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'flip' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const id = done.backupId;
      const manifestKey = `flip/backups/${id}/manifest.json`;
      const manifest = (await readJson<{ datasets: Array<{ segments: Array<{ key: string; parts: Array<{ offset?: number; size?: number }> }> }> }>(s3.client, s3.bucket, manifestKey))!;
      const segments = manifest.datasets.flatMap((d) => d.segments.map((s) => s.key));
      expect(segments.length).toBeGreaterThanOrEqual(2);
      // Every object under the backup's id is one the manifest names, or the manifest/verification.
      const objects = await listAll(s3.client, s3.bucket, `flip/backups/${id}/`);
      expect(objects.filter((k) => k !== manifestKey && !segments.includes(k) && !k.endsWith('/verification.json'))).toEqual([]);

      await expect(verifyBackup({ backup: { storage, id }, level: 'full' })).resolves.toMatchObject({ ok: true });

      const cases: Array<[string, (n: number) => number]> = [
        [manifestKey, (n) => Math.floor(n / 2)],
        [manifestKey, () => 0],
        ...segments.flatMap((key): Array<[string, (n: number) => number]> => [
          [key, () => 0],
          [key, (n) => Math.floor(n / 2)],
          [key, (n) => n - 1],
        ]),
      ];
      for (const [key, at] of cases) {
        const restoreOriginal = await flipByte(s3.client, s3.bucket, key, { at, mask: 0x20 });
        const label = `${key} @${at(1000)}/1000`;
        const failed: unknown = await verifyBackup({ backup: { storage, id }, level: 'full' }).catch((e: unknown) => e);
        expect(failed, label).toBeInstanceOf(VerificationFailedError);
        expect((failed as VerificationFailedError).problems.map((p) => p.key), label).toContain(key);
        const refused: unknown = await restore({ backup: { storage, id }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
        expect(refused, label).toBeInstanceOf(BackupError);
        expect((refused as BackupError).code, label).toMatch(/^BACKUP_(CORRUPTED|INCOMPLETE|FORMAT_UNSUPPORTED)$/);
        expect((refused as BackupError).problems.map((p) => p.key), label).toContain(key);
        expect(await target.listCollections().toArray(), `${label}: nothing restored`).toEqual([]);
        await restoreOriginal();
      }
      // Put back, it restores whole.
      const report = await restore({ backup: { storage, id }, target: mongoTarget({ db: target }) });
      expect(report.records).toBe(250);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
