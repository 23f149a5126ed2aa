/**
 * The restore target lock and the partial-restore marker (src/restore/lock.ts), on the real
 * servers: FerretDB (:27117), an own Redis server (its whole database is the test's), moto S3.
 * A restore is held inside its apply by an S3 client that stops the second read of a part
 * (`spoolBytes: 0`: the first read is the check, the second the write) until the test lets it go.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { RestoreApplyError, RestoreTargetBusyError, StorageError, mongoSource, mongoTarget, redisSource, redisTarget, restore, restoreStatus, snapshotBackup } from '../src/index.js';
import { mongoLeaseStore } from '@steadyfn/lease';
import { loadManifest } from '../src/restore/load.js';
import { closeMongo, freshBucket, freshDb, gatedClient, S3_SERVERS } from './support.js';
import { mongoBackupOf, redisBackupOf, withOwnRedis, type OwnRedisRestore } from './support-restore.js';

afterAll(closeMongo);

const backupOf = (source: Db, storage: OwnRedisRestore['storage'], value: string): Promise<string> => mongoBackupOf(source, storage, value, 50);

describe('restore target lock, MongoDB (FerretDB)', () => {
  it('a second restore into a locked target is refused (RESTORE_TARGET_BUSY, naming the backup and until when); the data is the first backup’s', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('locksrc');
    const target = await freshDb('lockdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lk' };
      const a = await backupOf(source, storage, 'a');
      const b = await backupOf(source, storage, 'b');
      const gate = gatedClient(s3.client, 2);
      const first = restore({ backup: { storage: { ...storage, client: gate.client }, id: a }, target: mongoTarget({ db: target }), spoolBytes: 0 });
      first.catch(() => undefined);
      await gate.reached;

      const status = await restoreStatus(mongoTarget({ db: target }));
      expect(status.complete).toBe(false);
      expect(status.incomplete?.backupId).toBe(a);
      expect(status.locked?.backupId).toBe(a);

      const second = await restore({ backup: { storage, id: b }, target: mongoTarget({ db: target }) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(second).toBeInstanceOf(RestoreTargetBusyError);
      const busy = second as RestoreTargetBusyError;
      expect(busy.code).toBe('RESTORE_TARGET_BUSY');
      expect(busy.retryable).toBe(true);
      expect(busy.heldFor).toBe(a);
      expect(busy.message).toContain(`backup ${a}`);
      expect(busy.message).toContain(new Date(busy.heldUntil).toISOString());

      gate.go();
      const report = await first;
      expect(report.records).toBe(50);
      expect(report.warnings).toEqual([]);
      const docs = await target.collection<{ _id: number; v: string }>('orders').find().sort({ _id: 1 }).toArray();
      expect(docs.map((d) => d.v)).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });

      // Released: the other restore runs now.
      expect((await restore({ backup: { storage, id: b }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' })).records).toBe(50);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('a failed restore drops its lock (the collection: it held the lock) and leaves its marker; the retry warns, runs at once and clears it; a lock collection left behind is not backed up', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('lockfsrc');
    const target = await freshDb('lockfdst');
    const again = await freshDb('lockfagain');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lf' };
      const a = await backupOf(source, storage, 'a');
      // The target's writes fail (a driver error the target does not type itself): after the lock and the marker.
      let failing = true;
      const db = new Proxy(target, {
        get(t, prop, receiver) {
          if (prop !== 'collection') return Reflect.get(t, prop, receiver);
          return (name: string) => {
            const collection = t.collection(name);
            if (name !== 'orders') return collection;
            return new Proxy(collection, {
              get(c, p, r) {
                if (p === 'insertMany' && failing) return async () => Promise.reject(Object.assign(new Error('injected'), { name: 'MongoServerError', code: 2 }));
                const value = Reflect.get(c, p, r);
                return typeof value === 'function' ? value.bind(c) : value;
              },
            });
          };
        },
      });
      await expect(restore({ backup: { storage, id: a }, target: mongoTarget({ db }) })).rejects.toBeInstanceOf(RestoreApplyError);
      const status = await restoreStatus(mongoTarget({ db: target }));
      expect(status).toMatchObject({ complete: false, incomplete: { backupId: a } });
      expect(status.locked).toBeUndefined();

      // The marker stays; the failed restore dropped its lock's collection (it held the lock).
      const names = (await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      expect(names).toContain('steadyfn_restore_marker');
      expect(names).not.toContain('steadyfn_restore_lock');
      // A lock released rather than dropped (a restore that took over another's record within
      // 55 s) leaves the collection with its record: here one taken and settled by hand.
      const lockStore = mongoLeaseStore({ collection: target.collection('steadyfn_restore_lock') });
      const other = await lockStore.claim({ key: 'restore', owner: 'other-restore', leaseMs: 60_000 });
      if (!other.claimed) throw new Error('lock not claimed');
      await lockStore.settle({ key: 'restore', owner: 'other-restore', fence: other.fence });
      expect((await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toContain('steadyfn_restore_lock');
      expect(await target.collection('steadyfn_restore_lock').countDocuments({})).toBeGreaterThan(0);
      // A backup of the half-restored database lists neither the lock nor the marker as data.
      const copy = await snapshotBackup({ source: mongoSource({ db: target }), target: { ...storage, prefix: 'copy' } }).run();
      if (copy.status !== 'complete') throw new Error('backup did not complete');
      expect((await loadManifest({ ...storage, prefix: 'copy' }, copy.backupId)).datasets.map((d) => d.name)).toEqual(['orders']);
      const copied = await restore({ backup: { storage: { ...storage, prefix: 'copy' }, id: 'latest' }, target: mongoTarget({ db: again }) });
      expect(copied.datasets.map((d) => d.name)).toEqual(['orders']);

      failing = false;
      const retry = await restore({ backup: { storage, id: a }, target: mongoTarget({ db }) });
      expect(retry.records).toBe(50);
      expect(retry.warnings).toEqual([expect.stringContaining(`the previous restore into this target (backup ${a}`)]);
      expect(retry.warnings[0]).toMatch(/did not finish/);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
      expect(await target.collection('orders').countDocuments()).toBe(50);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), again.dropDatabase(), s3.drop()]);
    }
  }, 120_000);

  it('a completed restore removes its lock collection (no stray collection in the target); the lock still excludes a restore that runs after it', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('lockgsrc');
    const target = await freshDb('lockgdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lg' };
      const a = await backupOf(source, storage, 'a');
      const names = async () => (await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      expect((await restore({ backup: { storage, id: a }, target: mongoTarget({ db: target }) })).records).toBe(50);
      expect(await names()).toEqual(['orders']);

      // After that removal a restore takes the lock anew: held in its apply, it excludes another.
      const gate = gatedClient(s3.client, 2);
      const held = restore({ backup: { storage: { ...storage, client: gate.client }, id: a }, target: mongoTarget({ db: target }), spoolBytes: 0, ifTargetNotEmpty: 'merge' });
      held.catch(() => undefined);
      await gate.reached;
      expect((await restoreStatus(mongoTarget({ db: target }))).locked?.backupId).toBe(a);
      const busy = await restore({ backup: { storage, id: a }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RestoreTargetBusyError);
      gate.go();
      expect((await held).records).toBe(50);
      expect(await names()).toEqual(['orders']);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 60_000);

  it('refuses a backup that would restore into the lock collections (nothing written); restoreStatus of an untouched target creates nothing', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('lockrsrc');
    const target = await freshDb('lockrdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lr' };
      await backupOf(source, storage, 'a');
      const error = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target, collectionName: () => 'steadyfn_restore_marker' }) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RESTORE_UNSUPPORTED' });
      // A target no restore wrote: complete, and asking created nothing there.
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
      expect(await target.listCollections().toArray()).toEqual([]);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});

describe('restore target lock, Redis (own server)', () => {
  it('locks per keyPrefix; a failed restore’s marker is reported, not counted as data, and cleared by the next', async () => {
    await withOwnRedis('rl', async ({ s3, redis, storage }) => {
      await redis.set('k:1', 'a1');
      await redis.hset('k:2', 'f', 'a2');
      const done = { backupId: await redisBackupOf(redis, storage) };

      // Held in its apply under prefix 'one:': another restore there is refused, one under 'two:' runs.
      const gate = gatedClient(s3.client, 2);
      const first = restore({ backup: { storage: { ...storage, client: gate.client }, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: 'one:' }), spoolBytes: 0 });
      first.catch(() => undefined);
      await gate.reached;
      const busy = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: 'one:' }) }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RestoreTargetBusyError);
      expect((busy as RestoreTargetBusyError).heldFor).toBe(done.backupId);
      expect((await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: 'two:' }) })).records).toBe(2);
      gate.go();
      expect((await first).records).toBe(2);
      expect(await redis.get('one:k:1')).toBe('a1');

      // No prefix: a restore that fails in its apply (the write's read of S3) leaves its marker only.
      await redis.flushdb();
      const failing = gatedClient(s3.client, 2, true);
      await expect(restore({ backup: { storage: { ...storage, client: failing.client }, id: done.backupId }, target: redisTarget({ client: redis }), spoolBytes: 0 })).rejects.toBeInstanceOf(StorageError);
      expect(await restoreStatus(redisTarget({ client: redis }))).toEqual({ complete: false, incomplete: { backupId: done.backupId, startedAt: expect.any(String), manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/), kind: 'snapshot' } });
      expect(await redis.exists('steadyfn:restore-marker:')).toBe(1);

      // The database now holds only the marker (and the lock's record): a backup of it skips them.
      const whole = await snapshotBackup({ source: redisSource({ client: redis }), target: { ...storage, prefix: 'whole' } }).run();
      if (whole.status !== 'complete') throw new Error('backup did not complete');
      expect(whole.records).toBe(0);

      const next = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis }) });
      // The marker (and the lock's record) are not counted as keys the target held.
      expect(next.warnings).toEqual([expect.stringMatching(new RegExp(`previous restore into this target \\(backup ${done.backupId}.*did not finish`))]);
      expect(await restoreStatus(redisTarget({ client: redis }))).toEqual({ complete: true });
      expect(await redis.exists('steadyfn:restore-marker:')).toBe(0);

      // A backup an earlier version made of such a database holds the marker's record: restoring
      // it counts the record and never writes the key.
      const line = (k: string, v: string) => JSON.stringify({ k, t: 'string', ttl: -1, c: 0, v: [['0', v]] });
      const older = async function* () {
        yield line('steadyfn:restore-marker:', JSON.stringify({ backupId: 'older', startedAt: new Date().toISOString() }));
        yield line('steadyfn:drill-marker:scratch:', JSON.stringify({ at: new Date().toISOString() }));
        yield line('k:3', 'a3');
      };
      expect(await redisTarget({ client: redis, keyPrefix: 'w:' }).apply({} as never, older())).toBe(3);
      expect(await redis.get('w:k:3')).toBe('a3');
      expect(await redis.exists('w:steadyfn:restore-marker:')).toBe(0);
      expect(await redis.exists('w:steadyfn:drill-marker:scratch:')).toBe(0);
    });
  }, 120_000);
});
