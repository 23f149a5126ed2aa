/**
 * Review finding: `mongoWatermarkSource` named a document's version `<_id>@<watermark ms>`, so
 * a second write that changed the document but left its watermark (two writes in one
 * millisecond, a coarse clock) was taken for the archived one and dropped: the restore
 * returned the older content. The version now also holds a hash of the content: changed
 * content is archived, the same content read again is still dropped, and a checkpoint written
 * with the old versions still loads. FerretDB, moto.
 */
import { EJSON } from 'bson';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoTarget, mongoWatermarkSource, restoreStream, streamBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

type Doc = { _id: number; v: number; updatedAt: Date };

describe('watermark source: a second version at the same watermark (moto)', () => {
  it('is archived and restored; the same content re-read is not archived again', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const db = await freshDb('wmsame');
    const restored = await freshDb('wmsamer');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'wmsame' };
    const T = new Date(Date.parse('2026-01-01T10:00:00Z'));
    let clock = T.getTime() + 10_000;
    try {
      const items = db.collection<Doc>('items');
      await items.insertOne({ _id: 1, v: 1, updatedAt: T });
      const job = streamBackup({ name: 'wm', source: mongoWatermarkSource({ db, collection: 'items', lagMs: 5_000, overlapMs: 30_000, now: () => clock }), target: storage });
      expect((await job.run()).records).toBe(1);
      clock += 1_000;
      expect((await job.run()).records).toBe(0); // the same content, re-read inside the overlap
      await items.updateOne({ _id: 1 }, { $set: { v: 2 } }); // the watermark is left at T
      clock += 1_000;
      expect((await job.run()).records).toBe(1);
      clock += 1_000;
      expect((await job.run()).records).toBe(0);
      await restoreStream({ storage, stream: 'wm', target: mongoTarget({ db: restored }) });
      const back = await restored.collection('items').find({}).toArray();
      expect(back.map((d) => EJSON.stringify(d))).toEqual([EJSON.stringify({ _id: 1, v: 2, updatedAt: T })]);
    } finally {
      await Promise.all([db.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  }, 60_000);

  it('loads a checkpoint state written with versions without a content hash', async () => {
    const db = await freshDb('wmlegacy');
    const T = new Date(Date.parse('2026-01-01T10:00:00Z'));
    try {
      await db.collection<Doc>('items').insertOne({ _id: 1, v: 2, updatedAt: T });
      const source = mongoWatermarkSource({ db, collection: 'items', lagMs: 5_000, overlapMs: 30_000, now: () => T.getTime() + 10_000 });
      const legacy = { seen: ['{"$numberInt":"1"}@' + T.getTime()] };
      const batch = await source.pull({ position: `${String(T.getTime()).padStart(15, '0')}|{"$numberInt":"1"}`, state: legacy, lastRunAt: undefined }, 100);
      // The old entry no longer matches: the document is archived again (once), never lost.
      expect(batch.records.map((r) => JSON.parse(r.doc!).v)).toEqual([{ $numberInt: '2' }]);
      const state = batch.state as { seen: string[] };
      expect(state.seen).toHaveLength(2);
      const again = await source.pull({ position: batch.records[0]!.position, state, lastRunAt: undefined }, 100);
      expect(again.records).toEqual([]);
    } finally {
      await db.dropDatabase();
    }
  }, 60_000);
});
