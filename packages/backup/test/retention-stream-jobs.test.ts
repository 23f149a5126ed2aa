/**
 * Retention scoped to one `job` with `stream`: another job's snapshots on the same prefix pair
 * with the same stream, and the stream objects their point-in-time restores need must stay
 * (reviewer's finding: the stream was pruned below the scoped job's oldest kept snapshot only).
 * On both S3 servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup, verifyBackup, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const dump = async (db: Db): Promise<string[]> => (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(S3_SERVERS)('retention of job a with a stream job b also pairs with, on $name', (server) => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let key: string;
  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(server);
    source = await freshDb('jobsrc');
    key = unique('jobs-outbox');
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
    await source.dropDatabase();
    await s3.drop();
  });

  it("keeps the stream objects job b's kept snapshot needs; prunes them once no job keeps a snapshot that needs them", async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'jobs' };
    const app = outboxApp(redis, key, 'orders', source);
    const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'envelope' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const snapshotOf = (job: string) => snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job });
    const verified = async (job: string): Promise<string> => {
      const r = (await snapshotOf(job).run()) as SnapshotResult;
      if (r.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
      return r.backupId;
    };
    // Timeline 1: job b's snapshot, then changes, the instant to restore, more changes, job a's first snapshot.
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
    const restoreB = async (name: string): Promise<{ backupId: string; state: string[] }> => {
      const db = await freshDb(name);
      const report = await pointInTimeRestore({ storage, stream: 'orders', job: 'b', at, target: mongoTarget({ db }) });
      const state = await dump(db);
      await db.dropDatabase();
      return { backupId: report.snapshot.backupId, state };
    };
    expect(await restoreB('jobsbefore')).toEqual({ backupId: b1, state: stateAt });

    // Job a keeps its newest snapshot only (on timeline 2): its own older one goes, timeline 1 stays for b1.
    const scoped = await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders' });
    expect(scoped.deleted).toEqual([a1]);
    expect(scoped.kept).toEqual([a2]);
    expect(scoped.streamObjects).toBe(0);
    expect(scoped.left.streamObjects).toBe(0);
    expect(await restoreB('jobsafter')).toEqual({ backupId: b1, state: stateAt });

    // Job b moves to timeline 2 and drops b1: no job keeps a snapshot that needs timeline 1 now.
    const b2 = await verified('b');
    const ofB = await applyRetention({ storage, job: 'b', keepLast: 1, stream: 'orders' });
    expect(ofB.deleted).toEqual([b1]);
    expect(ofB.kept).toEqual([b2]);
    expect(ofB.streamObjects).toBeGreaterThan(0);
  });
});
