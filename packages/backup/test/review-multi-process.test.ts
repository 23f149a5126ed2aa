/**
 * Attack list, in real processes (test/child/snapshot-child.ts, bundled), on both S3
 * emulators with FerretDB as the source:
 * - two processes run the same scheduled snapshot job at once: one takes the job lease and
 *   commits, the other is refused with `LeaseHeldError` (`BACKUP_LEASE_HELD`) before writing a
 *   backup: one manifest, which verifies and restores whole;
 * - a third run is killed with SIGKILL between parts (a torn backup): `'latest'` still is the
 *   committed backup (restore and verify), retention (`keepLast: 1`, no orphan grace) deletes
 *   neither it nor the torn backup's parts (its live checkpoint names them), and the next run
 *   resumes the torn backup and commits it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { applyRetention, mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup, type SnapshotCheckpoint } from '../src/index.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, freshBucket, freshDb, listAll, noise, readJson, S3_SERVERS, whenLeaseFree } from './support.js';

afterAll(closeMongo);

/** About 12 MiB of incompressible documents: three 5 MiB parts, each slowed in the child. */
const DOCS = 3_000;

describe.each(S3_SERVERS)('snapshot job in several processes ($name)', (server) => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('mpsrc');
    for (let start = 0; start < DOCS; start += 500) {
      await source.collection<{ _id: number; blob: string }>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
  }, 120_000);
  afterAll(async () => {
    await source?.dropDatabase();
  });

  it('two at once: one commits, one is refused by the lease; a torn run leaves latest and retention alone, then resumes', async () => {
    const s3 = await freshBucket(server);
    const target = await freshDb('mpdst');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'killed' };
    const { file, dir } = bundleChild(new URL('./child/snapshot-child.ts', import.meta.url).href);
    const env = { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_DB: source.databaseName, SLOW_PART_MS: '1500', CHILD_LEASE_MS: '5000' };
    try {
      const both = await Promise.all([runChild(file, env), runChild(file, env)]);
      const done = both.filter((c) => /done complete/.test(c.output));
      const refused = both.filter((c) => c.errors.some((l) => l.includes('child failed: LeaseHeldError BACKUP_LEASE_HELD')));
      expect({ done: done.length, refused: refused.length }, JSON.stringify(both.map((c) => [c.output, c.errors]))).toEqual({ done: 1, refused: 1 });
      const manifests = (await listAll(s3.client, s3.bucket, 'killed/backups/')).filter((k) => k.endsWith('/manifest.json'));
      expect(manifests).toHaveLength(1);
      const good = manifests[0]!.split('/')[2]!;
      await expect(verifyBackup({ backup: { storage, id: 'latest' }, level: 'full' })).resolves.toMatchObject({ ok: true, backupId: good });

      // A torn run: killed between parts (after its second part returned, the checkpoint naming the first ones).
      const torn = await runChild(file, env, /part 2\n/);
      expect({ killed: torn.killed, errors: torn.errors }).toEqual({ killed: true, errors: [] });
      const checkpoint = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json'))!;
      expect(checkpoint.backupId).not.toBe(good);

      await expect(verifyBackup({ backup: { storage, id: 'latest' }, level: 'quick' })).resolves.toMatchObject({ ok: true, backupId: good });
      const report = await whenLeaseFree(() => applyRetention({ storage, keepLast: 1, orphanGraceMs: 0 }));
      expect(report.deleted).not.toContain(good);
      expect(report.protected.newestVerified).toBe(good);
      expect((await listAll(s3.client, s3.bucket, `killed/backups/${good}/`)).length).toBeGreaterThan(1);
      expect(await readJson(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json')).toMatchObject({ backupId: checkpoint.backupId });
      const restored = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      expect(restored).toMatchObject({ backupId: good, records: DOCS });

      // The next run resumes the torn backup.
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 250 }), target: storage, partSizeBytes: 5 * 1024 * 1024 });
      const resumed = await whenLeaseFree(() => job.run({ requestId: 'next' }));
      expect(resumed).toMatchObject({ status: 'complete', backupId: checkpoint.backupId, resumed: true, records: DOCS });
      await expect(verifyBackup({ backup: { storage, id: 'latest' }, level: 'full' })).resolves.toMatchObject({ ok: true, backupId: checkpoint.backupId });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 180_000);
});
