/**
 * A MongoDB scratch database a drill kept (`keepScratch`, or a drop that failed) holds the
 * drill's marker collection `steadyfn_drill_marker` with its data. A `mongoSource` of that
 * database backed the marker up as data, as it would not a restore's lock collections (nor a
 * `redisSource` a Redis drill marker): a restore of that backup wrote the marker into its target,
 * where a later drill from the first drill's storage would take the restored collections it
 * lists for its own leftovers. Now it is left out by default, like `system.*` and the restore
 * lock collections. A backup an earlier version made with the marker is restored without it
 * (counted, with a warning), and drills of it pass. On FerretDB and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup, type SnapshotSource } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** `source` as an earlier version backed it up: its collection `old_marker` as dataset `steadyfn_drill_marker`. */
function withMarkerDataset(source: SnapshotSource): SnapshotSource {
  const swap = (name: string, a: string, b: string) => (name === a ? b : name);
  return {
    ...source,
    async describe(signal) {
      const described = await source.describe(signal);
      return { ...described, datasets: described.datasets.map((d) => ({ ...d, name: swap(d.name, 'old_marker', 'steadyfn_drill_marker') })) };
    },
    read: (dataset, ...rest) => source.read({ ...dataset, name: swap(dataset.name, 'steadyfn_drill_marker', 'old_marker') }, ...rest),
  };
}

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

  it('restores a backup an earlier version made with the marker without it, and drills it', async () => {
    const kept = await freshDb('dmkept');
    const target = await freshDb('dmtarget');
    const drillScratch = await freshDb('dmdrill');
    try {
      await kept.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      await kept.collection<{ _id: string } & Record<string, unknown>>('old_marker').insertOne({ _id: 'drill', drillId: 'd0', backupId: 'b0', storage: 's3://old/x', startedAt: new Date(0).toISOString(), collections: ['orders'] });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'old' };
      const old = await snapshotBackup({ source: withMarkerDataset(mongoSource({ db: kept })), target: storage }).run();
      if (old.status !== 'complete') throw new Error('backup did not complete');
      const report = await restore({ backup: { storage, id: old.backupId }, target: mongoTarget({ db: target }) });
      expect(report.records).toBe(3);
      expect(report.warnings.join('\n')).toContain('steadyfn_drill_marker');
      const restored = (await target.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      expect(restored).toContain('orders');
      expect(restored).not.toContain('steadyfn_drill_marker');
      const drill = await verifyBackup({ backup: { storage, id: old.backupId }, level: 'drill', scratch: mongoTarget({ db: drillScratch }) });
      expect(drill.ok).toBe(true);
    } finally {
      await Promise.all([kept.dropDatabase(), target.dropDatabase(), drillScratch.dropDatabase()]);
    }
  }, 60_000);
});
