/**
 * The partial-restore marker of a point-in-time restore names that exact restore (kind, snapshot,
 * stream, target time: src/restore/lock-places.ts `sameRestore`), and `pointInTimeRestore`
 * without `job` refuses a stream whose snapshots are of several jobs (pitr-snapshot.ts). Real
 * servers: Redis (:16379, the outbox stream), FerretDB (:27117), moto S3. Before, a `restore()` of
 * the snapshot over an unfinished point-in-time restore from it counted as the same restore and
 * skipped the emptiness check; and without `job` the newest snapshot of any job was taken.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, RestoreTargetPartialError, StorageError, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, restore, restoreStatus, snapshotBackup, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, countingRequests, freshBucket, freshDb, gatedClient, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('point-in-time restore: its marker, and the job', () => {
  it('a restore() of the snapshot over an unfinished point-in-time restore is refused; the same PITR completes it; without job, two jobs on the stream are refused', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('pitr-marker');
    const source = await freshDb('pmsrc');
    const base = await freshDb('pmbase');
    const target = await freshDb('pmdst');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pm' };
      const app = outboxApp(redis, key, 'orders', source);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
      for (let i = 0; i < 5; i++) await app.put(`o${i}`, { n: i });
      await stream.run();
      const snapshot = await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job: 'nightly' }).run();
      if (snapshot.status !== 'complete') throw new Error('snapshot did not complete');
      for (let i = 3; i < 8; i++) await app.put(`o${i}`, { n: i, later: true });
      const at = Date.now();
      await stream.run();

      // A first point-in-time restore elsewhere counts the data reads: the last is of the replay's apply pass.
      const counted = countingRequests(s3.client, GetObjectCommand, /\.ndjson\.gz$/);
      const baseline = await pointInTimeRestore({ storage: { ...storage, client: counted.client as never }, stream: 'orders', at, target: mongoTarget({ db: base }), allowUnverified: true });
      expect(baseline.changes).toBeGreaterThan(0);

      // The replay's read fails: the snapshot is written, the changes are not; the marker stays.
      const failing = gatedClient(s3.client, counted.state.count, true);
      await expect(pointInTimeRestore({ storage: { ...storage, client: failing.client as never }, stream: 'orders', at, target: mongoTarget({ db: target }), allowUnverified: true })).rejects.toBeInstanceOf(StorageError);
      const status = await restoreStatus(mongoTarget({ db: target }));
      expect(status.incomplete).toMatchObject({ backupId: snapshot.backupId, kind: 'point-in-time', stream: 'orders', until: new Date(at).toISOString() });

      // Not the same restore: refused, nothing written.
      const before = await target.collection('orders').find().sort({ _id: 1 }).toArray();
      const refused = await restore({ backup: { storage, id: snapshot.backupId! }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreTargetPartialError);
      expect(refused).toMatchObject({ code: 'RESTORE_TARGET_PARTIAL', partial: { backupId: snapshot.backupId, kind: 'point-in-time' } });
      expect((refused as Error).message).toContain(`to ${new Date(at).toISOString()} from stream orders`);
      const otherTime = await pointInTimeRestore({ storage, stream: 'orders', at: at + 1, target: mongoTarget({ db: target }), allowUnverified: true }).catch((e: unknown) => e);
      expect(otherTime).toBeInstanceOf(RestoreTargetPartialError);
      expect(await target.collection('orders').find().sort({ _id: 1 }).toArray()).toEqual(before);

      // The same point-in-time restore completes it.
      const again = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: target }), allowUnverified: true });
      expect(again.changes).toBe(baseline.changes);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });

      // A second job's snapshot marked with the same stream: without job, refused naming both.
      const weekly = await snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders', job: 'weekly' }).run();
      if (weekly.status !== 'complete') throw new Error('snapshot did not complete');
      const scratch = await freshDb('pmjobs');
      const mixed = await pointInTimeRestore({ storage, stream: 'orders', at: Date.now(), target: mongoTarget({ db: scratch }), allowUnverified: true }).catch((e: unknown) => e);
      expect(mixed).toBeInstanceOf(ConfigurationError);
      expect(mixed).toMatchObject({ code: 'CONFIG_INVALID', field: 'job' });
      expect((mixed as Error).message).toContain('"weekly"');
      expect((mixed as Error).message).toContain('"nightly"');
      expect(await scratch.listCollections().toArray()).toEqual([]);
      await scratch.dropDatabase();
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), base.dropDatabase(), target.dropDatabase()]);
      await s3.drop();
    }
  }, 120_000);
});
