/**
 * The restore target lock on the stream paths (`restoreStream`, `pointInTimeRestore`), on the
 * real servers: Redis (:16379, the outbox stream), FerretDB (:27117, the target), moto S3.
 * A `restoreStream` (or `pointInTimeRestore`) is held inside its apply by an S3 client that stops
 * a read of a stream object in the apply pass (each object is read twice: the check, then the apply).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, RestoreTargetBusyError, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, restoreStatus, restoreStream, snapshotBackup, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, countingRequests, freshBucket, freshDb, gatedClient, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('restore target lock on the stream paths (FerretDB target, moto)', () => {
  it('restoreStream holds the lock for its lockMs; a restoreStream or pointInTimeRestore into the held target is refused before reading the stream; the lock ends with it', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('stream-lock');
    const base = await freshDb('streamlockbase');
    const target = await freshDb('streamlock');
    let release = (): Promise<unknown> => Promise.resolve();
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sl' };
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 5; i++) await app.put(`o${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } }).run();

      // A first replay elsewhere counts the object reads: half of them are the apply pass.
      const counted = countingRequests(s3.client, GetObjectCommand, /\.ndjson\.gz$/);
      const baseline = await restoreStream({ storage: { ...storage, client: counted.client as never }, stream: 'orders', target: mongoTarget({ db: base }) });
      expect(baseline.changes).toBe(5);
      expect(counted.state.count).toBe(2 * baseline.objects);

      const gate = gatedClient(s3.client, baseline.objects + 1);
      const lockMs = 5000;
      const first = restoreStream({ storage: { ...storage, client: gate.client as never }, stream: 'orders', target: mongoTarget({ db: target }), lockMs });
      first.catch(() => undefined);
      // A failed assertion before the gate opens must not leave the restore held (and renewing) during cleanup.
      release = () => (gate.go(), first.catch(() => undefined));
      await gate.reached;

      const held = await restoreStatus(mongoTarget({ db: target }));
      expect(held.complete).toBe(false);
      expect(held.locked?.backupId).toBe('stream orders');
      // Held for lockMs (5 s), not the 60 s default: the store's clock is this machine's.
      const left = Date.parse(held.locked!.until) - Date.now();
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(30_000);

      const streamReads = countingRequests(s3.client, GetObjectCommand, /(?:^|\/)(?:streams|backups)\//);
      const second = await restoreStream({ storage: { ...storage, client: streamReads.client as never }, stream: 'orders', target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(RestoreTargetBusyError);
      expect(second).toMatchObject({ code: 'RESTORE_TARGET_BUSY', heldFor: 'stream orders' });
      const pitr = await pointInTimeRestore({ storage: { ...storage, client: streamReads.client as never }, stream: 'orders', at: new Date(), target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(pitr).toMatchObject({ code: 'RESTORE_TARGET_BUSY', heldFor: 'stream orders' });
      expect(streamReads.state.count).toBe(0);

      gate.go();
      expect((await first).changes).toBe(5);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
      expect(await target.collection('orders').countDocuments()).toBe(5);
    } finally {
      await release();
      await redis.del(key);
      redis.disconnect();
      await Promise.all([base.dropDatabase(), target.dropDatabase()]);
      await s3.drop();
    }
  }, 60_000);

  it('pointInTimeRestore holds its own lock for its lockMs, through the replay; the lock ends with it', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('pitr-lock');
    const source = await freshDb('pitrlocksrc');
    const base = await freshDb('pitrlockbase');
    const target = await freshDb('pitrlock');
    let release = (): Promise<unknown> => Promise.resolve();
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pl' };
      const app = outboxApp(redis, key, 'orders', source);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
      for (let i = 0; i < 5; i++) await app.put(`o${i}`, { n: i });
      await stream.run();
      const snapshot = await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' }).run();
      if (snapshot.status !== 'complete') throw new Error('snapshot did not complete');
      for (let i = 3; i < 8; i++) await app.put(`o${i}`, { n: i, later: true });
      const at = Date.now();
      await stream.run();

      // A first point-in-time restore elsewhere counts the data reads: the last one is of the replay's apply pass.
      const counted = countingRequests(s3.client, GetObjectCommand, /\.ndjson\.gz$/);
      const baseline = await pointInTimeRestore({ storage: { ...storage, client: counted.client as never }, stream: 'orders', at, target: mongoTarget({ db: base }), allowUnverified: true });
      expect(baseline.snapshot.backupId).toBe(snapshot.backupId);
      expect(baseline.changes).toBeGreaterThan(0);

      const gate = gatedClient(s3.client, counted.state.count);
      const lockMs = 5000;
      const first = pointInTimeRestore({ storage: { ...storage, client: gate.client as never }, stream: 'orders', at, target: mongoTarget({ db: target }), allowUnverified: true, lockMs });
      first.catch(() => undefined);
      // A failed assertion before the gate opens must not leave the restore held (and renewing) during cleanup.
      release = () => (gate.go(), first.catch(() => undefined));
      await gate.reached;

      const held = await restoreStatus(mongoTarget({ db: target }));
      expect(held).toMatchObject({ complete: false, incomplete: { backupId: snapshot.backupId }, locked: { backupId: snapshot.backupId } });
      // Held for lockMs (5 s, renewed every third of it), not the 60 s default: the store's clock is this machine's.
      const left = Date.parse(held.locked!.until) - Date.now();
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(10_000);

      gate.go();
      const report = await first;
      expect(report.changes).toBe(baseline.changes);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
      const docs = (db: typeof target) => db.collection('orders').find().sort({ _id: 1 }).toArray();
      expect(await docs(target)).toEqual(await docs(base));
      expect(await target.collection('orders').countDocuments()).toBe(8);
    } finally {
      await release();
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), base.dropDatabase(), target.dropDatabase()]);
      await s3.drop();
    }
  }, 60_000);

  it.each([
    ['restoreStream', 2 ** 31],
    ['restoreStream', 999],
    ['pointInTimeRestore', 2 ** 31],
    ['pointInTimeRestore', 1.5e3 + 0.5],
  ] as const)('%s refuses lockMs %s (CONFIG_INVALID, naming lockMs) before it reads anything', async (fn, lockMs) => {
    const reads = { count: 0 };
    const storage = { client: { send: async () => (reads.count++, {}) } as never, bucket: 'b', prefix: '' };
    const db = await freshDb('lockmsrefused');
    const target = mongoTarget({ db });
    const error = await (fn === 'restoreStream' ? restoreStream({ storage, stream: 'orders', target, lockMs }) : pointInTimeRestore({ storage, stream: 'orders', at: new Date(), target, lockMs })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toContain('lockMs');
    expect((error as Error).message).toContain('an integer from 1000 to 2147483647');
    expect(reads.count).toBe(0);
    await db.dropDatabase();
  });
});
