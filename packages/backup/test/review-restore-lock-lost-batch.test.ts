/**
 * Review follow-up: a replay checked its target lock only once per batch handed to the target
 * (up to 2,000 changes): a restore whose lock was lost in the middle of one went on writing the
 * rest of it, into a target another restore had taken. The writes now stop before the target's
 * next bulk write. Here `restoreStream` writes one document per bulk write (`batchSize: 1`); after
 * the first, its lock's renewals fail past `lockMs`, another holder claims the lock (a real
 * takeover in the target's lease store), and then the first restore goes on: it stops with
 * `BACKUP_FENCED` having written nothing more.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { FencedError, mongoTarget, redisStreamSource, restoreStream, streamBackup } from '../src/index.js';
import { RESTORE_LOCK_COLLECTION } from '../src/restore/lock-places.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** `db` whose lock collection fails while `blip.on`, and whose `orders` writes wait at `gate` after the first insert. */
function faultyDb(db: Db, blip: { on: boolean }, gate: { after: Promise<void>; reached: () => void }): Db {
  let inserts = 0;
  const wrap = (collection: object, around: (name: string, call: () => Promise<unknown>) => Promise<unknown>) =>
    new Proxy(collection, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? around(String(prop), () => result) : result;
        };
      },
    });
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver);
      return (name: string, ...rest: unknown[]) => {
        const collection = target.collection(name, ...(rest as []));
        if (name === RESTORE_LOCK_COLLECTION) {
          return wrap(collection, async (_op, call) => {
            if (blip.on) throw Object.assign(new Error('connection reset (injected)'), { name: 'MongoNetworkError' });
            return call();
          });
        }
        if (name !== 'orders') return collection;
        return wrap(collection, async (op, call) => {
          const result = await call();
          if (op === 'insertMany' && ++inserts === 1) {
            gate.reached();
            await gate.after;
          }
          return result;
        });
      };
    },
  }) as Db;
}

describe('a replay that loses its target lock in the middle of a batch', () => {
  it('stops before its next bulk write once another restore took the lock', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('lostbatch');
    const db = await freshDb('lostbatch');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lb' };
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 6; i++) await app.put(`o${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1 << 20, maxMs: 60_000 } }).run();

      const blip = { on: false };
      let reached!: () => void;
      const atGate = new Promise<void>((resolve) => (reached = resolve));
      let go!: () => void;
      const after = new Promise<void>((resolve) => (go = resolve));
      const first = restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: faultyDb(db, blip, { after, reached }), batchSize: 1 }), lockMs: 1000 });
      first.catch(() => undefined);
      await atGate;
      expect(await db.collection('orders').countDocuments()).toBe(1);

      // The first restore's renewals fail; once its lease ran out another holder claims it.
      blip.on = true;
      const leases = await mongoTarget({ db }).lock!.leases();
      let claimed = false;
      while (!claimed) {
        claimed = (await leases.claim({ key: 'restore', owner: 'other-restore', leaseMs: 60_000 })).claimed;
        if (!claimed) await new Promise((r) => setTimeout(r, 200));
      }
      // The restore watches its lock every twentieth of lockMs (50 ms here): a timer due later than
      // its next check runs after it (Node runs due timers in order), so the loss is seen by then.
      await new Promise((r) => setTimeout(r, 120));
      blip.on = false;
      go();

      const error = await first.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FencedError);
      expect((error as FencedError).code).toBe('BACKUP_FENCED');
      // Nothing written after the lock was taken over: the rest of the batch was not.
      expect(await db.collection('orders').countDocuments()).toBe(1);
    } finally {
      await redis.del(key);
      await redis.quit();
      await s3.drop();
    }
  }, 60_000);
});
