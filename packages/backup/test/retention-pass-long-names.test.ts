/**
 * A retention pass of a `job` whose name is long: `snapshotBackup` accepts any name whose own
 * keys (`jobs/<job>/checkpoint.json`) fit S3's 1,024-byte limit, but the pass object's key
 * (`retention/backups-pass/job=<job>&stream=<stream>/keepLast=…&keepMs=…&pitrWindowMs=….json`)
 * is longer. gofakes3 refuses such a PUT as S3 does (`KeyTooLongError`), so every run that
 * saved its pass failed and retention of that job never got past its first run; moto stores
 * it (the test checks every key retention wrote fits). The scope's folder is then named by
 * its SHA-256 (retention-pass.ts). Pages of three ids of `backups/` and a clock that moves ten
 * seconds a page, as in retention-pass.test.ts. On both S3 servers (moto, gofakes3), FerretDB.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type RetentionReport } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS, smallPages, verifiedBackups } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a retention pass of a job with a long name, on $name', (server) => {
  it("finishes over runs, every key it writes within S3's 1,024 bytes", async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('longjob');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    // p/jobs/<job>/checkpoint.json: 1,013 bytes, accepted by snapshotBackup.
    const job = 'j'.repeat(990);
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }, { _id: 2 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage, job }), storage, 4);
      // Recent ids without a manifest (left alone): backups/ takes several pages.
      for (let i = 0; i < 4; i++) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/zzzz-${i}/part-1`, Body: 'x' }));
      const small = smallPages(s3.client);
      const reports: RetentionReport[] = [];
      do {
        small.state.pages = 0;
        reports.push(await applyRetention({ storage: { ...storage, client: small.client }, job, keepLast: 2, reserveMs: 3_000 }, { remainingMs: () => 22_999 - 10_000 * small.state.pages }));
        expect(reports.length).toBeLessThan(15);
        for (const key of await listAll(s3.client, s3.bucket, 'p/retention/')) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
      } while (reports.at(-1)!.backupsPass);
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read' });
      expect(reports.flatMap((r) => r.deleted)).toEqual(ids.slice(0, 2));
      expect(await listAll(s3.client, s3.bucket, 'p/retention/backups-pass/')).toEqual([]);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
