/**
 * Retention cleans what is under `backups/` without being a backup, with real kill points, on
 * moto and gofakes3 (FerretDB as the source). It used to leave such objects forever:
 * - a snapshot run killed (SIGKILL) before its commit: left alone while its job's checkpoint
 *   names it (the next invocation resumes it), and while younger than `orphanGraceMs`; once its
 *   job is abandoned and the grace has passed, its unfinished upload is aborted;
 * - a retention run killed (SIGKILL) between a backup's manifest and its segments: the next
 *   runs are refused while the dead run's lease lasts (only the lease holder deletes), then
 *   clean the segments left behind in bounded batches (`orphanBatchSize`), after the grace.
 */
import { rmSync } from 'node:fs';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { ConfigurationError, LeaseHeldError, applyRetention, mongoSource, snapshotBackup, verifyBackup, type SnapshotCheckpoint } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, freshBucket, freshDb, listAll, noise, openUploads, readJson, S3_SERVERS, verifiedBackups, whenLeaseFree } from './support.js';

afterAll(closeMongo);

const DAY = 86_400_000;
const later = () => Date.now() + DAY + 3_600_000; // the default grace (24 h) has passed

describe.each(S3_SERVERS)('retention cleans orphans, on $name', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('orphsrc');
    for (let start = 0; start < 3000; start += 500) {
      await source.collection<{ _id: number; blob: string }>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
    await source.collection<{ _id: number }>('small').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    await source.collection<{ _id: number }>('tiny').insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i })));
  }, 120_000);
  afterAll(async () => {
    await source.dropDatabase();
  });

  it('a snapshot run killed before its commit: left alone while checkpointed or in the grace period, then its upload is aborted', async () => {
    const s3 = await freshBucket(server);
    const { file, dir } = bundleChild(new URL('./child/snapshot-child.ts', import.meta.url).href);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'killed' };
    try {
      const run = await runChild(file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_DB: source.databaseName, SLOW_PART_MS: '400', CHILD_LEASE_MS: '3000' }, /(?:part \d+\n[^]*){3}/); // the probe's part, then two of the backup's
      expect(run).toMatchObject({ killed: true, errors: [] });
      expect(run.output).not.toMatch(/done/);
      const checkpoint = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json'))!;
      const id = checkpoint.backupId;
      const uploads = (await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith(`killed/backups/${id}/`));
      expect(uploads.length).toBeGreaterThan(0);

      // In progress: its checkpoint names it, whatever the grace.
      const inProgress = await whenLeaseFree(() => applyRetention({ storage, orphanGraceMs: 0 }));
      expect(inProgress.orphans).toMatchObject({ cleaned: [], uploadsAborted: 0, leftAlone: [{ id, reason: 'in progress (a checkpoint names it)' }] });
      expect(await openUploads(s3.client, s3.bucket)).toEqual(uploads);

      // The job is abandoned (its checkpoint removed): still younger than the grace period.
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'killed/jobs/snapshot/checkpoint.json' }));
      expect((await applyRetention({ storage })).orphans).toMatchObject({ cleaned: [], leftAlone: [{ id, reason: 'within the grace period' }] });
      expect((await applyRetention({ storage, now: later, dryRun: true })).orphans).toMatchObject({ cleaned: [id], uploadsAborted: 0 });
      expect(await openUploads(s3.client, s3.bucket)).toEqual(uploads);

      // Past the grace period: cleaned.
      const cleaned = await applyRetention({ storage, now: later });
      expect(cleaned.orphans).toMatchObject({ cleaned: [id], uploadsAborted: uploads.length, remaining: false, leftAlone: [] });
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect(await listAll(s3.client, s3.bucket, 'killed/backups/')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s3.drop();
    }
  }, 120_000);

  it('a retention run killed between a manifest and its segments: refused while its lease lasts, then cleaned in bounded batches', async () => {
    const s3 = await freshBucket(server);
    const { file, dir } = bundleChild(new URL('./child/retention-child.ts', import.meta.url).href);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ret' };
    try {
      // Three verified backups of two collections (two segments each).
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source, collections: ['small', 'tiny'] }), target: storage }), storage, 3);
      const segmentsOf = async (id: string) => (await listAll(s3.client, s3.bucket, `ret/backups/${id}/`)).filter((k) => k.endsWith('.ndjson.gz'));
      const doomed = await segmentsOf(ids[0]!);
      expect(doomed).toHaveLength(2);

      const run = await runChild(file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_PREFIX: 'ret', KILL_AT: '\\.ndjson\\.gz$', CHILD_LEASE_MS: '3000' });
      expect(run).toMatchObject({ killed: true, errors: [] });
      expect(run.output.split('\n').filter((l) => l.includes('/backups/')).join('\n')).toBe(`delete ret/backups/${ids[0]}/manifest.json\ndelete ret/backups/${ids[0]}/verification.json`);
      expect(await listAll(s3.client, s3.bucket, `ret/backups/${ids[0]}/`)).toEqual(doomed);

      // The dead run's lease still holds: another run deletes nothing.
      await expect(applyRetention({ storage, keepLast: 1, now: later, orphanGraceMs: 0 })).rejects.toBeInstanceOf(LeaseHeldError);
      expect(await listAll(s3.client, s3.bucket, `ret/backups/${ids[0]}/`)).toEqual(doomed);

      // Within the grace period (default 24 h, from the newest of the id's time and its objects'): left alone.
      const next = await whenLeaseFree(() => applyRetention({ storage, keepLast: 1 }));
      expect(next.deleted).toEqual([ids[1]]);
      expect(next.orphans.leftAlone).toEqual([{ id: ids[0], reason: 'within the grace period' }]);

      // After it: one object per run, then the rest.
      const first = await applyRetention({ storage, keepLast: 1, now: later, orphanBatchSize: 1 });
      expect(first.orphans).toMatchObject({ cleaned: [], objects: 1, remaining: true });
      const second = await applyRetention({ storage, keepLast: 1, now: later, orphanBatchSize: 1 });
      expect(second.orphans).toMatchObject({ cleaned: [ids[0]], objects: 1, remaining: false });
      expect(await listAll(s3.client, s3.bucket, `ret/backups/${ids[0]}/`)).toEqual([]);
      // The kept backup is whole.
      expect(await verifyBackup({ backup: { storage, id: ids[2]! }, level: 'full' })).toMatchObject({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s3.drop();
    }
  }, 120_000);
});

