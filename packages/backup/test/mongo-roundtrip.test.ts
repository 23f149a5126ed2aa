/**
 * Snapshot of FerretDB collections to S3 and restore into another database gives equal data,
 * on both S3 servers (moto and gofakes3): types survive (canonical EJSON), indexes are
 * recreated after the data, counts and content hashes match.
 */
import { Binary, Long, ObjectId, Timestamp, type Db } from 'mongodb';
import { EJSON } from 'bson';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

afterAll(closeMongo);

async function sorted(db: Db, name: string): Promise<string[]> {
  const docs = await db.collection(name).find({}).toArray();
  return docs.map((d) => EJSON.stringify(d, { relaxed: false })).sort();
}

describe.each(S3_SERVERS)('MongoDB snapshot and restore on $name', (server) => {
  it('restores documents of every type FerretDB stores, and the indexes', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('src');
    const target = await freshDb('dst');
    try {
      const docs = [
        { _id: 1, n: 1.5, s: 'text', d: new Date(1_700_000_000_000), l: Long.fromString('9007199254740993'), b: new Binary(Buffer.from([0, 1, 255]), 0), u: new Binary(Buffer.alloc(16, 7), 4), nested: { a: [1, { b: 2 }] } },
        { _id: 'two', r: /ab+c/i, t: new Timestamp({ t: 5, i: 1 }), nil: null, flag: true, arr: [] },
        { _id: new ObjectId(), emptyKey: { '': 1 } },
        { _id: { compound: 1 }, x: 'object id' },
      ];
      await source.collection<Doc>('things').insertMany(docs as never[]);
      await source.collection('things').createIndex({ s: 1 }, { name: 's_1', unique: true, sparse: true });
      await source.collection<Doc>('many').insertMany(Array.from({ length: 2500 }, (_, i) => ({ _id: i, v: `value-${i}` })));

      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 300 }), target: { client: s3.client, bucket: s3.bucket, prefix: 'shop' } });
      const result = await job.run();
      expect(result.status).toBe('complete');
      if (result.status !== 'complete') return;
      expect(result.datasets).toEqual([
        { name: 'many', count: 2500, segments: 1 },
        { name: 'things', count: 4, segments: 1 },
      ]);

      const report = await restore({ backup: { storage: { client: s3.client, bucket: s3.bucket, prefix: "shop" }, id: "latest" }, target: mongoTarget({ db: target }) });
      expect(report.backupId).toBe(result.backupId);
      expect(report.records).toBe(2504);
      expect(await sorted(target, 'things')).toEqual(await sorted(source, 'things'));
      expect(await sorted(target, 'many')).toEqual(await sorted(source, 'many'));
      const indexes = (await target.collection('things').indexes()).map((i) => ({ name: i.name, key: i.key, unique: i.unique ?? false }));
      expect(indexes).toContainEqual({ name: 's_1', key: { s: 1 }, unique: true });

      // Restoring again is idempotent (upserts by _id).
      await restore({ backup: { storage: { client: s3.client, bucket: s3.bucket, prefix: 'shop' }, id: result.backupId }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });
      expect(await target.collection('many').countDocuments()).toBe(2500);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
