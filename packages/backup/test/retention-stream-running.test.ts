/**
 * Retention of job a with `stream` while job b's snapshot on the same stream has no readable
 * manifest: it is still running (checkpointed by a deadline between invocations, or paused in
 * the moment after it read the stream's position and before its checkpoint with that position
 * is written), or its manifest is damaged. Before retention-holds.ts, such a snapshot did not
 * hold back the prune: job a's run deleted the stream objects after b's start mark, and once b
 * committed (or its manifest was repaired), a point-in-time restore from it failed with
 * BACKUP_STREAM_PRUNED. The stream's hours are made by events whose `occurredAt` lies two and
 * three hours back (objects are filed by their first event's time), so whole hours fall below
 * job a's snapshot. In one run and in a pass over runs. On both S3 servers (moto, gofakes3), FerretDB and Redis 7; the pause is a
 * wrapper around b's real S3 client that holds one PUT until the test releases it. Also: a
 * snapshot whose read of the stream's position failed (one GET made to fail by a wrapper) leaves
 * its checkpoint with `streamPending`, which holds the prune back until its next run reads the
 * mark and commits.
 */
import { EJSON } from 'bson';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup, verifyBackup, type RetentionReport, type S3Target, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, pagedRetention, readJson, redisClient, S3_SERVERS, timeOnlyAtStart, unique, type Sender } from './support.js';

afterAll(closeMongo);

