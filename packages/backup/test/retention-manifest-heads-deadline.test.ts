/**
 * Before it judges orphans, retention asks S3 whether each backup id an unfinished upload under
 * `backups/` or a job checkpoint names has a manifest (a HEAD each: retention-orphans.ts), and a
 * pass over `backups/` does the same in its `uploads` phase, id by id and then checkpoint by
 * checkpoint (retention-pass-run.ts). Those HEADs were not asked of the run's deadline budget —
 * only the listings' pages and (since d6a6211) the checkpoint GETs were — so a prefix with very
 * many uploads or jobs could keep a run sending them past its reserve. Now each HEAD is asked
 * like a page of `backups/`: the run stops before the HEAD that would pass the reserve, reports
 * `stoppedBy: 'deadline'` with `backups/` in `left.listings`, judges and deletes nothing from the
 * ids checked so far, and saves a pass in its `uploads` phase that the next runs continue (each
 * stopping among the HEADs again, at the last id handled) until one finishes it.
 *
 * Eight jobs whose snapshots committed but whose process died while removing its checkpoint (the
 * removal fails: the checkpoint stays, naming a committed backup — what snapshot/run.ts's commit
 * meets again), each backup with an unfinished upload a killed attempt left beside it (retention
 * never aborts the uploads of a committed backup). Every id then costs a HEAD and none is an
 * orphan, so nothing but the budget stops them. A clock (`remainingMs`) driven by the number of
 * manifest HEADs the run has sent — as retention-checkpoints-deadline.test.ts drives it by
 * checkpoint GETs — falls under the reserve after `allowed` of them. On both S3 servers (moto,
 * gofakes3) and FerretDB.
 */
import { CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, StorageError, type RetentionReport, type S3Target } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, openUploads, readJson, S3_SERVERS, countingRequests, type Sender } from './support.js';

afterAll(closeMongo);

const JOBS = 8;
/**
 * The pass object of `keepLast: 20` of job j0 (retention-pass.ts: one per scope and policy;
 * retention without `job` refuses a prefix of several jobs' backups). Orphan handling — the
 * uploads' and checkpoints' HEADs — is of the whole prefix whatever the job.
 */
const PASS = 'r/retention/backups-pass/job=j0/keepLast=20&keepMs=0&pitrWindowMs=0.json';

/** `client`, failing the delete of `key` like a process dying there. */
function dyingAtDelete(client: Sender, key: string): Sender {
  return {
    async send(command: unknown, options?: unknown) {
      if (command instanceof DeleteObjectCommand && command.input.Key === key) throw new Error('killed');
      return client.send(command, options);
    },
  };
}

describe.each(S3_SERVERS)('retention with many uploads and job checkpoints naming committed backups, the deadline reached among their manifest HEADs, on $name', (server) => {
  it('stops before the HEAD that would pass the reserve, in one run and in each run of the pass that continues it; deletes and aborts nothing', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('mhdsrc');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      await db.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        const job = `j${i}`;
        const checkpoint = `r/jobs/${job}/checkpoint.json`;
        // The manifest is written; the process dies removing the checkpoint (it stays, naming the backup).
        const run = snapshotBackup({ source: mongoSource({ db }), target: { ...storage, client: dyingAtDelete(s3.client, checkpoint) }, job }).run();
        await expect(run).rejects.toBeInstanceOf(StorageError);
        const named = (await readJson<{ backupId: string }>(s3.client, s3.bucket, checkpoint))!.backupId;
        expect(await listAll(s3.client, s3.bucket, `r/backups/${named}/`)).toContain(`r/backups/${named}/manifest.json`);
        // An upload a killed attempt started beside it and never checkpointed.
        await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `r/backups/${named}/stray.ndjson.gz` }));
        ids.push(named);
      }
      ids.sort();
      const objectsBefore = await listAll(s3.client, s3.bucket, 'r/');
      const uploadsBefore = await openUploads(s3.client, s3.bucket);
      expect(uploadsBefore).toHaveLength(JOBS);

      const counting = countingRequests(s3.client, HeadObjectCommand, /^r\/backups\/[^/]+\/manifest\.json$/);
      const policy = { storage: { ...storage, client: counting.client }, keepLast: 20, job: 'j0', reserveMs: 3_000 };
      /** A run whose clock falls under the reserve once it has sent `allowed` manifest HEADs. */
      const run = async (allowed: number, dryRun = false): Promise<RetentionReport> => {
        counting.state.count = 0;
        return applyRetention({ ...policy, dryRun }, { remainingMs: () => (counting.state.count < allowed ? 60_000 : 2_000) });
      };
      const untouched = async (): Promise<void> => {
        expect(await openUploads(s3.client, s3.bucket)).toEqual(uploadsBefore);
        expect((await listAll(s3.client, s3.bucket, 'r/')).filter((k) => !k.startsWith('r/retention/'))).toEqual(objectsBefore.filter((k) => !k.startsWith('r/retention/')));
      };

      // One run (a dry run: no pass object), cut among the uploads' HEADs (before: all 16 sent).
      const dry = await run(3, true);
      expect(counting.state.count).toBe(3);
      expect(dry).toMatchObject({ stoppedBy: 'deadline', deleted: [], orphans: { cleaned: [], objects: 0, uploadsAborted: 0 }, left: { listings: ['backups/'] } });
      expect(dry.backupsPass).toBeUndefined();
      await untouched();

      // One run cut among the checkpoints' HEADs (after the eight uploads'): it saves a pass in its uploads phase.
      const first = await run(JOBS + 2);
      expect(counting.state.count).toBe(JOBS + 2);
      expect(first).toMatchObject({ stoppedBy: 'deadline', deleted: [], orphans: { cleaned: [], objects: 0, uploadsAborted: 0 }, left: { listings: ['backups/'] }, backupsPass: { phase: 'uploads', after: '' } });
      expect(await readJson(s3.client, s3.bucket, PASS)).toMatchObject({ phase: 'uploads', after: '' });
      await untouched();

      // The pass, cut among the uploads' ids: it saves the last id handled.
      const second = await run(3);
      expect(counting.state.count).toBe(3);
      expect(second).toMatchObject({ stoppedBy: 'deadline', deleted: [], orphans: { cleaned: [], uploadsAborted: 0 }, left: { listings: ['backups/'] }, backupsPass: { phase: 'uploads', after: ids[2] } });
      expect(await readJson(s3.client, s3.bucket, PASS)).toMatchObject({ phase: 'uploads', after: ids[2] });

      // The pass continues after it, and is cut among the checkpoints' HEADs.
      const third = await run(JOBS - 3 + 2);
      expect(counting.state.count).toBe(JOBS - 3 + 2);
      expect(third).toMatchObject({ stoppedBy: 'deadline', deleted: [], orphans: { cleaned: [], uploadsAborted: 0 }, left: { listings: ['backups/'] }, backupsPass: { phase: 'uploads', after: ids.at(-1) } });
      await untouched();

      // With time enough, the next run HEADs the checkpoints' ids and ends the pass.
      const last = await run(Number.POSITIVE_INFINITY);
      expect(counting.state.count).toBe(JOBS);
      expect(last.stoppedBy).toBeUndefined();
      expect(last.backupsPass).toBeUndefined();
      expect(last).toMatchObject({ deleted: [], orphans: { cleaned: [], uploadsAborted: 0, leftAlone: [] }, left: { listings: [] } });
      expect(await readJson(s3.client, s3.bucket, PASS)).toBeUndefined();
      // Committed backups, their uploads and their jobs' checkpoints: nothing of them is retention's to remove.
      await untouched();
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
