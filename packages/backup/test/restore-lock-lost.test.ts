/**
 * A restore that loses its target lock, and how the lock is claimed and read (src/restore/lock.ts,
 * src/job-lease.ts `holdLease`), on the real servers: an own Redis server (its whole database is
 * the test's), FerretDB (:27117), moto S3. Renewal failures are injected by a client that fails
 * `EVALSHA` (the lease store's scripts) while `blip.on`; restores are held in their apply by
 * `gatedClient` (support.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ConfigurationError, FencedError, RestoreTargetBusyError, RestoreTargetRefusedError, mongoTarget, redisSource, redisTarget, restore, restoreStatus, snapshotBackup } from '../src/index.js';
import { TargetLock } from '../src/restore/lock.js';
import { mongoLockPlace } from '../src/restore/lock-places.js';
import { startRedis } from '../../../test/support/servers.js';
import { closeMongo, countingRequests, freshBucket, freshDb, gatedClient, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** `redis`, with `EVALSHA` (the lease store's renewals) failing while `blip.on`. */
function blipping(redis: Redis) {
  const blip = { on: false };
  const client = new Proxy(redis, {
    get(target, prop) {
      if (prop === 'evalsha' && blip.on) return async () => Promise.reject(new Error('Connection is closed.'));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { blip, client };
}

async function redisBackup(redis: Redis, storage: { client: never; bucket: string; prefix: string }): Promise<string> {
  await redis.set('k:1', 'a1');
  await redis.hset('k:2', 'f', 'a2');
  const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: 'k:*' }), target: storage }).run();
  if (done.status !== 'complete') throw new Error('backup did not complete');
  return done.backupId;
}

