/**
 * Partial-restore markers written before markers said their kind (legacy markers: the literal
 * JSON of the earlier version) on the real servers: FerretDB (:27117, the target of
 * `restoreStream`), Redis (:16379 for the outbox stream; an own server as a restore target),
 * moto S3. Before (src/restore/lock-places.ts `sameRestore`), a marker without `kind` was read
 * as a `restore()`'s: the `restoreStream` that left one was refused for ever ("Repeat that
 * restore" → refused again), and the refusal named it `backup stream <name>`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RestoreTargetPartialError, mongoTarget, redisStreamSource, redisTarget, restore, restoreStatus, restoreStream, streamBackup } from '../src/index.js';
import { RESTORE_MARKER_COLLECTION, redisRestoreKeys } from '../src/restore/lock-places.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';
import { redisBackupOf, withOwnRedis } from './support-restore.js';

afterAll(closeMongo);

const STARTED = '2026-12-05T11:00:00.000Z';

describe('legacy partial-restore markers (no kind) on real servers', () => {
  it('restoreStream completes the legacy marker an unfinished restoreStream of the same stream left (FerretDB)', async () => {
    const redis = await redisClient();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('legacy-stream');
    const target = await freshDb('legacystream');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lm' };
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 3; i++) await app.put(`o${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } }).run();

      // What an unfinished restoreStream of the earlier version left: part of its data, and its marker as it wrote it.
      const legacy = (stream: string) => JSON.parse(`{"backupId":"stream ${stream}","startedAt":"${STARTED}"}`) as object;
      const markers = target.collection<{ _id: string }>(RESTORE_MARKER_COLLECTION);
      await target.collection<{ _id: string; partial: boolean }>('orders').insertOne({ _id: 'o0', partial: true });
      // Another stream's: this replay is refused over it, the legacy restore named by its id.
      await markers.insertOne({ _id: 'restore', ...legacy('payments') });
      const other = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(RestoreTargetPartialError);
      expect((other as Error).message).toContain(`earlier restore of stream payments (started ${STARTED})`);

      await markers.replaceOne({ _id: 'restore' }, legacy('orders'));
      expect((await restoreStatus(mongoTarget({ db: target }))).incomplete).toEqual({ backupId: 'stream orders', startedAt: STARTED });
      // Repeating that restore completes it: the data replayed, the marker gone.
      const again = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) });
      expect(again.changes).toBe(3);
      expect(await target.collection('orders').countDocuments({ partial: true })).toBe(0);
      expect(await target.collection('orders').countDocuments({})).toBe(3);
      expect(await restoreStatus(mongoTarget({ db: target }))).toEqual({ complete: true });
    } finally {
      await redis.del(key);
      redis.disconnect();
      await target.dropDatabase();
      await s3.drop();
    }
  }, 120_000);

  it('Redis target: a restore() of the snapshot completes a legacy snapshot-or-PITR marker (the old rule, kept); a legacy restoreStream marker refuses it, named by its id', async () => {
    await withOwnRedis('lm', async ({ redis, storage }) => {
      await redis.set('k:1', 'a');
      const backupId = await redisBackupOf(redis, storage);
      await redis.flushdb();
      const marker = redisRestoreKeys('').marker;

      // A legacy restoreStream marker: not this restore's; refused, nothing written.
      await redis.set(marker, `{"backupId":"stream orders","startedAt":"${STARTED}"}`);
      const refused = await restore({ backup: { storage, id: backupId }, target: redisTarget({ client: redis }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RestoreTargetPartialError);
      expect(refused).toMatchObject({ code: 'RESTORE_TARGET_PARTIAL', partial: { backupId: 'stream orders' } });
      expect((refused as Error).message).toContain(`earlier restore of stream orders (started ${STARTED})`);
      expect(await redis.exists('k:1')).toBe(0);

      // A legacy marker of this snapshot (a restore() or a pointInTimeRestore of it left it): this restore completes it.
      await redis.set(marker, `{"backupId":"${backupId}","startedAt":"${STARTED}"}`);
      await redis.set('k:1', 'partial');
      const report = await restore({ backup: { storage, id: backupId }, target: redisTarget({ client: redis }) });
      expect(report.warnings.join('\n')).toContain(`the previous restore into this target (backup ${backupId}, started ${STARTED}) did not finish`);
      expect(await redis.get('k:1')).toBe('a');
      expect(await redis.exists(marker)).toBe(0);
      expect(await restoreStatus(redisTarget({ client: redis }))).toEqual({ complete: true });
    });
  }, 120_000);
});
