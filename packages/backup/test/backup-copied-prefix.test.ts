/**
 * A backup copied to another prefix (another bucket folder, a replica) is read from where it
 * lies: its manifest's segment keys carry the prefix it was written under, and a reader takes
 * only the part after `backups/<id>/`. Tampering with the original no longer reaches a restore
 * or verification of the copy, deleting the original leaves the copy whole, and tampering with
 * the copy is noticed. A manifest whose segment key escapes its backup (another id, `..`) is
 * refused naming the field. On both S3 emulators, the source on FerretDB.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupCorruptedError, BackupError, mongoSource, mongoTarget, parseManifest, restore, snapshotBackup, verifyBackup, VerificationFailedError } from '../src/index.js';
import { serializeManifest } from '../src/format/manifest.js';
import { closeMongo, flipByte, freshBucket, freshDb, listAll, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a backup copied to another prefix ($name)', (server) => {
  it('restores and verifies from the copy; a tampered copy or an escaping key is refused', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('copysrc');
    const targets = [await freshDb('copydst1'), await freshDb('copydst2'), await freshDb('copydst3')];
    const read = async (key: string) => Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
    const put = (key: string, body: Buffer | string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    try {
      await source.collection<{ _id: number; v: string }>('a').insertMany(Array.from({ length: 120 }, (_, i) => ({ _id: i, v: `v${i}` })));
      const original = { client: s3.client, bucket: s3.bucket, prefix: 'orig' };
      const copy = { ...original, prefix: 'elsewhere/copy' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: original }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const id = done.backupId;
      const objects = await listAll(s3.client, s3.bucket, `orig/backups/${id}/`);
      for (const key of objects) await put(key.replace(/^orig\//, 'elsewhere/copy/'), await read(key));
      const segments = objects.filter((k) => k.includes('/data/'));
      expect(segments.length).toBeGreaterThan(0);

      // The original damaged: the copy is read from itself, so it verifies and restores.
      for (const key of segments) await flipByte(s3.client, s3.bucket, key, { at: () => 0, mask: 0x20 });
      await expect(verifyBackup({ backup: { storage: copy, id }, level: 'full' })).resolves.toMatchObject({ ok: true });
      expect((await restore({ backup: { storage: copy, id }, target: mongoTarget({ db: targets[0]! }) })).records).toBe(120);

      // The original deleted (retention at its prefix): the copy still holds every object.
      for (const key of objects) await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
      expect((await restore({ backup: { storage: copy, id: 'latest' }, target: mongoTarget({ db: targets[1]! }) })).records).toBe(120);

      // The copy damaged: noticed, naming the copy's object.
      const copied = segments[0]!.replace(/^orig\//, 'elsewhere/copy/');
      const putBack = await flipByte(s3.client, s3.bucket, copied, { at: () => 0, mask: 0x20 });
      const failed: unknown = await verifyBackup({ backup: { storage: copy, id }, level: 'full' }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(VerificationFailedError);
      expect((failed as VerificationFailedError).problems.map((p) => p.key)).toContain(copied);
      const refused: unknown = await restore({ backup: { storage: copy, id }, target: mongoTarget({ db: targets[2]! }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BackupError);
      expect((refused as BackupError).problems.map((p) => p.key)).toContain(copied);
      expect(await targets[2]!.listCollections().toArray()).toEqual([]);
      await putBack();

      // A manifest (self-checksum intact) whose segment key names another backup, or climbs out with `..`: refused naming the field.
      const manifestKey = `elsewhere/copy/backups/${id}/manifest.json`;
      const pristine = (await read(manifestKey)).toString();
      const { selfChecksum: _c, ...body } = parseManifest(pristine, manifestKey);
      const segmentKey = body.datasets[0]!.segments[0]!.key;
      for (const bad of [segmentKey.replace(id, '019ad0c1-0000-7000-8000-000000000000'), `data/../../${id}/data/a/00000.ndjson.gz`, `/${segmentKey}`]) {
        const tampered = { ...body, datasets: body.datasets.map((d, i) => (i === 0 ? { ...d, segments: d.segments.map((s, j) => (j === 0 ? { ...s, key: bad } : s)) } : d)) };
        await put(manifestKey, serializeManifest(tampered));
        const error: unknown = await restore({ backup: { storage: copy, id }, target: mongoTarget({ db: targets[2]! }) }).catch((e: unknown) => e);
        expect(error, bad).toBeInstanceOf(BackupCorruptedError);
        expect((error as BackupCorruptedError).problems[0]?.message, bad).toMatch(/^datasets\.0\.segments\.0\.key: expected data\/<dataset>\/<file> under backups\//);
        expect(await targets[2]!.listCollections().toArray()).toEqual([]);
      }
      await put(manifestKey, pristine);
      expect((await restore({ backup: { storage: copy, id }, target: mongoTarget({ db: targets[2]! }) })).records).toBe(120);
    } finally {
      await Promise.all([source.dropDatabase(), ...targets.map((t) => t.dropDatabase()), s3.drop()]);
    }
  }, 120_000);
});
