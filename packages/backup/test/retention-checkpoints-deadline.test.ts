/**
 * Retention with `stream` reads every job checkpoint (`jobs/<job>/checkpoint.json`) before it
 * prunes the stream (retention-holds.ts): a running snapshot's start mark holds the prune. Those
 * GETs were not asked of the run's deadline budget — only the pages of the `jobs/` listing were —
 * so a prefix with very many jobs could keep a run reading past its reserve. Now each GET is
 * gated like a page: the run stops before the read that would pass the reserve, reports
 * `stoppedBy: 'deadline'` with `jobs/` in `left.listings`, deletes and prunes nothing (never from
 * part of the holds), and the next run with time enough reads them all and prunes.
 *
 * Twelve snapshot jobs checkpointed by a deadline at their start (each checkpoint holds a real
 * start mark on the stream), and a clock (`remainingMs`) driven by the number of checkpoint GETs
 * the run has made — as review-retention-pass.test.ts drives it by pages — that falls under the
 * reserve after five. The stream's first hours are made by events whose `occurredAt` lies two
 * and three hours back, so whole hours fall below the kept snapshot's mark. On both S3 servers
 * (moto, gofakes3), FerretDB and Redis 7.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { closeMongo, countingRequests, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, timeOnlyAtStart, unique } from './support.js';

afterAll(closeMongo);

const JOBS = 12;
/** Checkpoint GETs the clock allows before it falls under the reserve. */
const ALLOWED = 5;

describe.each(S3_SERVERS)('retention with a stream and many job checkpoints, the deadline reached among their reads, on $name', (server) => {
  it('stops before the checkpoint read that would pass the reserve, prunes nothing that run; the next run reads them all and prunes', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('ckdsrc');
    const redis = await redisClient();
    const key = unique('ckd-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const job = (name: string) => snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job: name });
      // Two past hours below the start mark of the one snapshot retention keeps.
      const keptId = await pastHoursBelowKeptSnapshot(redis, key, source, storage, job);
      // Many jobs whose snapshots are running (checkpointed at their start, with their mark on the stream).
      for (let i = 0; i < JOBS; i++) {
        const name = `j${String(i).padStart(2, '0')}`;
        expect(await job(name).run(timeOnlyAtStart())).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
      }
      const objects = async () => (await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).filter((k) => k.endsWith('.ndjson.gz')).length;
      const manifests = async () => (await listAll(s3.client, s3.bucket, 'r/backups/')).filter((k) => k.endsWith('/manifest.json'));
      const before = await objects();
      const manifestsBefore = await manifests();

      const counting = countingRequests(s3.client, GetObjectCommand, /^r\/jobs\/[^/]+\/checkpoint\.json$/);
      const policy = { storage: { ...storage, client: counting.client }, keepLast: 1, stream: 'orders', reserveMs: 3_000 };
      const cut = await applyRetention(policy, { remainingMs: () => (counting.state.count < ALLOWED ? 60_000 : 2_000) });
      // No checkpoint read started once the clock was under the reserve (before: all twelve were read).
      expect(counting.state.count).toBe(ALLOWED);
      expect(cut).toMatchObject({ stoppedBy: 'deadline', deleted: [], streamObjects: 0 });
      // The checkpoints it did not read (and the backups it did not reach: never judged from part of the holds).
      expect(cut.left.listings).toEqual(['jobs/', 'backups/']);
      expect(await objects()).toBe(before);
      expect(await manifests()).toEqual(manifestsBefore);

      // The next run, with time enough, reads every checkpoint and prunes below the kept snapshot's mark.
      counting.state.count = 0;
      const next = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(counting.state.count).toBeGreaterThanOrEqual(JOBS);
      expect(next.stoppedBy).toBeUndefined();
      expect(next).toMatchObject({ kept: [keptId], deleted: [], streamPruneLeftAlone: [] });
      expect(next.left.listings).toEqual([]);
      expect(next.streamObjects).toBeGreaterThan(0);
      expect(before - (await objects())).toBe(next.streamObjects);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });
});
