/**
 * Review rvb (MEDIUM): `mongoSource` filtered out `listCollections` entries of `type: 'view'` and
 * nothing said so: a backup completed and verified, and after a restore or a drill the views
 * were missing (mongodump, since 3.4, saves each view's definition and mongorestore recreates
 * it). And `collections: ['activeUsers']` naming a view failed with "it has no \"activeUsers\"".
 * Now each view's definition is saved in the manifest's `views` (pipeline keys in their order,
 * MongoDB TOOLS-3411) and recreated by a restore after the collections; each view is a
 * `MONGODB_VIEW_DEFINITION_SAVED` warning line of the manifest and the run (logged once, as a
 * code and a count), repeated by every restore and drill (an earlier version's restore, which
 * drops `views`, repeats it too); a view in `collections` is refused as a view.
 *
 * FerretDB 1.24 cannot create views (`create: support for field "viewOn" … is not implemented
 * yet`): the source's `Db` is the real FerretDB one behind a Proxy whose `listCollections` adds
 * the entry MongoDB documents for a view (listCollections command reference, Output:
 * https://www.mongodb.com/docs/manual/reference/command/listCollections/ — `type: "view"`,
 * `options.viewOn`, `options.pipeline`, `info.readOnly: true`). Everything else is real FerretDB
 * and moto. The recreation itself needs a server that creates views: a real `mongod` at
 * `MONGODB_REPLSET_URI`, skipped (with the reason in its title) when it is unset — never faked.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { EJSON } from 'bson';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, restore, RestoreUnsupportedError, snapshotBackup, verifyBackup } from '../src/index.js';
import type { Manifest } from '../src/format/manifest.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

// Keys deliberately out of alphabetical order: a view's `$sort` means its keys' order.
const PIPELINE = [{ $match: { active: true } }, { $sort: { name: 1, age: -1 } }, { $project: { name: 1, active: 1 } }];
const VIEW = { name: 'activeUsers', type: 'view', options: { viewOn: 'users', pipeline: PIPELINE }, info: { readOnly: true } };

/** `db` whose `listCollections` also lists VIEW (honouring a `name` filter), as a MongoDB server holding it would. */
function withView(db: Db): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'listCollections') {
        return (filter: Record<string, unknown> = {}, options?: Record<string, unknown>) => {
          const cursor = target.listCollections(filter, options as never);
          return { toArray: async () => [...(await cursor.toArray()), ...(filter.name === undefined || filter.name === VIEW.name ? [VIEW] : [])] };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

type Line = { message: string; fields?: Record<string, unknown> };
const viewLine = (w: string): boolean => w.startsWith('MONGODB_VIEW_DEFINITION_SAVED: view "activeUsers" on "users"');

describe('a MongoDB view in the source database', () => {
  it('is saved as its definition, with a MONGODB_VIEW_DEFINITION_SAVED warning in the manifest, the run, its log, the restore and the drill', async () => {
    const bucket = await freshBucket(S3_SERVERS[0]!);
    try {
      const storage = { client: bucket.client, bucket: bucket.bucket, prefix: 'views' };
      const source = await freshDb('src');
      await source.collection('users').insertMany([{ _id: 1, active: true }, { _id: 2, active: false }] as never[]);
      const lines: Line[] = [];
      const note = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, ...(fields ? { fields } : {}) });
      const run = await snapshotBackup({ source: mongoSource({ db: withView(source) }), target: storage }).run({ log: { info: note, warn: note, error: note } });
      if (run.status !== 'complete') throw new Error('snapshot did not complete');
      expect(run.datasets.map((d) => d.name)).toEqual(['users']);
      expect(run.warnings.filter(viewLine)).toHaveLength(1);

      const manifest = (await readJson<Manifest>(bucket.client, bucket.bucket, run.manifestKey))!;
      expect(manifest.warnings.filter(viewLine)).toHaveLength(1);
      expect(manifest.views).toEqual([{ name: 'activeUsers', viewOn: 'users', pipeline: expect.any(String) }]);
      const pipeline = EJSON.parse(manifest.views![0]!.pipeline, { relaxed: true }) as Array<Record<string, Record<string, unknown>>>;
      expect(pipeline).toEqual(PIPELINE);
      expect(Object.keys(pipeline[1]!.$sort!)).toEqual(['name', 'age']);
      expect(Object.keys(pipeline[2]!.$project!)).toEqual(['name', 'active']);
      // Logged once, as a code and a count: never the view's name (nor its pipeline).
      const logged = lines.filter((l) => l.message === 'snapshot backup warnings');
      expect(logged).toHaveLength(1);
      expect(logged[0]!.fields).toMatchObject({ backupId: run.backupId, warnings: 1, codes: [{ code: 'MONGODB_VIEW_DEFINITION_SAVED', count: 1 }] });
      expect(JSON.stringify(lines)).not.toContain('activeUsers');

      // FerretDB cannot create views: refused before anything is written, as its other unsupported metadata…
      const refusedDb = await freshDb('tgt');
      const refused = await restore({ backup: { storage, id: run.backupId }, target: mongoTarget({ db: refusedDb }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(RestoreUnsupportedError);
      expect((refused as RestoreUnsupportedError).problems).toEqual([{ key: 'activeUsers', message: 'view (FerretDB cannot create views)' }]);
      expect(await refusedDb.collection('users').countDocuments()).toBe(0);
      // …or skipped with unsupportedMetadata: 'skip', said in the warnings next to the backup's own line.
      const report = await restore({ backup: { storage, id: run.backupId }, target: mongoTarget({ db: await freshDb('tgt'), unsupportedMetadata: 'skip' }) });
      expect(report.warnings.filter(viewLine)).toHaveLength(1);
      expect(report.warnings).toContain('skipped on FerretDB: activeUsers: view (FerretDB cannot create views)');

      const verified = await verifyBackup({ backup: { storage, id: run.backupId }, level: 'drill', scratch: mongoTarget({ db: await freshDb('drill'), unsupportedMetadata: 'skip' }) });
      expect(verified.drill?.warnings.filter(viewLine)).toHaveLength(1);
    } finally {
      await bucket.drop();
    }
  }, 90_000);

  it('named in collections is refused with ConfigurationError saying it is a view, nothing written', async () => {
    const bucket = await freshBucket(S3_SERVERS[0]!);
    try {
      const source = await freshDb('src');
      await source.collection('users').insertOne({ _id: 1, active: true } as never);
      const job = snapshotBackup({ source: mongoSource({ db: withView(source), collections: ['users', 'activeUsers'] }), target: { client: bucket.client, bucket: bucket.bucket, prefix: 'views' } });
      const error = await job.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigurationError).field).toBe('collections');
      expect((error as Error).message).toContain('not views');
      expect((error as Error).message).toContain('"activeUsers" is a view on "users"');
      expect((error as Error).message).not.toContain('has no');
      expect((await listAll(bucket.client, bucket.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual([]);
    } finally {
      await bucket.drop();
    }
  }, 60_000);

  it('is not warned about when collections lists what to back up', async () => {
    const bucket = await freshBucket(S3_SERVERS[0]!);
    try {
      const source = await freshDb('src');
      await source.collection('users').insertOne({ _id: 1, active: true } as never);
      const run = await snapshotBackup({ source: mongoSource({ db: withView(source), collections: ['users'] }), target: { client: bucket.client, bucket: bucket.bucket, prefix: 'views' } }).run();
      if (run.status !== 'complete') throw new Error('snapshot did not complete');
      expect(run.warnings).toEqual([]);
    } finally {
      await bucket.drop();
    }
  }, 60_000);

  it.skipIf(!process.env.MONGODB_REPLSET_URI)('is recreated by a restore and dropped by a drill on a real mongod (needs MONGODB_REPLSET_URI; FerretDB cannot create views)', async () => {
    const mongo = new MongoClient(process.env.MONGODB_REPLSET_URI!);
    const bucket = await freshBucket(S3_SERVERS[0]!);
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const [source, target, scratch] = ['src', 'tgt', 'drill'].map((n) => mongo.db(`views_${n}_${suffix}`)) as [Db, Db, Db];
    try {
      const storage = { client: bucket.client, bucket: bucket.bucket, prefix: 'views' };
      await source.collection('users').insertMany([{ _id: 1, name: 'b', age: 3, active: true }, { _id: 2, name: 'a', age: 4, active: false }, { _id: 3, name: 'a', age: 5, active: true }] as never[]);
      await source.createCollection('activeUsers', { viewOn: 'users', pipeline: PIPELINE });
      const run = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (run.status !== 'complete') throw new Error('snapshot did not complete');
      await restore({ backup: { storage, id: run.backupId }, target: mongoTarget({ db: target }) });
      const [listed] = await target.listCollections({ name: 'activeUsers' }).toArray();
      expect(listed).toMatchObject({ type: 'view', options: { viewOn: 'users', pipeline: PIPELINE } });
      expect(await target.collection('activeUsers').find({}).toArray()).toEqual(await source.collection('activeUsers').find({}).toArray());
      // Run again (idempotent): the view there is left as it is.
      await restore({ backup: { storage, id: run.backupId }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });

      const verified = await verifyBackup({ backup: { storage, id: run.backupId }, level: 'drill', scratch: mongoTarget({ db: scratch }) });
      expect(verified.drill?.ok).toBe(true);
      expect(await scratch.listCollections({}, { nameOnly: true }).toArray()).toEqual([]);
    } finally {
      for (const db of [source, target, scratch]) await db.dropDatabase();
      await mongo.close();
      await bucket.drop();
    }
  }, 90_000);
});
