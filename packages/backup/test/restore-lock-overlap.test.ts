/**
 * Restores into overlapping scopes of one target exclude each other (src/restore/lock.ts,
 * lock-places.ts), on the real servers: an own Redis server (its whole database is the test's),
 * FerretDB (:27117), moto S3. A Redis restore into `''` writes every key, one into `a:` the keys
 * `a:b:` holds too: before, each prefix had its own lock, and such restores ran at once. A
 * restore is held inside its apply by an S3 client that stops the second read of a part
 * (`spoolBytes: 0`: the first read is the check, the second the write).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RestoreTargetBusyError, mongoSource, mongoTarget, redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { TargetLock } from '../src/restore/lock.js';
import { startRedis } from '../../../test/support/servers.js';
import { closeMongo, freshBucket, freshDb, gatedClient, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('restore lock over overlapping Redis key prefixes (own server)', () => {
  it('a restore holding a prefix refuses restores into a prefix inside or around it; a disjoint prefix runs', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ov' };
      await redis.set('k:1', 'a1');
      await redis.set('k:2', 'a2');
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: 'k:*' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      await redis.flushdb();
      const into = (keyPrefix: string) => restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix }), ifTargetNotEmpty: 'merge' }).catch((e: unknown) => e);

      for (const [held, others] of [
        ['a:', ['', 'a', 'a:b:']],
        ['', ['a:', 'z']],
      ] as const) {
        const gate = gatedClient(s3.client, 2);
        const first = restore({ backup: { storage: { ...storage, client: gate.client }, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: held }), spoolBytes: 0, ifTargetNotEmpty: 'merge' });
        first.catch(() => undefined);
        await gate.reached;
        for (const other of others) {
          const refused = await into(other);
          expect(refused, `"${other}" while "${held}" is held`).toBeInstanceOf(RestoreTargetBusyError);
          expect((refused as RestoreTargetBusyError).heldFor).toBe(done.backupId);
        }
        if (held === 'a:') expect(await into('b:')).toMatchObject({ records: 2 });
        gate.go();
        expect((await first).records).toBe(2);
      }
      expect(await redis.get('a:k:1')).toBe('a1');
      expect(await redis.get('b:k:1')).toBe('a1');
      expect(await redis.get('k:1')).toBe('a1');
      expect(await redis.exists('a:b:k:1', 'z', 'ak:1')).toBe(0);
    } finally {
      redis.disconnect();
      await server.stop();
      await s3.drop();
    }
  }, 120_000);

  it('of two restores claiming overlapping prefixes at the same moment, at most one holds its lock', async () => {
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    try {
      for (const [one, two] of [
        ['', 'a:'],
        ['a:', 'a:b:'],
        ['x', 'xy'],
      ] as const) {
        for (let round = 0; round < 5; round++) {
          const locks = [new TargetLock(redisTarget({ client: redis, keyPrefix: one }), 60_000), new TargetLock(redisTarget({ client: redis, keyPrefix: two }), 60_000)];
          const taken = await Promise.allSettled([locks[0]!.take(`b-${one}`), locks[1]!.take(`b-${two}`)]);
          expect(taken.filter((t) => t.status === 'fulfilled').length, `"${one}" and "${two}"`).toBeLessThanOrEqual(1);
          for (const t of taken) if (t.status === 'rejected') expect(t.reason).toBeInstanceOf(RestoreTargetBusyError);
          for (const lock of locks) await lock.end(true);
        }
      }
      // Disjoint prefixes still hold their locks at once.
      const disjoint = [new TargetLock(redisTarget({ client: redis, keyPrefix: 'p:' }), 60_000), new TargetLock(redisTarget({ client: redis, keyPrefix: 'q:' }), 60_000)];
      await Promise.all(disjoint.map((lock, i) => lock.take(`d${i}`)));
      for (const lock of disjoint) await lock.end(true);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  }, 120_000);
});

describe('restore lock over one MongoDB database (FerretDB)', () => {
  it('restores into other collections of one database exclude each other (the lock is the database’s)', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source = await freshDb('ovsrc');
    const target = await freshDb('ovdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ovm' };
      await source.collection<{ _id: number }>('orders').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      const gate = gatedClient(s3.client, 2);
      const first = restore({ backup: { storage: { ...storage, client: gate.client }, id: done.backupId }, target: mongoTarget({ db: target, collectionName: () => 'one' }), spoolBytes: 0 });
      first.catch(() => undefined);
      await gate.reached;
      const second = await restore({ backup: { storage, id: done.backupId }, target: mongoTarget({ db: target, collectionName: () => 'two' }) }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(RestoreTargetBusyError);
      gate.go();
      expect((await first).records).toBe(20);
      expect(await target.collection('two').countDocuments()).toBe(0);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 120_000);
});
