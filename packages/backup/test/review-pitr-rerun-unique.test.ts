/**
 * Review (restore side): a point-in-time restore killed after its replay had written part of
 * the streamed changes, run again into the same target — which the README promises works
 * ("restores are idempotent: run again") — when the collection has a unique index. The second
 * run restores the snapshot first: a snapshot document whose unique value a later change moved
 * to another document (A's email changed from x to y, then B created with x) meets the value B
 * holds. And two runs to the same `at` at once (one at a time: the target's restore lock). On FerretDB (:27117), which keeps unique
 * indexes; both S3 servers.
 */
import { EJSON } from 'bson';
import type { Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, pointInTimeRestore, restoreStatus, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

let n = 0;
const envelope = (id: number, seq: number, after: Record<string, unknown>): OutboxEnvelope => ({
  id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  type: 'UserChanged',
  aggregateType: 'users',
  aggregateId: String(id),
  seq,
  payload: {},
  occurredAt: new Date().toISOString(),
  change: { op: seq === 1 ? 'insert' : 'update', after: EJSON.serialize(after, { relaxed: false }) },
});
const dump = async (db: Db): Promise<string[]> => (await db.collection('users').find({}).toArray()).map((d) => EJSON.stringify(d, { relaxed: false })).sort();

describe.each(S3_SERVERS)('a point-in-time restore run again into its target, with a unique index, on $name', (server) => {
  it('completes and leaves the state at `at` (a unique value moved between documents after the snapshot)', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('prusrc');
    const target = await freshDb('prudst');
    const twice = await freshDb('prutwo');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pru' };
      const users = source.collection<{ _id: number; email: string }>('users');
      await users.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      const stream = streamBackup({ name: 'users', target: storage });
      const docs = [1, 2, 3].map((id) => ({ _id: id, email: `u${id}@x` }));
      await users.insertMany(docs.map((d) => ({ ...d })));
      await stream.append(docs.map((d) => envelope(d._id, 1, d)));
      const snap = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, stream: 'users' }).run();
      if (snap.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: snap.backupId }, level: 'full' });
      await new Promise((r) => setTimeout(r, 5));
      // After the snapshot: 1's email moves to a new document 4 (1 takes another).
      await users.updateOne({ _id: 1 }, { $set: { email: 'renamed@x' } });
      await users.insertOne({ _id: 4, email: 'u1@x' });
      const changes = [envelope(1, 2, { _id: 1, email: 'renamed@x' }), envelope(4, 1, { _id: 4, email: 'u1@x' })];
      await stream.append([changes[0]!]);
      await stream.append([changes[1]!]);
      const at = changes[1]!.occurredAt;

      const first = await pointInTimeRestore({ storage, stream: 'users', at, target: mongoTarget({ db: target }) });
      expect(first.changes).toBe(2);
      expect(await dump(target)).toEqual(await dump(source));
      // The first run's end was never seen (the process was killed as it returned): run it again.
      const again = await pointInTimeRestore({ storage, stream: 'users', at, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' }).catch((e: unknown) => e);
      expect(again).not.toBeInstanceOf(Error);
      expect(await dump(target)).toEqual(await dump(source));

      // Two runs to the same `at` at once into a new target: they never write at the same time (the
      // target's restore lock); one that meets the lock held is refused, nothing written, and
      // completes when run again. The state is the one at `at`.
      const both = await Promise.allSettled([0, 1].map(() => pointInTimeRestore({ storage, stream: 'users', at, target: mongoTarget({ db: twice }), ifTargetNotEmpty: 'merge' })));
      expect(both.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      for (const r of both) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'RESTORE_TARGET_BUSY' });
      if (both.some((r) => r.status === 'rejected')) await pointInTimeRestore({ storage, stream: 'users', at, target: mongoTarget({ db: twice }), ifTargetNotEmpty: 'merge' });
      expect(await dump(twice)).toEqual(await dump(source));
      expect(await restoreStatus(mongoTarget({ db: twice }))).toEqual({ complete: true });
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), twice.dropDatabase(), s3.drop()]);
    }
  });
});
