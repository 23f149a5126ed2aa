/**
 * Review (try-to-break) finding on point-in-time restore of a collection whose `_id`s are not
 * strings — MongoDB's default ObjectId, or numbers. An outbox envelope's `aggregateId` is a
 * string (the hex of the ObjectId), while its `change.after` / `change.before` images, given
 * as Extended JSON, carry the document's real `_id`. The replay found documents by
 * `aggregateId` and wrote them with it as `_id`: an update of a snapshot document was written
 * as a second document with a string `_id` (on MongoDB; FerretDB refused it as a duplicate,
 * a `RestoreApplyError` after the snapshot was written, on every retry), and a delete removed
 * nothing. The image's `_id` must decide which document a change is.
 */
import { EJSON } from 'bson';
import { ObjectId, type Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, pointInTimeRestore, restoreStream, snapshotBackup, streamBackup, verifyBackup, type OutboxEnvelope } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

let n = 0;
const envelope = (aggregateId: string, seq: number, change: OutboxEnvelope['change']): OutboxEnvelope => ({
  id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  type: 'OrderChanged',
  aggregateType: 'orders',
  aggregateId,
  seq,
  payload: {},
  occurredAt: new Date().toISOString(),
  ...(change ? { change } : {}),
});
const image = (doc: Record<string, unknown>): Record<string, unknown> => EJSON.serialize(doc, { relaxed: false });
const dump = async (db: Db): Promise<string[]> => (await db.collection('orders').find({}).toArray()).map((d) => EJSON.stringify(d, { relaxed: false })).sort();

describe.each(S3_SERVERS)('point-in-time restore of documents whose _id is not a string, on $name', (server) => {
  it('updates and deletes the snapshot’s documents by the image’s _id (ObjectId, number), never adding one keyed by aggregateId', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('pitridsrc');
    const target = await freshDb('pitriddst');
    const alone = await freshDb('pitridstr');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pitr' };
      // Documents with _ids of any type.
      const orders = source.collection<{ _id: any; [field: string]: any }>('orders');
      const a = new ObjectId();
      const b = new ObjectId();
      const created = [
        { _id: a, total: 1 },
        { _id: b, total: 1 },
        { _id: 42, total: 1 },
      ];
      await orders.insertMany(created.map((d) => ({ ...d })));
      const stream = streamBackup({ name: 'orders', target: storage });
      await stream.append(created.map((d) => envelope(String(d._id instanceof ObjectId ? d._id.toHexString() : d._id), 1, { op: 'insert', after: image(d) })));
      const snap = await snapshotBackup({ source: mongoSource({ db: source }), target: storage, stream: 'orders' }).run();
      if (snap.status !== 'complete') throw new Error('snapshot did not complete');
      await verifyBackup({ backup: { storage, id: snap.backupId }, level: 'full' });

      // After the snapshot: a updated, b deleted, 42 updated, c inserted.
      const c = new ObjectId();
      await orders.updateOne({ _id: a } as never, { $set: { total: 2 } });
      await orders.deleteOne({ _id: b } as never);
      await orders.updateOne({ _id: 42 } as never, { $set: { total: 2 } });
      await orders.insertOne({ _id: c, total: 1 });
      await new Promise((r) => setTimeout(r, 5));
      const changes = [
        envelope(a.toHexString(), 2, { op: 'update', before: image({ _id: a, total: 1 }), after: image({ _id: a, total: 2 }) }),
        envelope(b.toHexString(), 2, { op: 'delete', before: image({ _id: b, total: 1 }) }),
        envelope('42', 2, { op: 'update', after: image({ _id: 42, total: 2 }) }),
        envelope(c.toHexString(), 1, { op: 'insert', after: image({ _id: c, total: 1 }) }),
      ];
      await stream.append(changes);

      const report = await pointInTimeRestore({ storage, stream: 'orders', at: changes.at(-1)!.occurredAt, target: mongoTarget({ db: target }) });
      expect(report.changes).toBe(4);
      expect(await dump(target)).toEqual(await dump(source));

      // From the stream alone too.
      await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: alone }) });
      expect(await dump(alone)).toEqual(await dump(source));
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), alone.dropDatabase(), s3.drop()]);
    }
  });
});
