/**
 * An abandoned snapshot job's checkpoint no longer protects its backup id forever, on moto and
 * gofakes3 (FerretDB as the source). A checkpoint counts as abandoned once its job showed no
 * sign of life (checkpoint written, lease claimed or renewed, objects written) for
 * `abandonedCheckpointMs` (default 7 days) and its job's lease is free; retention retires it
 * under the job's lease, re-checking its ETag right before a conditional delete, then cleans
 * the id as an orphan. With real kill points (SIGKILL): a snapshot run killed mid-upload and
 * never run again, then a retention run killed between retiring the checkpoint and aborting
 * the upload. Races: a runner that holds the job's lease keeps its checkpoint; one that tries
 * to resume while retention retires the checkpoint is refused with `LeaseHeldError`; a
 * checkpoint rewritten between the check and the delete is kept on moto (412 on `If-Match`),
 * while gofakes3 ignores `If-Match` on DELETE and deletes it (said below, not hidden).
 */
import { rmSync } from 'node:fs';
import { CompleteMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3LeaseStore } from '@steadyfn/lease/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { LeaseHeldError, applyRetention, mongoSource, snapshotBackup, type S3Target, type SnapshotCheckpoint } from '../src/index.js';
import { keys } from '../src/target.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { runChild } from './run-child.js';
import { closeMongo, deadlineAfter, freshBucket, freshDb, leaseRunsOut, listAll, noise, openUploads, readJson, S3_SERVERS, whenLeaseFree } from './support.js';

afterAll(closeMongo);

const DAY = 86_400_000;
const dayLater = () => Date.now() + DAY + 3_600_000; // past the orphan grace (24 h), not the abandonment (7 days)
const weekLater = () => Date.now() + 8 * DAY;

/** A snapshot of two small collections stopped by its deadline after the first: a checkpoint naming an id with one segment. */
async function checkpointedRun(db: Db, storage: S3Target, job: string): Promise<string> {
  // The deadline "nears" once the first collection's segment is completed.
  const deadline = deadlineAfter(storage.client, CompleteMultipartUploadCommand, 1);
  const result = await snapshotBackup({ source: mongoSource({ db }), target: { ...storage, client: deadline.client }, job, leaseMs: 3_000 }).run(deadline.ctx());
  if (result.status !== 'checkpointed') throw new Error('the run did not checkpoint');
  return result.backupId!;
}

