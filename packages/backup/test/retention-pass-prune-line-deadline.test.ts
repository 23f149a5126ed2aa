/**
 * A retention pass over `backups/` prunes the stream once its sweep has handled every backup:
 * it reads the manifest of its line (the oldest backup it keeps) for the start mark, then
 * deletes the hours below it (retention-pass-run.ts). That read — a manifest GET, and a GET of
 * the verification record the prune does not use — was not asked of the run's deadline budget,
 * unlike the sweep's other reads (`keptStillStand`, each id's manifest): a run at its reserve
 * still sent both just before the prune. Now the manifest read is asked like a page of
 * `backups/` (and the verification record is no longer read): the run stops before it
 * (`stoppedBy: 'deadline'`, `backups/` in `left.listings`), the pass saved at the end of its
 * sweep with nothing of the stream deleted, and the next run prunes and ends the pass.
 *
 * Two hours below a kept snapshot (outbox-fixture.ts), a second verified snapshot of the same
 * job, `keepLast: 2` (both kept). A first run whose clock falls under the reserve after one
 * manifest GET starts a pass; the second run's clock falls under it after three (the read
 * phase's last id, then both ids of the sweep). On both S3 servers (moto, gofakes3), FerretDB
 * and Redis 7.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, verifyBackup, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { closeMongo, countingRequests, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const MANIFEST = /^r\/backups\/[^/]+\/manifest\.json$/;
const VERIFICATION = /^r\/backups\/[^/]+\/verification\.json$/;

describe.each(S3_SERVERS)("a retention pass's read of its line's manifest before the stream's prune, the deadline reached just before it, on $name", (server) => {
  it('stops before the read with nothing of the stream deleted, the pass at the end of its sweep; the next run prunes', async () => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const db = await freshDb('plnsrc');
    const key = unique('pln-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const job = (name: string) => snapshotBackup({ source: mongoSource({ db, collections: ['orders'] }), target: storage, job: name, stream: 'orders' });
      const oldest = await pastHoursBelowKeptSnapshot(redis, key, db, storage, job);
      const newer = await job('a').run();
      if (newer.status !== 'complete') throw new Error(`snapshot ${newer.status}`);
      await verifyBackup({ backup: { storage, id: newer.backupId }, level: 'full' });
      const before = await listAll(s3.client, s3.bucket, 'r/streams/orders/t');
      const indexes = before.filter((k) => k.endsWith('/index.json'));
      expect(indexes.length).toBeGreaterThanOrEqual(3);
      const hourOf = (k: string) => k.slice(0, k.lastIndexOf('/') + 1);
      const oldHours = [hourOf(indexes[0]!), hourOf(indexes[1]!)];
      const oldObjects = before.filter((k) => oldHours.some((h) => k.startsWith(h)) && k.endsWith('.ndjson.gz'));
      expect(oldObjects.length).toBeGreaterThan(0);

      // A run that reads one manifest of two: a pass starts, in its read phase.
      const gets = countingRequests(s3.client, GetObjectCommand, MANIFEST);
      const policy = { storage: { ...storage, client: gets.client }, keepLast: 2, stream: 'orders' };
      const first = await applyRetention(policy, { remainingMs: () => (gets.state.count < 1 ? 60_000 : 1_000) });
      expect(first).toMatchObject({ stoppedBy: 'deadline', backupsPass: { phase: 'read', after: oldest } });

      // The next run reads the other manifest, then both again in its sweep, and reaches the prune at its reserve.
      gets.state.count = 0;
      const records = countingRequests(gets.client, GetObjectCommand, VERIFICATION);
      const second = await applyRetention({ ...policy, storage: { ...storage, client: records.client } }, { remainingMs: () => (gets.state.count < 3 ? 60_000 : 1_000) });
      // Before: the line's manifest (a fourth GET) and its verification record were read past the reserve.
      expect(gets.state.count).toBe(3);
      expect(second).toMatchObject({ stoppedBy: 'deadline', backupsPass: { phase: 'sweep', after: newer.backupId }, kept: [oldest, newer.backupId], deleted: [], streamObjects: 0, left: { streamObjects: 0, listings: ['backups/'] } });
      expect(second.backupsPass?.restarted).toBeUndefined();
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(before);

      // The run after prunes the two old hours (one line manifest read, no record) and ends the pass.
      gets.state.count = 0;
      records.state.count = 0;
      const third = await applyRetention({ ...policy, storage: { ...storage, client: records.client } }, { remainingMs: () => 60_000 });
      expect(third.stoppedBy).toBeUndefined();
      expect(third.backupsPass).toBeUndefined();
      // The kept backups' check reads their two records; the line's is not read (before: three).
      expect(records.state.count).toBe(2);
      expect(third).toMatchObject({ deleted: [], streamObjects: oldObjects.length, damaged: [], left: { streamObjects: 0, listings: [] } });
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(before.filter((k) => !oldHours.some((h) => k.startsWith(h))));
      expect(await listAll(s3.client, s3.bucket, 'r/retention/backups-pass/')).toEqual([]);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await db.dropDatabase();
      await s3.drop();
    }
  });
});
