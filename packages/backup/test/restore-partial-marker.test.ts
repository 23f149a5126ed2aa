/**
 * The partial-restore marker names its backup (src/restore/not-empty.ts, lock-places.ts), on the
 * real servers: FerretDB (:27117), an own Redis server, moto S3. After a restore of backup A
 * failed half-way, a restore of another backup B into that target is refused
 * (`RestoreTargetPartialError`, nothing written) unless it is told to merge; restoring A again
 * still completes it. Before, any marker let B through, into A's half-written data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { RestoreApplyError, RestoreTargetPartialError, StorageError, mongoTarget, redisTarget, restore, restoreStatus } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, gatedClient, S3_SERVERS } from './support.js';
import { mongoBackupOf, redisBackupOf, withOwnRedis, type OwnRedisRestore } from './support-restore.js';

afterAll(closeMongo);

const backupOf = (source: Db, storage: OwnRedisRestore['storage'], value: string): Promise<string> => mongoBackupOf(source, storage, value, 30);

/** `db` whose `orders` writes fail from the `failFrom`-th bulk write on while `failing()`. */
function failingWrites(db: Db, failing: () => boolean, failFrom: number): Db {
  let writes = 0;
  return new Proxy(db, {
    get(t, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(t, prop, receiver);
      return (name: string) => {
        const collection = t.collection(name);
        if (name !== 'orders') return collection;
        return new Proxy(collection, {
          get(c, p, r) {
            if (p === 'insertMany' && failing() && ++writes >= failFrom) return async () => Promise.reject(Object.assign(new Error('injected'), { name: 'MongoServerError', code: 2 }));
            const value = Reflect.get(c, p, r);
            return typeof value === 'function' ? value.bind(c) : value;
          },
        });
      };
    },
  });
}

describe('partial-restore marker of another backup, MongoDB (FerretDB)', () => {
  it('refuses a restore of another backup over a half-written one (RESTORE_TARGET_PARTIAL, nothing written); the same backup resumes; merge is explicit', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('ptsrc');
    const target = await freshDb('ptdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pt' };
      const a = await backupOf(source, storage, 'a');
      const b = await backupOf(source, storage, 'b');
      let failing = true;
      // Batches of 10: the first lands, the second fails — 10 of A's 30 documents are in the target.
      const db = failingWrites(target, () => failing, 2);
      await expect(restore({ backup: { storage, id: a }, target: mongoTarget({ db, batchSize: 10 }) })).rejects.toBeInstanceOf(RestoreApplyError);
      const halfA = await target.collection('orders').find().sort({ _id: 1 }).toArray();
      expect(halfA.length).toBeGreaterThan(0);
      expect(halfA.length).toBeLessThan(30);

      const refused = await restore({ backup: { storage, id: b }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      // Before: B's restore resolved (a report), writing B over A's half.
      expect(refused).toMatchObject({ code: 'RESTORE_TARGET_PARTIAL' });
      expect(refused).toBeInstanceOf(RestoreTargetPartialError);
      const partial = refused as RestoreTargetPartialError;
      expect(partial.code).toBe('RESTORE_TARGET_PARTIAL');
      expect(partial.retryable).toBe(false);
      expect(partial.field).toBe('ifTargetNotEmpty');
      expect(partial.partial).toMatchObject({ backupId: a, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(partial.message).toContain(`backup ${a}`);
      expect(partial.message).toContain('steadyfn_restore_marker');
      // Nothing of B was written; the marker is still A's.
      expect(await target.collection('orders').find().sort({ _id: 1 }).toArray()).toEqual(halfA);
      expect((await restoreStatus(mongoTarget({ db: target }))).incomplete?.backupId).toBe(a);

      // The same backup completes it.
      failing = false;
      const resumed = await restore({ backup: { storage, id: a }, target: mongoTarget({ db: target }) });
      expect(resumed.records).toBe(30);
      expect(resumed.warnings).toContainEqual(expect.stringContaining(`the previous restore into this target (backup ${a}`));
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });

      // Half-written again; merging B into it is the user's explicit choice.
      failing = true;
      await target.collection('orders').deleteMany({});
      await expect(restore({ backup: { storage, id: a }, target: mongoTarget({ db: failingWrites(target, () => failing, 2), batchSize: 10 }) })).rejects.toBeInstanceOf(RestoreApplyError);
      const merged = await restore({ backup: { storage, id: b }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });
      expect(merged.records).toBe(30);
      expect(merged.warnings).toContainEqual(expect.stringContaining(`the previous restore into this target (backup ${a}`));
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});

describe('partial-restore marker of another backup, Redis (own server)', () => {
  it('refuses a restore of another backup into a prefix another backup’s failed restore marked; the same backup resumes', async () => {
    await withOwnRedis('ptr', async ({ s3, redis, storage }) => {
      const backup = async (value: string): Promise<string> => {
        await redis.set('k:1', value);
        return redisBackupOf(redis, storage);
      };
      const a = await backup('a');
      const b = await backup('b');
      await redis.flushdb();
      const failing = gatedClient(s3.client, 2, true);
      await expect(restore({ backup: { storage: { ...storage, client: failing.client }, id: a }, target: redisTarget({ client: redis, keyPrefix: 'r:' }), spoolBytes: 0 })).rejects.toBeInstanceOf(StorageError);

      const refused = await restore({ backup: { storage, id: b }, target: redisTarget({ client: redis, keyPrefix: 'r:' }) }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'RESTORE_TARGET_PARTIAL' });
      expect(refused).toBeInstanceOf(RestoreTargetPartialError);
      expect((refused as RestoreTargetPartialError).partial.backupId).toBe(a);
      expect((refused as RestoreTargetPartialError).message).toContain('steadyfn:restore-marker:r:');
      expect(await redis.exists('r:k:1')).toBe(0);

      expect((await restore({ backup: { storage, id: a }, target: redisTarget({ client: redis, keyPrefix: 'r:' }) })).records).toBe(1);
      expect(await redis.get('r:k:1')).toBe('a');
      expect(await restoreStatus(redisTarget({ client: redis, keyPrefix: 'r:' }))).toEqual({ complete: true });
    });
  }, 120_000);
});
