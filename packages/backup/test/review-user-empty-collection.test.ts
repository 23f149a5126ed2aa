/**
 * Review (as a new user): an empty collection is in the backup (the manifest lists it, the
 * restore report counts it with 0 records), but the restore did not create it — a restored
 * database lacked a collection the source had (one without options or secondary indexes:
 * creating those created the collection as a side effect). The application's first read of it
 * then differs (`listCollections`, a `$lookup`, a `create` that expects it), and a drill could
 * not see it, as both sides count 0. Real FerretDB and moto.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('an empty collection round-trips', () => {
  it('is created by the restore, next to the collections with data', async () => {
    const bucket = await freshBucket(S3_SERVERS[0]!);
    try {
      const storage = { client: bucket.client, bucket: bucket.bucket, prefix: 'shop' };
      const source = await freshDb('src');
      await source.collection('orders').insertOne({ _id: 1, total: 5 } as never);
      await source.createCollection('refunds'); // empty, no options, only the _id index
      const run = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(run.status).toBe('complete');

      const target = await freshDb('tgt');
      const report = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      expect(report.datasets).toEqual([
        { name: 'orders', records: 1 },
        { name: 'refunds', records: 0 },
      ]);
      const names = (await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      // Nothing of steadyfn's: the restore dropped its lock's collection, and removed its marker, once it completed.
      expect(names).toEqual(['orders', 'refunds']);

      // Restoring again (idempotent) over the collection that now exists still succeeds.
      await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });
      expect((await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['orders', 'refunds']);
    } finally {
      await bucket.drop();
    }
  }, 60_000);
});
