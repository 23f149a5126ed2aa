/**
 * A MongoDB scratch database a drill kept (`keepScratch`, or a drop that failed) holds the
 * drill's marker collection `steadyfn_drill_marker` with its data. A `mongoSource` of that
 * database backed the marker up as data, as it would not a restore's lock collections (nor a
 * `redisSource` a Redis drill marker): a restore of that backup wrote the marker into its target,
 * where a later drill from the first drill's storage would take the restored collections it
 * lists for its own leftovers. Now it is left out by default, like `system.*` and the restore
 * lock collections. On FerretDB and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, snapshotBackup, verifyBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('a backup of a MongoDB database a drill kept as scratch', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let scratch: Db;
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    source = await freshDb('dmsrc');
    scratch = await freshDb('dmscratch');
    await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i, v: `v${i}` })));
  });
  afterAll(async () => {
    await Promise.all([source?.dropDatabase(), scratch?.dropDatabase()]);
    await s3?.drop();
  });

  it('leaves the drill marker collection out: only the data is backed up', async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'src' };
    expect(await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run()).toMatchObject({ status: 'complete' });
    const drill = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }), keepScratch: true });
    expect(drill.ok).toBe(true);
    const kept = (await scratch.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    expect(kept).toEqual(['orders', 'steadyfn_drill_marker']);

    const copy = await snapshotBackup({ source: mongoSource({ db: scratch }), target: { ...storage, prefix: 'copy' } }).run();
    if (copy.status !== 'complete') throw new Error('backup did not complete');
    expect(copy.datasets.map((d) => d.name)).toEqual(['orders']);
    expect(copy.records).toBe(5);
  }, 60_000);
});
