/**
 * The restore target lock on the stream paths (`restoreStream`, `pointInTimeRestore`), on the
 * real servers: Redis (:16379, the outbox stream), FerretDB (:27117, the target), moto S3.
 * A `restoreStream` is held inside its apply by an S3 client that stops a read of a stream
 * object in the apply pass (each object is read twice: the check, then the apply).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, RestoreTargetBusyError, mongoTarget, pointInTimeRestore, redisStreamSource, restoreStatus, restoreStream, streamBackup } from '../src/index.js';
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
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'envelope' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } }).run();

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
