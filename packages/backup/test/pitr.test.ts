/**
 * Point-in-time restore, verification and retention together, on both S3 servers, driven the
 * way a deployment runs them: the snapshot and the stream backup as scheduled functions through
 * the handler (an EventBridge schedule tick on the Lambda adapter), a drill, then restores.
 */
import { EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { handler } from '@steadyfn/handler';
import { mongoLeaseStore } from '@steadyfn/lease';
import {
  PitrTargetError,
  TimelineGapError,
  VerificationFailedError,
  applyRetention,
  mongoSource,
  mongoTarget,
  pointInTimeRestore,
  redisStreamSource,
  restoreStatus,
  snapshotBackup,
  streamBackup,
  verifyBackup,
  type SnapshotResult,
} from '../src/index.js';
import { outboxApp, type OutboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const tick = (time: string) => ({ version: '0', id: unique('evt'), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '1', time, region: 'us-east-1', resources: ['arn:aws:events:us-east-1:1:rule/nightly'], detail: {} });
const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'backup', getRemainingTimeInMillis: () => 600_000 });

async function dump(db: Db): Promise<string[]> {
  return (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(S3_SERVERS)('point-in-time restore, drills and retention on $name', (server) => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let app: OutboxApp;
  let key: string;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'pitr' });
  let snapshotNightly: ReturnType<typeof handler>;
  let streamEveryMinute: ReturnType<typeof handler>;
  let firstBackup: string;
  let atT = 0;
  let stateAtT: string[] = [];

  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(server);
    source = await freshDb('pitrsrc');
    key = unique('pitr-outbox');
    app = outboxApp(redis, key, 'orders', source);
    snapshotNightly = handler({}, snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage(), stream: 'orders', job: 'nightly' }));
    streamEveryMinute = handler({}, streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage(), buffer: { maxBytes: 16 * 1024, maxMs: 60_000 } }));
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
    await Promise.all([source.dropDatabase(), s3.drop()]);
  });

  it('runs the snapshot and the stream backup from a schedule tick through the handler', async () => {
    for (let i = 0; i < 60; i++) await app.put(`o${i}`, { n: i, phase: 'a' });
    await streamEveryMinute.aws(tick(new Date().toISOString()), lambdaContext('s1'));
    const result = (await snapshotNightly.aws(tick(new Date().toISOString()), lambdaContext('n1'))) as SnapshotResult;
    expect(result.status).toBe('complete');
    firstBackup = result.backupId!;
    // A failure is thrown to the runtime (so the schedule's retry and alarm apply): a missing backup fails verification.
    await expect(verifyBackup({ backup: { storage: storage(), id: 'no-such-backup' } })).rejects.toBeInstanceOf(VerificationFailedError);
  });

  it('refuses point-in-time restore from an unverified snapshot, then a drill verifies it', async () => {
    const db = await freshDb('unverified');
    await expect(pointInTimeRestore({ storage: storage(), stream: 'orders', at: Date.now(), target: mongoTarget({ db }) })).rejects.toBeInstanceOf(PitrTargetError);
    const scratch = await freshDb('drill');
    const drilled = await verifyBackup({ backup: { storage: storage(), id: firstBackup }, level: 'drill', scratch: mongoTarget({ db: scratch }) });
    expect(drilled.drill).toMatchObject({ ok: true, datasets: [{ name: 'orders', expectedCount: 60, restoredCount: 60, ok: true }] });
    expect(drilled.drill!.restoreMs).toBeGreaterThan(0);
    expect(await listAll(s3.client, s3.bucket, `pitr/drills/${firstBackup}/`)).toEqual([drilled.reportKey]);
    expect(await scratch.listCollections().toArray()).toEqual([]); // the scratch data is dropped
    await Promise.all([db.dropDatabase(), scratch.dropDatabase()]);
  });

  it('reproduces the state at a chosen time, deletes included', async () => {
    for (let i = 0; i < 30; i++) await app.put(`o${i}`, { n: i, phase: 'b' });
    for (let i = 50; i < 55; i++) await app.remove(`o${i}`);
    await pause(20);
    atT = Date.now();
    stateAtT = await dump(source);
    await pause(20);
    for (let i = 0; i < 10; i++) await app.put(`o${i}`, { n: i, phase: 'c' });
    for (let i = 20; i < 25; i++) await app.remove(`o${i}`);
    await app.put('late', { phase: 'c' });
    const drainedAt = Date.now();
    await streamEveryMinute.aws(tick(new Date().toISOString()), lambdaContext('s2'));

    const db = await freshDb('pitr');
    // Another restore holds the target's lock (its lease in the target, as restore() takes it):
    // the point-in-time restore is refused before writing anything, and runs once it is released.
    const lockStore = mongoLeaseStore({ collection: db.collection('steadyfn_restore_lock') });
    const other = await lockStore.claim({ key: 'restore', owner: 'other-restore', leaseMs: 60_000, data: JSON.stringify({ backupId: 'other-backup', startedAt: new Date().toISOString() }) });
    if (!other.claimed) throw new Error('lock not claimed');
    const busy = await pointInTimeRestore({ storage: storage(), stream: 'orders', at: atT, target: mongoTarget({ db }) }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'RESTORE_TARGET_BUSY', heldFor: 'other-backup' });
    expect(await dump(db)).toEqual([]);
    await lockStore.settle({ key: 'restore', owner: 'other-restore', fence: other.fence });
    const report = await pointInTimeRestore({ storage: storage(), stream: 'orders', at: atT, target: mongoTarget({ db }) });
    expect(report.snapshot.backupId).toBe(firstBackup);
    expect(await dump(db)).toEqual(stateAtT);
    expect(await restoreStatus(mongoTarget({ db }))).toEqual({ complete: true });
    // And to the last drain: the source as it is.
    const now = await freshDb('pitrnow');
    await pointInTimeRestore({ storage: storage(), stream: 'orders', at: drainedAt, target: mongoTarget({ db: now }) });
    expect(await dump(now)).toEqual(await dump(source));
    await Promise.all([db.dropDatabase(), now.dropDatabase()]);
  });

  it('refuses a target past the last streamed change, and one across a gap', async () => {
    const db = await freshDb('refused');
    await expect(pointInTimeRestore({ storage: storage(), stream: 'orders', at: Date.now() + 3_600_000, target: mongoTarget({ db }) })).rejects.toBeInstanceOf(PitrTargetError);
    // Events lost before the stream backup saw them: the timeline breaks.
    for (let i = 0; i < 5; i++) await app.put(`g${i}`, { phase: 'lost' });
    await redis.xtrim(key, 'MAXLEN', 0);
    await app.put('after-gap', { phase: 'd' });
    const lostBy = Date.now();
    await streamEveryMinute.aws(tick(new Date().toISOString()), lambdaContext('s3'));
    await expect(pointInTimeRestore({ storage: storage(), stream: 'orders', at: lostBy, target: mongoTarget({ db }) })).rejects.toBeInstanceOf(TimelineGapError);
    // Before the gap is still fine.
    await pointInTimeRestore({ storage: storage(), stream: 'orders', at: atT, target: mongoTarget({ db }) });
    expect(await dump(db)).toEqual(stateAtT);
    await db.dropDatabase();
  });

  it('retention keeps the newest verified backup and the point-in-time base, deletes older ones manifest first', async () => {
    // Three more verified snapshots (on timeline 2 now) and one that is never verified.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await app.put(`r${i}`, { phase: 'r' });
      await streamEveryMinute.aws(tick(new Date().toISOString()), lambdaContext(`s-r${i}`));
      const r = (await snapshotNightly.aws(tick(new Date().toISOString()), lambdaContext(`n-r${i}`))) as SnapshotResult;
      await verifyBackup({ backup: { storage: storage(), id: r.backupId! }, level: 'full' });
      ids.push(r.backupId!);
    }
    const unverified = ((await snapshotNightly.aws(tick(new Date().toISOString()), lambdaContext('n-u'))) as SnapshotResult).backupId;
    const now = Date.now();
    // keepLast 1, but the PITR window reaches back to the first backup: it is the base and stays.
    const planned = await applyRetention({ storage: storage(), keepLast: 1, pitrWindowMs: now - Date.parse(new Date(atT).toISOString()) + 1, stream: 'orders', dryRun: true, now: () => now });
    expect(planned.protected).toEqual({ newestVerified: ids[2], pitrBase: firstBackup });
    expect(planned.deleted).toEqual([]);
    // Without the window: everything older than the newest verified goes, the unverified newer one stays.
    const before = await listAll(s3.client, s3.bucket, 'pitr/backups/');
    const applied = await applyRetention({ storage: storage(), keepLast: 1, stream: 'orders' });
    expect(applied.protected.newestVerified).toBe(ids[2]);
    expect(applied.deleted).toEqual([firstBackup, ids[0], ids[1]]);
    expect(applied.kept).toEqual([ids[2], unverified]);
    const after = await listAll(s3.client, s3.bucket, 'pitr/backups/');
    for (const id of applied.deleted) expect(after.filter((k) => k.includes(id))).toEqual([]);
    expect(after.filter((k) => k.includes(ids[2]!)).length).toBe(before.filter((k) => k.includes(ids[2]!)).length);
    expect(applied.streamObjects).toBeGreaterThan(0); // timeline 1 objects: no kept snapshot needs them
  });
});