const HOUR = 3_600_000;
const dump = async (db: Db): Promise<string[]> => (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How job b's snapshot is left while job a's retention runs. */
type Variant = 'checkpointed' | 'paused before its checkpoint' | 'manifest damaged';

/**
 * A client that holds the first PUT of job b's checkpoint carrying a stream start mark until
 * `release()`; `reached` resolves once it is held.
 */
function pausingClient(client: Sender, prefix: string) {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  let held = false;
  return {
    reached,
    release,
    client: {
      async send(command: unknown, options?: unknown) {
        const input = (command as { input?: { Key?: unknown; Body?: unknown } }).input;
        if (!held && (command as object).constructor.name === PutObjectCommand.name && input?.Key === `${prefix}/jobs/b/checkpoint.json` && typeof input.Body === 'string') {
          const body = JSON.parse(input.Body) as { start?: { stream?: unknown } };
          if (body.start?.stream !== undefined) {
            held = true;
            reach();
            await released;
          }
        }
        return client.send(command, options);
      },
    },
  };
}

/**
 * The history, job b left as `variant`, job a's retention, then b's commit (or repair) and a
 * point-in-time restore from it. With `pass`, retention runs as a pass over several runs
 * (pages of three ids of `backups/` and a clock that moves ten seconds a page, as in
 * retention-pass.test.ts): the running snapshot is then read at the sweep's start.
 */
async function scenario(server: (typeof S3_SERVERS)[number], variant: Variant, pass = false): Promise<{ retention: RetentionReport; pruned: number }> {
  const s3 = await freshBucket(server);
  const source = await freshDb('runsrc');
  const redis = await redisClient();
  const key = unique('running-outbox');
  const prefix = pass ? 'p' : 'r';
  const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix };
  let lag = 3 * HOUR;
  try {
    const app = outboxApp(redis, key, 'orders', source, () => new Date(Date.now() - lag));
    const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const job = (name: string, target: S3Target = storage) => snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target, stream: 'orders', job: name });
    const complete = (r: SnapshotResult): string => {
      if (r.status !== 'complete') throw new Error(`snapshot ${r.status}`);
      return r.backupId;
    };

    // Three hours back: the stream's first hour.
    for (let i = 0; i < 4; i++) await app.put(`x${i}`, { phase: 'x', pad: 'x'.repeat(300) });
    await stream.run();

    // Job b's snapshot reads its start mark now (after the first hour), and does not commit yet.
    const paused = pausingClient(s3.client, prefix);
    let running: Promise<SnapshotResult> | undefined;
    let b: string | undefined;
    if (variant === 'checkpointed') {
      const first = await job('b').run(timeOnlyAtStart());
      expect(first).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
    } else if (variant === 'paused before its checkpoint') {
      running = job('b', { ...storage, client: paused.client }).run();
      await paused.reached;
    } else {
      b = complete(await job('b').run());
      await verifyBackup({ backup: { storage, id: b }, level: 'full' });
    }

    // Two hours back: the changes b's point-in-time restore replays.
    lag = 2 * HOUR;
    for (let i = 0; i < 4; i++) await app.put(`y${i}`, { phase: 'y', pad: 'y'.repeat(300) });
    await app.remove('x0');
    await stream.run();
    // Now: job a's only snapshot, after both past hours.
    lag = 0;
    const a1 = complete(await job('a').run());
    await verifyBackup({ backup: { storage, id: a1 }, level: 'full' });
    await app.put('z0', { phase: 'z' });
    await stream.run();
    const objects = async () => (await listAll(s3.client, s3.bucket, `${prefix}/streams/orders/t`)).filter((k) => k.endsWith('.ndjson.gz')).length;
    const before = await objects();

    let manifest: string | undefined;
    if (variant === 'manifest damaged') {
      const got = await s3.client.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/backups/${b}/manifest.json` }));
      manifest = await got.Body!.transformToString();
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/backups/${b}/manifest.json`, Body: manifest.slice(0, 40) }));
    }
    let retention: RetentionReport;
    if (!pass) {
      retention = await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders' });
      expect(retention).toMatchObject({ kept: [a1], deleted: [] });
    } else {
      // Ids without a manifest, recent (left alone): backups/ takes more than one run.
      for (let i = 0; i < 4; i++) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/zzzz-${i}/part-1`, Body: 'x' }));
      const reports = await pagedRetention(storage).untilDone({ job: 'a', keepLast: 1, stream: 'orders' });
      expect(reports.some((r) => r.backupsPass?.phase === 'sweep')).toBe(true);
      expect(reports.flatMap((r) => r.deleted)).toEqual([]);
      // The run whose sweep ended: what it pruned, or why it did not.
      retention = reports.find((r) => r.streamObjects > 0 || r.streamPruneLeftAlone.length > 0) ?? reports.at(-1)!;
      expect(reports.reduce((n, r) => n + r.streamObjects, 0)).toBe(retention.streamObjects);
    }
    const pruned = before - (await objects());
    expect(pruned).toBe(retention.streamObjects);

    // Job b commits (or its manifest is repaired); a point-in-time restore from it replays the stream after its start mark.
    if (variant === 'checkpointed') b = complete(await job('b').run());
    else if (variant === 'paused before its checkpoint') {
      paused.release();
      b = complete(await running!);
    } else await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/backups/${b}/manifest.json`, Body: manifest }));
    if (variant !== 'manifest damaged') await verifyBackup({ backup: { storage, id: b! }, level: 'full' });
    await pause(20);
    const at = Date.now();
    const stateAt = await dump(source);
    await pause(20);
    await app.put('z1', { phase: 'z' });
    await stream.run();
    const db = await freshDb('runrestore');
    try {
      const restored = await pointInTimeRestore({ storage, stream: 'orders', job: 'b', at, target: mongoTarget({ db }) });
      expect(restored.snapshot.backupId).toBe(b);
      expect(await dump(db)).toEqual(stateAt);
    } finally {
      await db.dropDatabase();
    }
    return { retention, pruned };
  } finally {
    await redis.del(key);
    redis.disconnect();
    await Promise.all([source.dropDatabase(), s3.drop()]);
  }
}

