/**
 * A drill whose scratch drop fails (FerretDB behind a proxy cut just before the drop) reports
 * it — `drill.scratch.dropError` and an error log, class and code only — instead of swallowing
 * it; the next drill from the same backup storage finds the leftovers by the first drill's
 * marker and drops them before it begins, while a drill from another storage (or into data no
 * drill marked) is still refused. On FerretDB 1.24 and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { startProxy } from '../../../test/support/proxy.js';
import { ConfigurationError, mongoSource, mongoTarget, snapshotBackup, verifyBackup, type RestoreTarget } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('a drill whose scratch drop failed', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  const storage = (prefix = 'drill') => ({ client: s3.client, bucket: s3.bucket, prefix });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    source = await freshDb('leftsrc');
    await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, v: `v${i}` })));
    for (const prefix of ['drill', 'other']) expect(await snapshotBackup({ source: mongoSource({ db: source }), target: storage(prefix) }).run()).toMatchObject({ status: 'complete' });
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  it('is reported, and the next drill from the same storage clears the leftovers by their marker', async () => {
    const scratch = await freshDb('leftscratch');
    const url = new URL(process.env.MONGODB_URI!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    const proxied = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/`, { serverSelectionTimeoutMS: 800 });
    const logged: Array<{ message: string; fields: unknown }> = [];
    const log = { info: () => undefined, warn: () => undefined, error: (message: string, fields?: unknown) => void logged.push({ message, fields }) };
    try {
      const real = mongoTarget({ db: proxied.db(scratch.databaseName) });
      // The store goes away between the drill's read-back and its drop: the drop itself fails for real.
      const failingDrop: RestoreTarget = { ...real, drop: async (manifest, signal) => { await proxy.cut(); return real.drop!(manifest, signal); } };
      const first = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: failingDrop }, { log });
      expect(first.ok).toBe(true);
      expect(first.drill!.scratch).toMatchObject({ dropped: false, dropError: expect.stringMatching(/^Mongo\w+Error/) });
      expect(first.drill!.scratch.clearedLeftoverOf).toBeUndefined();
      expect(logged).toHaveLength(1);
      expect(logged[0]!.message).toMatch(/drill scratch drop failed/);
      expect(JSON.stringify(logged[0]!.fields)).not.toContain(String(proxy.port));
      // Its data and its marker are left.
      expect(await scratch.collection('orders').countDocuments()).toBe(50);
      expect(await scratch.collection('steadyfn_drill_marker').findOne({})).toMatchObject({ drillId: first.drill!.drillId, collections: ['orders'] });

      // A drill from another storage does not take the leftovers for its own.
      const other = await verifyBackup({ backup: { storage: storage('other'), id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(ConfigurationError);
      expect(await scratch.collection('orders').countDocuments()).toBe(50);

      // The next drill from the same storage clears them first, then drills and drops.
      const second = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) });
      expect(second.drill!.scratch).toEqual({ dropped: true, clearedLeftoverOf: first.drill!.drillId });
      expect(second.drill!.datasets[0]).toMatchObject({ restoredCount: 50, ok: true });
      expect((await scratch.listCollections().toArray()).map((c) => c.name)).toEqual([]);
    } finally {
      await proxied.close();
      await scratch.dropDatabase();
    }
  });

  it('data no drill marked is still refused, and left as it is', async () => {
    const scratch = await freshDb('leftunmarked');
    try {
      await scratch.collection<{ _id: number; v: string }>('orders').insertOne({ _id: 1, v: 'live' });
      // A marker from this storage that does not list `orders` does not make it a drill's.
      await scratch.collection<{ _id: string }>('steadyfn_drill_marker').insertOne({ _id: 'drill', drillId: 'x', backupId: 'y', storage: `s3://${s3.bucket}/drill`, startedAt: new Date().toISOString(), collections: ['elsewhere'] } as never);
      const error = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: mongoTarget({ db: scratch }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(await scratch.collection('orders').find({}).toArray()).toEqual([{ _id: 1, v: 'live' }]);
    } finally {
      await scratch.dropDatabase();
    }
  });
});
