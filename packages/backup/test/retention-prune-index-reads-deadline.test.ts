/**
 * With `stream`, retention prunes the hours below every kept snapshot's start mark: for each
 * such hour its checkpoint lists, it reads the hour's index, then deletes the index and the
 * objects it lists (retention-prune.ts, `pruneStream`). Those index reads were not asked of the run's
 * deadline budget (only the deletes were): a checkpoint listing many old hours had every index
 * read past the reserve. Now each is asked like a page of the stream's listing: the run stops
 * before the read that would pass the reserve, counts the hour's objects (from the checkpoint)
 * in `left.streamObjects`, and names `streams/orders/t` in `left.listings`.
 *
 * An hour whose index is missing (a run killed, or a delete refused, after it deleted the index
 * and before the objects) is not the policy's to delete: its objects — below the mark, listed by
 * no index — are swept as orphans once `orphanGraceMs` old, and nothing at or past the kept
 * snapshot's mark is touched.
 *
 * Two hours below a kept snapshot (outbox-fixture.ts), the first hour's index removed; a clock
 * (`remainingMs`) under the reserve after one index GET. On both S3 servers (moto, gofakes3),
 * FerretDB and Redis 7.
 */
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { closeMongo, countingRequests, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)("retention's prune of a stream's old hours, the deadline reached among their index reads, on $name", (server) => {
  it('stops before the index read that would pass the reserve; an hour without its index is left to the orphan sweep, the kept hours untouched', async () => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const db = await freshDb('pirsrc');
    const key = unique('pir-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const job = (name: string) => snapshotBackup({ source: mongoSource({ db, collections: ['orders'] }), target: storage, job: name, stream: 'orders' });
      await pastHoursBelowKeptSnapshot(redis, key, db, storage, job);
      const before = await listAll(s3.client, s3.bucket, 'r/streams/orders/t');
      const indexes = before.filter((k) => k.endsWith('/index.json'));
      expect(indexes.length).toBeGreaterThanOrEqual(3);
      const hourOf = (k: string) => k.slice(0, k.lastIndexOf('/') + 1);
      const [missingHour, prunedHour] = [hourOf(indexes[0]!), hourOf(indexes[1]!)];
      const missingObjects = before.filter((k) => k.startsWith(missingHour) && k.endsWith('.ndjson.gz'));
      const prunedObjects = before.filter((k) => k.startsWith(prunedHour) && k.endsWith('.ndjson.gz'));
      const keptKeys = before.filter((k) => !k.startsWith(missingHour) && !k.startsWith(prunedHour));
      expect(missingObjects.length).toBeGreaterThan(0);
      expect(prunedObjects.length).toBeGreaterThan(0);
      // A run killed after it deleted the first hour's index, before its objects.
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: indexes[0]! }));

      const counting = countingRequests(s3.client, GetObjectCommand, /^r\/streams\/orders\/t\d+\/.+\/index\.json$/);
      const policy = { storage: { ...storage, client: counting.client }, keepLast: 1, stream: 'orders', orphanGraceMs: 0 };
      const cut = await applyRetention(policy, { remainingMs: () => (counting.state.count < 1 ? 60_000 : 1_000) });
      // Before: the second hour's index was read too, with 1 s left of the 5 s reserve.
      expect(counting.state.count).toBe(1);
      expect(cut).toMatchObject({ stoppedBy: 'deadline', streamObjects: 0, left: { streamObjects: prunedObjects.length, listings: ['streams/orders/t'] } });
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(before.filter((k) => k !== indexes[0]));

      const next = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(next.stoppedBy).toBeUndefined();
      expect(next).toMatchObject({ streamObjects: prunedObjects.length, streamPruneLeftAlone: [], streamOrphans: { objects: missingObjects.length }, left: { streamObjects: 0, listings: [] } });
      // Both old hours are gone; every key at or past the kept snapshot's hours is still there.
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(keptKeys);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await db.dropDatabase();
      await s3.drop();
    }
  });
});
