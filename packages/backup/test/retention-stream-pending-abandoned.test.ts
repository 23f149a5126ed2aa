/**
 * What the README says of a job abandoned while its checkpoint says `streamPending` (its
 * snapshot stopped before it read the stream's position, and the job is not run again): it
 * pauses the stream's whole prune — each retention run with that `stream` reports `snapshot
 * starting` and prunes nothing of it — until the checkpoint has shown no sign of its job for
 * `abandonedCheckpointMs` and a run retires it; that run still prunes nothing (it read the holds
 * before it retired the checkpoint), the next one prunes. Retention's clock (`now`) is moved past
 * `abandonedCheckpointMs` (the default, 7 days) instead of waiting.
 *
 * The snapshot is left pending as in retention-stream-running.test.ts: its read of the stream's
 * position (one GET) is made to fail by a wrapper around the real client. The stream's first
 * hours (events two and three hours back) lie below the kept snapshot's start mark. On both S3
 * servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, redisClient, S3_SERVERS, unique, type Sender } from './support.js';

afterAll(closeMongo);

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

describe.each(S3_SERVERS)('retention with a stream while a job abandoned with streamPending, on $name', (server) => {
  it('pauses the whole prune (snapshot starting) until the checkpoint is retired after abandonedCheckpointMs; the run after that prunes', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('pabsrc');
    const redis = await redisClient();
    const key = unique('pab-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const job = (name: string, client: Sender = s3.client) => snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: { ...storage, client }, stream: 'orders', job: name });
      // Two past hours below the start mark of the one snapshot retention keeps.
      const keptId = await pastHoursBelowKeptSnapshot(redis, key, source, storage, job);

      // Job b's snapshot fails at its read of the stream's position, and b is never run again.
      let failed = false;
      const failing: Sender = {
        async send(command: unknown, options?: unknown) {
          if (!failed && command instanceof GetObjectCommand && command.input.Key === 'r/streams/orders/checkpoint.json') {
            failed = true;
            throw Object.assign(new Error('injected: connection reset'), { name: 'TimeoutError' });
          }
          return s3.client.send(command as never, options as never);
        },
      };
      await expect(job('b', failing).run()).rejects.toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
      const pending = await readJson<{ backupId: string; streamPending?: string }>(s3.client, s3.bucket, 'r/jobs/b/checkpoint.json');
      expect(pending).toMatchObject({ streamPending: 'orders' });
      const startingB = { stream: 'orders', reason: 'snapshot starting', job: 'b', backupId: pending!.backupId };
      const objects = async () => (await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).filter((k) => k.endsWith('.ndjson.gz')).length;
      const before = await objects();
      const policy = { storage, keepLast: 1, stream: 'orders' };

      // Within abandonedCheckpointMs (here: a day before it ends): paused, the checkpoint kept.
      for (const ahead of [0, WEEK - 24 * HOUR]) {
        const paused = await applyRetention({ ...policy, now: () => Date.now() + ahead });
        expect(paused).toMatchObject({ kept: [keptId], streamObjects: 0, streamPruneLeftAlone: [startingB] });
        expect(paused.orphans.abandoned).toEqual([]);
        expect(paused.stoppedBy).toBeUndefined();
      }
      expect(await objects()).toBe(before);

      // Past it: the run retires the checkpoint, and still prunes nothing (it read the holds first).
      const retiring = await applyRetention({ ...policy, now: () => Date.now() + WEEK + 60_000 });
      expect(retiring).toMatchObject({ streamObjects: 0, streamPruneLeftAlone: [startingB] });
      expect(retiring.orphans.abandoned).toEqual([{ job: 'b', backupId: pending!.backupId }]);
      expect(await readJson(s3.client, s3.bucket, 'r/jobs/b/checkpoint.json')).toBeUndefined();
      expect(await objects()).toBe(before);

      // The next run prunes.
      const next = await applyRetention(policy);
      expect(next).toMatchObject({ kept: [keptId], streamPruneLeftAlone: [] });
      expect(next.streamObjects).toBeGreaterThan(0);
      expect(before - (await objects())).toBe(next.streamObjects);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  });
});