describe('a restore losing its target lock, Redis (own server)', () => {
  it('renewals failing past lockMs lose the lock: the restore stops (BACKUP_FENCED) and leaves the next restore’s marker and lock alone', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    try {
      const storage = { client: s3.client as never, bucket: s3.bucket, prefix: 'lost' };
      const id = await redisBackup(redis, storage);
      const { blip, client } = blipping(redis);
      const gateA = gatedClient(s3.client, 2);
      const first = restore({ backup: { storage: { ...storage, client: gateA.client }, id }, target: redisTarget({ client, keyPrefix: 'p:' }), spoolBytes: 0, lockMs: 1000 });
      first.catch(() => undefined);
      await gateA.reached;
      // Its renewals fail until its lock runs out (by the server's clock).
      blip.on = true;
      for (let i = 0; (await restoreStatus(redisTarget({ client: redis, keyPrefix: 'p:' }))).locked && i < 120; i++) await delay(250);
      expect((await restoreStatus(redisTarget({ client: redis, keyPrefix: 'p:' }))).locked).toBeUndefined();

      // Another restore takes the target and is held in its apply.
      const gateB = gatedClient(s3.client, 2);
      const second = restore({ backup: { storage: { ...storage, client: gateB.client }, id }, target: redisTarget({ client: redis, keyPrefix: 'p:' }), spoolBytes: 0 });
      second.catch(() => undefined);
      await gateB.reached;
      const held = await restoreStatus(redisTarget({ client: redis, keyPrefix: 'p:' }));
      expect(held.locked?.backupId).toBe(id);

      // The Redis blip ends; the first restore goes on: it stops without completing.
      blip.on = false;
      gateA.go();
      const lost = await first.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(lost).toBeInstanceOf(FencedError);
      expect((lost as FencedError).code).toBe('BACKUP_FENCED');
      // The second restore's marker and lock are untouched.
      expect(await restoreStatus(redisTarget({ client: redis, keyPrefix: 'p:' }))).toMatchObject({ complete: false, incomplete: held.incomplete, locked: { backupId: id } });

      gateB.go();
      expect((await second).records).toBe(2);
      expect(await restoreStatus(redisTarget({ client: redis, keyPrefix: 'p:' }))).toEqual({ complete: true });
    } finally {
      redis.disconnect();
      await server.stop();
      await s3.drop();
    }
  }, 120_000);

  it('a user who may not write refuses the lock’s claim: RESTORE_TARGET_REFUSED, nothing written', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    const reader = new Redis(server.url, { maxRetriesPerRequest: 2, username: 'reader', password: 'pw', lazyConnect: true });
    try {
      const storage = { client: s3.client as never, bucket: s3.bucket, prefix: 'acl' };
      const id = await redisBackup(redis, storage);
      await redis.flushdb();
      await redis.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '&*', '+@all', '-@write');
      const refused = await restore({ backup: { storage, id }, target: redisTarget({ client: reader }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreTargetRefusedError);
      expect((refused as RestoreTargetRefusedError).code).toBe('RESTORE_TARGET_REFUSED');
      expect(await redis.dbsize()).toBe(0);
    } finally {
      reader.disconnect();
      redis.disconnect();
      await server.stop();
      await s3.drop();
    }
  }, 60_000);

  it('a restore into a held target fails before reading the backup', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
    try {
      const storage = { client: s3.client as never, bucket: s3.bucket, prefix: 'fast' };
      const id = await redisBackup(redis, storage);
      const gate = gatedClient(s3.client, 2);
      const first = restore({ backup: { storage: { ...storage, client: gate.client }, id }, target: redisTarget({ client: redis }), spoolBytes: 0, ifTargetNotEmpty: 'merge' });
      first.catch(() => undefined);
      await gate.reached;
      // Any read of the backup (its manifest, its parts): the storage probe may read its own object.
      const reads = countingRequests(s3.client, GetObjectCommand, /(?:^|\/)backups\//);
      const busy = await restore({ backup: { storage: { ...storage, client: reads.client }, id }, target: redisTarget({ client: redis }) }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RestoreTargetBusyError);
      expect(reads.state.count).toBe(0);
      gate.go();
      expect((await first).records).toBe(2);
    } finally {
      redis.disconnect();
      await server.stop();
      await s3.drop();
    }
  }, 60_000);

  it('refuses a lockMs a timer cannot hold (CONFIG_INVALID, nothing read)', async () => {
    const error = await restore({ backup: { storage: { client: {} as never, bucket: 'b', prefix: '' }, id: 'latest' }, target: redisTarget({ client: new Redis({ lazyConnect: true }) }), lockMs: 2 ** 31 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toContain('lockMs');
  });
});

describe('the partial-restore marker and restoreStatus, MongoDB (FerretDB)', () => {
  it('a marker is removed only by the restore that wrote it', async () => {
    const db = await freshDb('markercas');
    try {
      const place = mongoLockPlace(async () => db);
      const mine = { backupId: 'a', startedAt: '2026-01-01T00:00:00.000Z' };
      await place.writeMarker({ backupId: 'b', startedAt: '2026-01-01T00:00:01.000Z' });
      await place.clearMarker(mine);
      expect(await place.readMarker()).toEqual({ backupId: 'b', startedAt: '2026-01-01T00:00:01.000Z' });
      await place.writeMarker(mine);
      await place.clearMarker(mine);
      expect(await place.readMarker()).toBeUndefined();
    } finally {
      await db.dropDatabase();
    }
  });

  it('a restore taking the lock between the lock’s and the marker’s read is reported running, not died', async () => {
    const db = await freshDb('statusrace');
    const lock = new TargetLock(mongoTarget({ db }), 60_000);
    try {
      const target = mongoTarget({ db });
      const place = target.lock!;
      // The restore takes the lock and writes its marker just before restoreStatus reads the marker.
      const racing = { ...target, lock: { ...place, readMarker: async (signal?: AbortSignal) => (await lock.take('racer', signal), place.readMarker(signal)) } };
      const status = await restoreStatus(racing);
      expect(status).toMatchObject({ complete: false, incomplete: { backupId: 'racer' }, locked: { backupId: 'racer' } });
    } finally {
      await lock.end(false);
      await db.dropDatabase();
    }
  });
});