describe.each(S3_SERVERS)('retention and a damaged manifest, on $name', (server) => {
  it('a backup whose manifest is damaged (or of a newer format) is not an orphan: never cleaned', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('orphdmg');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'dmg' };
    try {
      await db.collection<{ _id: number }>('d').insertMany([{ _id: 1 }, { _id: 2 }]);
      const result = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      if (result.status !== 'complete') throw new Error('snapshot did not complete');
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: result.manifestKey, Body: '{"formatVersion": 99}' }));
      const before = await listAll(s3.client, s3.bucket, `dmg/backups/${result.backupId}/`);
      const report = await applyRetention({ storage, now: later, orphanGraceMs: 0 });
      expect(report.uncommitted).toEqual([]);
      expect(report.orphans.cleaned).toEqual([]);
      expect(await listAll(s3.client, s3.bucket, `dmg/backups/${result.backupId}/`)).toEqual(before);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  });
});

describe('retention options', () => {
  it('checks orphanGraceMs, orphanBatchSize and leaseMs up front', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const storage = { client: s3.client, bucket: s3.bucket };
    try {
      for (const bad of [{ orphanGraceMs: -1 }, { orphanGraceMs: 1.5 }, { orphanBatchSize: 0 }, { leaseMs: 10 }]) {
        const error = await applyRetention({ storage, ...bad }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: Object.keys(bad)[0] });
      }
    } finally {
      await s3.drop();
    }
  });
});
