/**
 * Review follow-up: a restore frozen past `lockMs` (a Lambda freeze: the process is stopped, the
 * event loop with it) between two bulk writes wrote one more batch after its lock may have run
 * out. Its write signal was aborted only by the lock's watch timer, and after a freeze the I/O
 * callback of the last bulk write runs before that timer: the target's check before its next
 * batch passed, and the batch was written while the lock already reported `FencedError`. The
 * write signal now checks the lock itself whenever a target asks it before a batch. Here the
 * event loop is blocked (`Atomics.wait`, 2.6 s > `lockMs` 2 s) right after the first bulk write
 * of one document: the restore stops with `BACKUP_FENCED` having written only that document.
 * (`lockMs` is above its 1 s minimum so that a slow claim under load does not lose the lock
 * before the first write.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { FencedError, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, restore, restoreStream, snapshotBackup, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** `db` whose `at`-th `insertMany` into `orders` (default the first) blocks the event loop for 2.6 s once it resolved (a freeze past `lockMs`). */
function freezingDb(db: Db, at = 1): Db {
  let inserts = 0;
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver);
      return (name: string, ...rest: unknown[]) => {
        const collection = target.collection(name, ...(rest as []));
        if (name !== 'orders') return collection;
        return new Proxy(collection, {
          get(t, p, r) {
            const value = Reflect.get(t, p, r) as unknown;
            if (typeof value !== 'function') return value;
            if (p !== 'insertMany') return (value as (...a: unknown[]) => unknown).bind(t);
            return async (...args: unknown[]) => {
              const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
              if (++inserts === at) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2600);
              return result;
            };
          },
        });
      };
    },
  }) as Db;
}

async function fenced(run: Promise<unknown>): Promise<void> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FencedError);
  expect((error as FencedError).code).toBe('BACKUP_FENCED');
}

describe('a restore frozen past lockMs after a bulk write', () => {
  it('restoreStream: writes no further batch', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('freeze');
    const db = await freshDb('freeze');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fz' };
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 6; i++) await app.put(`o${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1 << 20, maxMs: 60_000 } }).run();
      await fenced(restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: freezingDb(db), batchSize: 1 }), lockMs: 2000 }));
      expect(await db.collection('orders').countDocuments()).toBe(1);
    } finally {
      await redis.del(key);
      await redis.quit();
      await s3.drop();
      await db.dropDatabase();
    }
  }, 60_000);

  it('restore (a snapshot): writes no further batch', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('freezesrc');
    const db = await freshDb('freezedst');
    try {
      await source.collection<{ _id: number }>('orders').insertMany([1, 2, 3, 4, 5, 6].map((n) => ({ _id: n })));
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fs' };
      expect((await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run()).status).toBe('complete');
      await fenced(restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: freezingDb(db), batchSize: 1 }), lockMs: 2000 }));
      expect(await db.collection('orders').countDocuments()).toBe(1);
    } finally {
      await s3.drop();
      await source.dropDatabase();
      await db.dropDatabase();
    }
  }, 60_000);

  it('pointInTimeRestore: frozen in the replay, after the snapshot was written, writes no further change', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('freezepitr');
    const source = await freshDb('freezepitrsrc');
    const db = await freshDb('freezepitr');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fp' };
      const app = outboxApp(redis, key, 'orders', source);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1 << 20, maxMs: 60_000 } });
      for (let i = 0; i < 3; i++) await app.put(`o${i}`, { n: i });
      await stream.run();
      expect((await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' }).run()).status).toBe('complete');
      for (let i = 3; i < 8; i++) await app.put(`o${i}`, { n: i, later: true });
      const at = Date.now();
      await stream.run();
      // One bulk write per snapshot document (3), then per change: frozen after the first change.
      await fenced(pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: freezingDb(db, 4), batchSize: 1 }), allowUnverified: true, lockMs: 2000 }));
      expect(await db.collection('orders').countDocuments()).toBe(4);
      expect(await db.collection('orders').countDocuments({ 'later': true })).toBe(1);
    } finally {
      await redis.del(key);
      await redis.quit();
      await s3.drop();
      await source.dropDatabase();
      await db.dropDatabase();
    }
  }, 60_000);
});
