/**
 * Retention scoped to one `job` with `stream`: another job's snapshots on the same prefix pair
 * with the same stream, and the stream objects their point-in-time restores need must stay
 * (reviewer's finding: the stream was pruned below the scoped job's oldest kept snapshot only,
 * and a restore from job b's kept snapshot failed with BACKUP_STREAM_PRUNED). In one run and in
 * a pass spread over runs (retention-pass.ts; small pages and a clock that moves ten seconds per
 * page of `backups/`, as in retention-pass.test.ts). On both S3 servers (moto, gofakes3),
 * FerretDB and Redis 7.
 */
import { EJSON } from 'bson';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup, verifyBackup, type S3Target, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, pagedRetention, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const dump = async (db: Db): Promise<string[]> => (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes the history under `storage`, in a fresh bucket, database and Redis stream, and runs
 * `check` on it: on timeline 1, job b's snapshot `b1`, changes, the instant `at`, changes and
 * job a's snapshot `a1`; the timeline breaks; on timeline 2, job a's snapshot `a2`. All
 * verified; every snapshot pairs with stream `orders`.
 */
async function withHistory(server: (typeof S3_SERVERS)[number], prefix: string, check: (h: History) => Promise<void>): Promise<void> {
  const s3 = await freshBucket(server);
  const source = await freshDb('jobsrc');
  const redis = await redisClient();
  const key = unique('jobs-outbox');
  const storage = { client: s3.client, bucket: s3.bucket, prefix };
  try {
    const app = outboxApp(redis, key, 'orders', source);
    const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const verified = async (job: string): Promise<string> => {
      const r = (await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job }).run()) as SnapshotResult;
      if (r.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
      return r.backupId;
    };
    for (let i = 0; i < 6; i++) await app.put(`a${i}`, { phase: 'a', pad: 'x'.repeat(300) });
    await stream.run();
    const b1 = await verified('b');
    for (let i = 0; i < 4; i++) await app.put(`b${i}`, { phase: 'b', pad: 'y'.repeat(300) });
    await app.remove('a0');
    await pause(20);
    const at = Date.now();
    const stateAt = await dump(source);
    await pause(20);
    await app.put('c0', { phase: 'c' });
    await stream.run();
    const a1 = await verified('a');
    // Events lost before the sink saw them: the timeline breaks; timeline 2 and job a's second snapshot on it.
    await app.put('lost0', { phase: 'lost' });
    await redis.xtrim(key, 'MAXLEN', 0);
    await app.put('d0', { phase: 'd' });
    await stream.run();
    const a2 = await verified('a');
    await app.put('d1', { phase: 'd' });
    await stream.run();
    const restoreB = async (): Promise<{ backupId: string; state: string[] }> => {
      const db = await freshDb('jobsrestore');
      try {
        const report = await pointInTimeRestore({ storage, stream: 'orders', job: 'b', at, target: mongoTarget({ db }) });
        return { backupId: report.snapshot.backupId, state: await dump(db) };
      } finally {
        await db.dropDatabase();
      }
    };
    expect(await restoreB()).toEqual({ backupId: b1, state: stateAt });
    await check({ storage, s3, b1, a1, a2, stateAt, restoreB, verified });
  } finally {
    await redis.del(key);
    redis.disconnect();
    await Promise.all([source.dropDatabase(), s3.drop()]);
  }
}

interface History {
  storage: S3Target & { prefix: string };
  s3: Awaited<ReturnType<typeof freshBucket>>;
  b1: string;
  a1: string;
  a2: string;
  stateAt: string[];
  restoreB(): Promise<{ backupId: string; state: string[] }>;
  verified(job: string): Promise<string>;
}

describe.each(S3_SERVERS)('retention of job a with a stream job b also pairs with, on $name', (server) => {
  it("keeps the stream objects job b's kept snapshot needs; prunes them once no job keeps a snapshot that needs them", async () => {
    await withHistory(server, 'jobs', async ({ storage, b1, a1, a2, stateAt, restoreB, verified }) => {
      // Job a keeps its newest snapshot only (on timeline 2): its own older one goes, timeline 1 stays for b1.
      const plan = await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders', dryRun: true });
      expect(plan).toMatchObject({ deleted: [a1], kept: [a2], streamObjects: 0 });
      const scoped = await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders' });
      expect(scoped).toMatchObject({ deleted: [a1], kept: [a2], streamObjects: 0, left: { streamObjects: 0 } });
      expect(await restoreB()).toEqual({ backupId: b1, state: stateAt });

      // Job b moves to timeline 2 and drops b1: no job keeps a snapshot that needs timeline 1 now.
      const b2 = await verified('b');
      const ofB = await applyRetention({ storage, job: 'b', keepLast: 1, stream: 'orders' });
      expect(ofB).toMatchObject({ deleted: [b1], kept: [b2] });
      expect(ofB.streamObjects).toBeGreaterThan(0);
    });
  }, 120_000);

  it("in a pass over runs: job a's sweep holds the stream at job b's snapshot", async () => {
    await withHistory(server, 'p', async ({ storage, s3, b1, a1, a2, stateAt, restoreB }) => {
      // Ids without a manifest, recent (left alone): backups/ takes three pages of three.
      for (let i = 0; i < 4; i++) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/zzzz-${i}/part-1`, Body: 'x' }));
      const policy = { job: 'a', keepLast: 1, stream: 'orders', reserveMs: 3_000 };
      const reports = await pagedRetention(storage).untilDone(policy);
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read' });
      expect(reports.some((r) => r.backupsPass?.phase === 'sweep')).toBe(true);
      expect(reports.flatMap((r) => r.deleted)).toEqual([a1]);
      expect(reports.flatMap((r) => r.kept)).toContain(a2);
      expect(reports.reduce((n, r) => n + r.streamObjects + r.left.streamObjects, 0)).toBe(0);
      expect(await restoreB()).toEqual({ backupId: b1, state: stateAt });
    });
  }, 300_000);
});
