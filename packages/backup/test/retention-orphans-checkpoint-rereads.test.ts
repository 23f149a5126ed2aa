/**
 * Before it deletes an orphan (a backup id without a manifest, old enough, that no job
 * checkpoint names), retention read every job checkpoint again (`jobs/`: a listing and a GET
 * per job) — once per orphan (retention-orphans.ts, `cleanOrphanIds`): a prefix with J jobs and
 * N orphans cost J × (N + 1) checkpoint GETs a run. Now the re-read is made once, just before
 * the run's first orphan delete, and used for every later id of the run (and of each run of a
 * pass): at most 2 × J GETs, whatever N. No id a checkpoint names is deleted.
 *
 * Three jobs whose checkpoints name backups of their own (no manifest: in progress), five
 * orphan ids (an object each), `orphanGraceMs: 0` and a clock a minute ahead (every object old
 * enough). Checkpoint GETs counted. In one run, and in a pass (pages of three ids: the sweep
 * judges the orphans id by id over runs). On both S3 servers (moto, gofakes3).
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { applyRetention, type S3Target } from '../src/index.js';
import { countingRequests, freshBucket, listAll, S3_SERVERS, smallPages } from './support.js';

const JOBS = 3;
const ORPHANS = 5;
const CHECKPOINT = /^p\/jobs\/[^/]+\/checkpoint\.json$/;

describe.each(S3_SERVERS)('retention cleaning many orphans beside several job checkpoints, on $name', (server) => {
  const setUp = async (s3: Awaited<ReturnType<typeof freshBucket>>) => {
    const put = (Key: string, Body: string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body }));
    const running = Array.from({ length: JOBS }, (_, i) => `1111-running-${i}`);
    for (const [i, id] of running.entries()) {
      await put(`p/jobs/j${i}/checkpoint.json`, JSON.stringify({ backupId: id, updatedAt: new Date().toISOString() }));
      await put(`p/backups/${id}/part-1.ndjson.gz`, 'x');
    }
    const orphans = Array.from({ length: ORPHANS }, (_, i) => `0000-orphan-${i}`);
    for (const id of orphans) await put(`p/backups/${id}/part-1.ndjson.gz`, 'x');
    return { running, orphans };
  };

  it('reads the checkpoints at most twice in one run, whatever the number of orphans', async () => {
    const s3 = await freshBucket(server);
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const { running, orphans } = await setUp(s3);
      const counting = countingRequests(s3.client, GetObjectCommand, CHECKPOINT);
      const report = await applyRetention({ storage: { ...storage, client: counting.client }, orphanGraceMs: 0, now: () => Date.now() + 60_000 });
      // Before: once to judge, then once more per orphan (3 + 5 × 3 = 18).
      expect(counting.state.count).toBe(2 * JOBS);
      expect(report.stoppedBy).toBeUndefined();
      expect(report.orphans.cleaned).toEqual(orphans);
      expect(report.orphans.leftAlone).toEqual(running.map((id) => ({ id, reason: 'in progress (a checkpoint names it)' })));
      expect(await listAll(s3.client, s3.bucket, 'p/backups/')).toEqual(running.map((id) => `p/backups/${id}/part-1.ndjson.gz`));
    } finally {
      await s3.drop();
    }
  });

  it('reads them at most twice per run of a pass that judges the orphans id by id', async () => {
    const s3 = await freshBucket(server);
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const { running, orphans } = await setUp(s3);
      const pages = smallPages(s3.client);
      const counting = countingRequests(pages.client, GetObjectCommand, CHECKPOINT);
      const policy = { storage: { ...storage, client: counting.client }, orphanGraceMs: 0, now: () => Date.now() + 60_000 };
      // A first run stopped after its first page of backups/ starts a pass.
      const first = await applyRetention(policy, { remainingMs: () => (pages.state.pages < 2 ? 60_000 : 1_000) });
      expect(first.backupsPass).toMatchObject({ phase: 'read' });
      const cleaned: string[] = [];
      for (let run = 0; run < 6; run++) {
        counting.state.count = 0;
        const next = await applyRetention(policy, { remainingMs: () => 60_000 });
        // Before: the sweep re-read every checkpoint before each orphan's delete.
        expect(counting.state.count).toBeLessThanOrEqual(2 * JOBS);
        cleaned.push(...next.orphans.cleaned);
        if (!next.backupsPass) break;
      }
      expect([...new Set(cleaned)].sort()).toEqual(orphans);
      expect(await listAll(s3.client, s3.bucket, 'p/backups/')).toEqual(running.map((id) => `p/backups/${id}/part-1.ndjson.gz`));
    } finally {
      await s3.drop();
    }
  });
});
