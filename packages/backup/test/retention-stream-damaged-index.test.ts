/**
 * A damaged hourly index below every kept snapshot's mark. With `stream`, retention prunes the
 * hours no kept snapshot needs: for each it reads the hour's index and deletes the index and
 * the objects it lists (retention-prune.ts, `pruneStream`). Such an index is outside bytes; one that
 * is not JSON, or of another format version, made that read throw — so every later run with
 * `stream` failed, and nothing else (backups, other hours, orphans) was ever handled again.
 *
 * Now the run reports it (`damaged`: the key, the error's code, what was expected, the hour and
 * its object numbers; a warning in the log) and goes on: the other old hour is pruned, and the
 * damaged hour is left whole — its index and every object of it, since which objects it lists
 * is unknown (nor does the stream sweep take them for orphans). A `restoreStream` that needs
 * the hour fails with the typed error naming the index; a point-in-time restore from the kept
 * snapshot, which does not need it, still works.
 *
 * Two hours below a kept snapshot (outbox-fixture.ts), the first hour's index replaced. On both
 * S3 servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, BackupCorruptedError, mongoSource, mongoTarget, pointInTimeRestore, restoreStream, snapshotBackup, UnsupportedFormatError, type S3Target } from '../src/index.js';
import { pastHoursBelowKeptSnapshot } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const DAMAGES = [
  { kind: 'not JSON', body: '{"formatVersion":1,"objects":[', error: BackupCorruptedError, code: 'BACKUP_CORRUPTED', problem: 'not JSON' },
  { kind: 'of a newer format', body: JSON.stringify({ formatVersion: 2, objects: [] }), error: UnsupportedFormatError, code: 'BACKUP_FORMAT_UNSUPPORTED', problem: 'unknown format version' },
] as const;

describe.each(S3_SERVERS)('a damaged hourly index below the prune mark, on $name', (server) => {
  it.each(DAMAGES)('an index $kind is reported and its hour left whole; the rest is pruned, run after run; a restore needing the hour fails typed', async (damage) => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const db = await freshDb('dmgsrc');
    const key = unique('dmg-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    const targets = [await freshDb('dmgstream'), await freshDb('dmgpitr')];
    try {
      const job = (name: string) => snapshotBackup({ source: mongoSource({ db, collections: ['orders'] }), target: storage, job: name, stream: 'orders' });
      const keptId = await pastHoursBelowKeptSnapshot(redis, key, db, storage, job);
      const before = await listAll(s3.client, s3.bucket, 'r/streams/orders/t');
      const indexes = before.filter((k) => k.endsWith('/index.json'));
      expect(indexes.length).toBeGreaterThanOrEqual(3);
      const hourOf = (k: string) => k.slice(0, k.lastIndexOf('/') + 1);
      const [damagedHour, prunedHour] = [hourOf(indexes[0]!), hourOf(indexes[1]!)];
      const damagedObjects = before.filter((k) => k.startsWith(damagedHour) && k.endsWith('.ndjson.gz'));
      const prunedObjects = before.filter((k) => k.startsWith(prunedHour) && k.endsWith('.ndjson.gz'));
      expect(damagedObjects.length).toBeGreaterThan(0);
      expect(prunedObjects.length).toBeGreaterThan(0);
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: indexes[0]!, Body: damage.body }));

      const checkpoint = await readJson<{ hours: Array<{ timeline: number; hour: number; firstSeq: number; lastSeq: number }> }>(s3.client, s3.bucket, 'r/streams/orders/checkpoint.json');
      const hour = checkpoint!.hours[0]!;
      const expected = {
        key: indexes[0]!.slice('r/'.length),
        what: 'hourly index',
        code: damage.code,
        expected: expect.stringContaining('format version 1'),
        problem: expect.stringContaining(damage.problem),
        stream: 'orders',
        timeline: 1,
        hour: new Date(hour.hour).toISOString(),
        firstSeq: hour.firstSeq,
        lastSeq: hour.lastSeq,
        leftAlone: 'prune of the hour',
      };
      expect(hour.lastSeq - hour.firstSeq + 1).toBe(damagedObjects.length);

      const policy = { storage, keepLast: 1, stream: 'orders', orphanGraceMs: 0 };
      // Before: every one of these runs rejected with the index's BackupCorruptedError / UnsupportedFormatError.
      const planned = await applyRetention({ ...policy, dryRun: true });
      expect(planned).toMatchObject({ streamObjects: prunedObjects.length, damaged: [expected] });

      const warnings: Array<{ message: string; fields: unknown }> = [];
      const log = { info: () => undefined, error: () => undefined, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }) };
      const first = await applyRetention(policy, { log });
      expect(first.stoppedBy).toBeUndefined();
      expect(first).toMatchObject({ kept: [keptId], streamObjects: prunedObjects.length, damaged: [expected], streamPruneLeftAlone: [], left: { streamObjects: 0, listings: [] } });
      // The stream sweep does not take the damaged hour's objects for orphans either.
      expect(first.streamOrphans).toMatchObject({ objects: 0, leftAlone: [{ stream: 'orders', reason: 'index unreadable', key: expected.key, code: damage.code }] });
      expect(warnings).toEqual([{ message: 'retention: damaged objects left alone', fields: { damaged: [{ key: expected.key, code: damage.code, problem: expect.stringContaining(damage.problem), leftAlone: 'prune of the hour' }] } }]);
      // The pruned hour is gone; the damaged hour is whole (its index and every object), the kept hours untouched.
      const after = before.filter((k) => !k.startsWith(prunedHour));
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(after);

      // Every later run says so again, deletes nothing of it, and does not fail.
      const second = await applyRetention(policy);
      expect(second.stoppedBy).toBeUndefined();
      expect(second).toMatchObject({ streamObjects: 0, damaged: [expected], streamOrphans: { objects: 0 } });
      expect(await listAll(s3.client, s3.bucket, 'r/streams/orders/t')).toEqual(after);

      // A restore that needs the hour fails with the typed error naming the index.
      const error = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: targets[0]! }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(damage.error);
      expect(error).toMatchObject({ code: damage.code, problems: [{ key: indexes[0] }] });
      expect(await targets[0]!.listCollections().toArray()).toEqual([]);
      // One from the kept snapshot does not need it.
      const manifest = await readJson<{ end: { time: string } }>(s3.client, s3.bucket, `r/backups/${keptId}/manifest.json`);
      const at = new Date(Date.parse(manifest!.end.time) + 1).toISOString();
      const restored = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: targets[1]! }) });
      expect(restored).toMatchObject({ snapshot: { backupId: keptId }, timeline: 1 });
      expect(await targets[1]!.collection('orders').countDocuments()).toBe(8);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await db.dropDatabase();
      for (const t of targets) await t.dropDatabase();
      await s3.drop();
    }
  });
});