describe.each(S3_SERVERS)('retention retires abandoned checkpoints, on $name', (server) => {
  let big: Db;
  let small: Db;
  beforeAll(async () => {
    big = await freshDb('abandbig');
    for (let start = 0; start < 3000; start += 500) {
      await big.collection<{ _id: number; blob: string }>('blobs').insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
    small = await freshDb('abandsmall');
    await small.collection<{ _id: number }>('a').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    await small.collection<{ _id: number }>('b').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([big.dropDatabase(), small.dropDatabase()]);
  });

  it('a job killed mid-backup and never run again: kept for abandonedCheckpointMs, then retired (retention killed part way finishes next run); the job starts afresh', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'killed' };
    const snapshotChild = bundleChild(new URL('./child/snapshot-child.ts', import.meta.url).href);
    const retentionChild = bundleChild(new URL('./child/retention-child.ts', import.meta.url).href);
    try {
      const run = await runChild(snapshotChild.file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_DB: big.databaseName, SLOW_PART_MS: '400', CHILD_LEASE_MS: '3000' }, /(?:part \d+\n[^]*){3}/);
      expect(run).toMatchObject({ killed: true, errors: [] });
      const checkpoint = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json'))!;
      const id = checkpoint.backupId;
      const uploads = (await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith(`killed/backups/${id}/`));
      expect(uploads.length).toBeGreaterThan(0);
      await leaseRunsOut(storage, keys.jobLease('snapshot'));

      // A day later: past the orphan grace, but the checkpoint is younger than 7 days: kept.
      const young = await whenLeaseFree(() => applyRetention({ storage, now: dayLater }));
      expect(young.orphans).toMatchObject({ cleaned: [], abandoned: [], leftAlone: [{ id, reason: 'in progress (a checkpoint names it)' }] });
      // A shorter abandonedCheckpointMs is the user's choice: a dry run plans it.
      expect((await applyRetention({ storage, now: dayLater, abandonedCheckpointMs: DAY, dryRun: true })).orphans).toMatchObject({ abandoned: [{ job: 'snapshot', backupId: id }], cleaned: [id], uploadsAborted: 0 });
      expect(await readJson(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json')).toEqual(checkpoint);

      // Eight days later a retention run retires the checkpoint and is killed before it aborts the upload.
      const killed = await runChild(retentionChild.file, { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_PREFIX: 'killed', KILL_AT: `backups/${id}/data/`, CHILD_LEASE_MS: '3000', CHILD_NOW_OFFSET_MS: String(8 * DAY) });
      expect(killed).toMatchObject({ killed: true, errors: [] });
      expect(killed.output).toContain('delete killed/jobs/snapshot/checkpoint.json');
      expect(killed.output).not.toMatch(/abort killed\/backups\//);
      expect(await readJson(s3.client, s3.bucket, 'killed/jobs/snapshot/checkpoint.json')).toBeUndefined();
      expect((await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith(`killed/backups/${id}/`))).toEqual(uploads);

      // The next run finishes: the id is an ordinary orphan now.
      await leaseRunsOut(storage, keys.jobLease('snapshot'));
      const finished = await whenLeaseFree(() => applyRetention({ storage, now: weekLater }));
      expect(finished.orphans).toMatchObject({ cleaned: [id], abandoned: [], uploadsAborted: uploads.length, remaining: false, idsLeft: 0, leftAlone: [] });
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect(await listAll(s3.client, s3.bucket, `killed/backups/${id}/`)).toEqual([]);

      // The job starts a new backup: nothing of the retired one is resumed.
      const fresh = await snapshotBackup({ source: mongoSource({ db: small }), target: storage }).run();
      expect(fresh).toMatchObject({ status: 'complete', resumed: false });
      expect(fresh.backupId).not.toBe(id);
    } finally {
      rmSync(snapshotChild.dir, { recursive: true, force: true });
      rmSync(retentionChild.dir, { recursive: true, force: true });
      await s3.drop();
    }
  }, 180_000);

  it('a runner holding the job lease keeps its checkpoint; one resuming while retention retires it gets LeaseHeldError, then starts afresh', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'race' };
    try {
      const id = await checkpointedRun(small, storage, 'nightly');
      const checkpointKey = 'race/jobs/nightly/checkpoint.json';
      const segments = await listAll(s3.client, s3.bucket, `race/backups/${id}/`);
      expect(segments).toHaveLength(1);

      // A runner holds the job's lease (its invocation is running): nothing is retired.
      const leases = s3LeaseStore({ client: s3.client, bucket: s3.bucket, prefix: 'race/' });
      const held = await leases.claim({ key: keys.jobLease('nightly'), owner: 'live-runner', leaseMs: 60_000 });
      if (!held.claimed) throw new Error('could not take the job lease');
      const running = await applyRetention({ storage, now: weekLater });
      expect(running.orphans).toMatchObject({ abandoned: [], cleaned: [], leftAlone: [{ id, reason: 'job running' }] });
      expect(await listAll(s3.client, s3.bucket, `race/backups/${id}/`)).toEqual(segments);
      await leases.settle({ key: keys.jobLease('nightly'), owner: 'live-runner', fence: held.fence });

      // The job is invoked right when retention deletes its checkpoint: refused, typed.
      let resumeError: unknown;
      const racing = {
        async send(command: unknown, options?: unknown) {
          if (command instanceof DeleteObjectCommand && command.input.Key === checkpointKey) {
            resumeError = await snapshotBackup({ source: mongoSource({ db: small }), target: storage, job: 'nightly' }).run().catch((e: unknown) => e);
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const retired = await applyRetention({ storage: { ...storage, client: racing }, now: weekLater });
      expect(resumeError).toBeInstanceOf(LeaseHeldError);
      expect(resumeError).toMatchObject({ code: 'BACKUP_LEASE_HELD', retryable: true });
      expect(retired.orphans).toMatchObject({ abandoned: [{ job: 'nightly', backupId: id }], cleaned: [id], objects: 1, leftAlone: [] });
      expect(await listAll(s3.client, s3.bucket, `race/backups/${id}/`)).toEqual([]);
      expect(await readJson(s3.client, s3.bucket, checkpointKey)).toBeUndefined();

      // Its retry starts a new backup and completes it.
      const retry = await snapshotBackup({ source: mongoSource({ db: small }), target: storage, job: 'nightly' }).run();
      expect(retry).toMatchObject({ status: 'complete', resumed: false, records: 20 });
      expect(retry.backupId).not.toBe(id);
    } finally {
      await s3.drop();
    }
  }, 120_000);

  it('a checkpoint rewritten between the check and the delete: kept where If-Match on DELETE is honoured (moto); gofakes3 ignores it', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'cas' };
    try {
      const id = await checkpointedRun(small, storage, 'nightly');
      const checkpointKey = 'cas/jobs/nightly/checkpoint.json';
      const original = (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, checkpointKey))!;
      const rewritten = { ...original, updatedAt: new Date().toISOString() };
      // Between retention's HEAD of the checkpoint and its DELETE, the checkpoint is written again
      // (what a runner that slipped past every lease would do).
      const rewriting = {
        async send(command: unknown, options?: unknown) {
          if (command instanceof DeleteObjectCommand && command.input.Key === checkpointKey) {
            await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: checkpointKey, Body: JSON.stringify(rewritten) }));
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const report = await applyRetention({ storage: { ...storage, client: rewriting }, now: weekLater });
      if (server.name === 'moto') {
        // 412 on the conditional DELETE: the rewritten checkpoint and its backup stay; the job resumes it.
        expect(report.orphans).toMatchObject({ abandoned: [], cleaned: [], leftAlone: [{ id, reason: 'resumed meanwhile' }] });
        expect(await readJson(s3.client, s3.bucket, checkpointKey)).toEqual(rewritten);
        const resumed = await snapshotBackup({ source: mongoSource({ db: small }), target: storage, job: 'nightly' }).run();
        expect(resumed).toMatchObject({ status: 'complete', resumed: true, backupId: id, records: 20 });
      } else {
        // gofakes3 ignores If-Match on DELETE: the rewritten checkpoint is deleted. Only the job's
        // lease (held by retention meanwhile) keeps real runners out of this window there.
        expect(report.orphans).toMatchObject({ abandoned: [{ job: 'nightly', backupId: id }], cleaned: [id] });
        expect(await readJson(s3.client, s3.bucket, checkpointKey)).toBeUndefined();
        // The job does not write into the deleted backup: it starts a new one.
        const next = await snapshotBackup({ source: mongoSource({ db: small }), target: storage, job: 'nightly' }).run();
        expect(next).toMatchObject({ status: 'complete', resumed: false, records: 20 });
        expect(next.backupId).not.toBe(id);
      }
    } finally {
      await s3.drop();
    }
  }, 120_000);
});
