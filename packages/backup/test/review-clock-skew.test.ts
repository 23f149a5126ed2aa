/**
 * Attack list: a process whose clock is minutes off, on both S3 emulators (FerretDB as the
 * source).
 * - The job leases (a snapshot job's, retention's) are judged by S3's clock (the `Date`
 *   header): a runner whose `Date.now()` is 10 minutes ahead or behind cannot take a job lease
 *   another process holds (`LeaseHeldError`), nothing written.
 * - Retention's keep rules and orphan grace: a retention runner whose `Date.now()` is 10
 *   minutes ahead of S3's clock must not delete a backup that ended seconds ago while `keepMs`
 *   is 5 minutes, nor the objects of a run started seconds ago while `orphanGraceMs` is 5
 *   minutes. (The `now` option is not the injection: it stands for time having passed, as the
 *   retention tests use it, and stays authoritative.)
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3LeaseStore } from '@steadyfn/lease/s3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { applyRetention, LeaseHeldError, mongoSource, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS, verifiedBackups } from './support.js';

afterAll(closeMongo);
afterEach(() => vi.restoreAllMocks());

const MINUTE = 60_000;

describe.each(S3_SERVERS)('a runner whose clock is 10 minutes off ($name)', (server) => {
  it('cannot take a snapshot job lease or the retention lease another process holds', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('skewlease');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sk' };
    try {
      await source.collection<{ _id: number }>('a').insertOne({ _id: 1 });
      // Another process holds both leases (as the jobs take them: the S3 lease store under the prefix).
      const other = s3LeaseStore({ client: s3.client, bucket: s3.bucket, prefix: 'sk/' });
      for (const key of ['jobs/snapshot/lease.json', 'retention/lease.json']) {
        expect(await other.claim({ key, owner: uuidv7(), leaseMs: 2 * MINUTE })).toMatchObject({ claimed: true });
      }
      const real = Date.now.bind(Date);
      for (const skew of [10 * MINUTE, -10 * MINUTE]) {
        vi.spyOn(Date, 'now').mockImplementation(() => real() + skew);
        const job = snapshotBackup({ source: mongoSource({ db: source }), target: storage });
        await expect(job.run(), `skew ${skew}`).rejects.toBeInstanceOf(LeaseHeldError);
        await expect(applyRetention({ storage, keepLast: 1 }), `skew ${skew}`).rejects.toBeInstanceOf(LeaseHeldError);
        vi.restoreAllMocks();
      }
      expect((await listAll(s3.client, s3.bucket, 'sk/backups/')).length).toBe(0);
    } finally {
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });

  it('retention 10 minutes ahead deletes neither a backup within keepMs nor a fresh run within the orphan grace', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('skewret');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sk' };
    try {
      await source.collection<{ _id: number }>('a').insertOne({ _id: 1 });
      const job = snapshotBackup({ source: mongoSource({ db: source }), target: storage });
      const [older, newest] = await verifiedBackups(job, storage, 2);
      // A run that started seconds ago and has written an object (no manifest, no checkpoint yet).
      const fresh = uuidv7();
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `sk/backups/${fresh}/a.0.ndjson.gz`, Body: 'x' }));

      const real = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => real() + 10 * MINUTE);
      const report = await applyRetention({ storage, keepLast: 1, keepMs: 5 * MINUTE, orphanGraceMs: 5 * MINUTE });
      vi.restoreAllMocks();
      expect(report.protected.newestVerified).toBe(newest);
      expect(report.deleted, 'ended seconds ago by S3\'s clock: within keepMs').not.toContain(older);
      expect(report.orphans.cleaned, 'written seconds ago by S3\'s clock: within the grace').not.toContain(fresh);
      const left = await listAll(s3.client, s3.bucket, 'sk/backups/');
      expect(left.some((k) => k.startsWith(`sk/backups/${older}/`))).toBe(true);
      expect(left).toContain(`sk/backups/${fresh}/a.0.ndjson.gz`);
    } finally {
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });
});