describe.each(S3_SERVERS)("retention of job a with a stream while job b's snapshot has no readable manifest, on $name", (server) => {
  it("a snapshot that failed before it read the stream's position: its checkpoint holds the prune back (snapshot starting); the next run reads the mark and commits", async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('pendsrc');
    const redis = await redisClient();
    const key = unique('pending-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const app = outboxApp(redis, key, 'orders', source);
      for (let i = 0; i < 3; i++) await app.put(`x${i}`, { phase: 'x' });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage }).run();
      // The first read of the stream's checkpoint (the start mark) fails once.
      let failed = false;
      const failing = {
        async send(command: unknown, options?: unknown) {
          const input = (command as { input?: { Key?: unknown } }).input;
          if (!failed && (command as object).constructor.name === 'GetObjectCommand' && input?.Key === 'r/streams/orders/checkpoint.json') {
            failed = true;
            throw Object.assign(new Error('injected: connection reset'), { name: 'TimeoutError' });
          }
          return s3.client.send(command as never, options as never);
        },
      };
      const job = (client: Sender) => snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: { ...storage, client }, stream: 'orders', job: 'b' });
      await expect(job(failing).run()).rejects.toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
      expect(failed).toBe(true);
      const pending = await readJson<{ backupId: string; streamPending?: string; start: { stream?: unknown } }>(s3.client, s3.bucket, 'r/jobs/b/checkpoint.json');
      expect(pending).toMatchObject({ streamPending: 'orders' });
      expect(pending!.start.stream).toBeUndefined();

      const held = await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders' });
      expect(held.streamPruneLeftAlone).toEqual([{ stream: 'orders', reason: 'snapshot starting', job: 'b', backupId: pending!.backupId }]);
      // Retention of job b itself: its own starting snapshot reads a mark past its backups' marks.
      expect((await applyRetention({ storage, job: 'b', keepLast: 1, stream: 'orders' })).streamPruneLeftAlone).toEqual([]);

      const resumed = await job(s3.client).run();
      expect(resumed).toMatchObject({ status: 'complete', backupId: pending!.backupId, resumed: true });
      const manifest = await readJson<{ start: { stream?: { name: string; seq: number } } }>(s3.client, s3.bucket, `r/backups/${pending!.backupId}/manifest.json`);
      expect(manifest!.start.stream).toMatchObject({ name: 'orders', seq: 1 });
      expect((await applyRetention({ storage, job: 'a', keepLast: 1, stream: 'orders' })).streamPruneLeftAlone).toEqual([]);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it("job b's snapshot checkpointed between invocations holds the prune at its start mark; committed later, it restores to a point in time", async () => {
    const { retention, pruned } = await scenario(server, 'checkpointed');
    // The first hour (before b's start mark) is b's data already: pruned; the second is kept.
    expect(pruned).toBeGreaterThan(0);
    expect(retention.streamPruneLeftAlone).toEqual([]);
  }, 180_000);

  it('job b paused after it read the stream position, before its checkpoint names it: nothing is pruned (a snapshot starting)', async () => {
    const { retention, pruned } = await scenario(server, 'paused before its checkpoint');
    expect(pruned).toBe(0);
    expect(retention.streamPruneLeftAlone).toEqual([{ stream: 'orders', reason: 'snapshot starting', job: 'b', backupId: expect.any(String) }]);
  }, 180_000);

  it("job b's damaged manifest holds back the prune; repaired, it restores to a point in time", async () => {
    const { retention, pruned } = await scenario(server, 'manifest damaged');
    expect(pruned).toBe(0);
    expect(retention.streamPruneLeftAlone).toEqual([{ stream: 'orders', reason: 'manifest unreadable', backupId: expect.any(String) }]);
  }, 180_000);

  it("in a pass over runs: job b's checkpointed snapshot holds the prune at its start mark (read at the sweep's start)", async () => {
    const { retention, pruned } = await scenario(server, 'checkpointed', true);
    expect(pruned).toBeGreaterThan(0);
    expect(retention.streamPruneLeftAlone).toEqual([]);
  }, 300_000);

  it("in a pass over runs: job b's damaged manifest, met by the sweep, holds back the prune", async () => {
    const { retention, pruned } = await scenario(server, 'manifest damaged', true);
    expect(pruned).toBe(0);
    expect(retention.streamPruneLeftAlone).toEqual([{ stream: 'orders', reason: 'manifest unreadable', backupId: expect.any(String) }]);
  }, 300_000);
});
