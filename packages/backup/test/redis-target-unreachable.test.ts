/**
 * A Redis restore target that cannot be reached fails as the README's errors table says:
 * `RestoreTargetUnavailableError` (`RESTORE_TARGET_UNAVAILABLE`), as a MongoDB one does — not the
 * lease store's `LeaseStoreUnavailableError` of the restore lock, which backup does not export
 * (its cause is kept for logs). A real ioredis client on a closed port; moto S3.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { mongoSource, redisTarget, restore, restoreStatus, RestoreTargetUnavailableError, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** A client of a closed port that gives up at once (no reconnects, no offline queue). */
const unreachable = (): Redis => new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });

describe('an unreachable Redis restore target', () => {
  it('restoreStatus and restore throw RestoreTargetUnavailableError with the driver error as cause', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('unreach');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('unreach') };
    const clients: Redis[] = [];
    const client = (): Redis => {
      const c = unreachable();
      clients.push(c);
      return c;
    };
    try {
      await db.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      const backup = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      expect(backup.status).toBe('complete');

      const status = await restoreStatus(redisTarget({ client: client() })).catch((e: unknown) => e);
      expect(status).toBeInstanceOf(RestoreTargetUnavailableError);
      expect(status).toMatchObject({ code: 'RESTORE_TARGET_UNAVAILABLE' });
      expect((status as Error).cause).toBeInstanceOf(Error);
      expect((status as Error).cause).not.toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE' });

      const restored = await restore({ backup: { storage, id: backup.backupId! }, target: redisTarget({ client: client() }) }).catch((e: unknown) => e);
      expect(restored).toBeInstanceOf(RestoreTargetUnavailableError);
      expect(restored).toMatchObject({ code: 'RESTORE_TARGET_UNAVAILABLE' });

      // A default ioredis client (reconnects forever, queues commands): bounded by connectTimeoutMs.
      const patient = new Redis({ port: 1 });
      clients.push(patient);
      const started = Date.now();
      const bounded = await restoreStatus(redisTarget({ client: patient, connectTimeoutMs: 1_000 })).catch((e: unknown) => e);
      expect(bounded).toBeInstanceOf(RestoreTargetUnavailableError);
      expect(String((bounded as Error).message)).toContain('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const c of clients) c.disconnect();
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});

describe('a Redis restore target given as a getter', () => {
  it('uses the client the getter hands out now: a closed first client (a thaw rebuilt it) does not fail later restores', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('getter');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('getter') };
    const url = process.env.REDIS_URL;
    if (url === undefined) throw new Error('REDIS_URL is not set: start the services (test/services/services.sh)');
    let current = new Redis(url);
    const clients: Redis[] = [current];
    const keyPrefix = `${unique('getter')}:`;
    try {
      await db.collection<{ _id: number }>('orders').insertOne({ _id: 1 });
      const backup = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      expect(backup.status).toBe('complete');
      const target = redisTarget({ client: () => current, keyPrefix });
      expect(await restoreStatus(target)).toMatchObject({ complete: true });
      // The first client is closed and replaced, as a connections handle does after a thaw.
      current.disconnect();
      current = new Redis(url);
      clients.push(current);
      expect(await restoreStatus(target)).toMatchObject({ complete: true });
    } finally {
      for (const c of clients) c.disconnect();
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
