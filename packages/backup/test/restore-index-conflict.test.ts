/**
 * A target whose indexes clash with the backup's is refused before any document is written
 * (`IndexConflictError`, naming the index and what differs). It used to write every document
 * and then fail creating the index (`RestoreApplyError`) — or, on FerretDB, which accepts an
 * index of an existing name with other options as a no-op, leave the target's definition in
 * place without a word. On FerretDB 1.24, with both S3 servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { IndexConflictError, mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

type Doc = { _id: number; v: string; w: number };

describe.each(S3_SERVERS)('a target with clashing indexes, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let backupId: string;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'idx' });

  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('idxsrc');
    const items = source.collection<Doc>('items');
    await items.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, v: `v${i % 10}`, w: i })));
    await items.createIndex({ v: 1 }, { name: 'by_v' });
    await items.createIndex({ w: 1 }, { name: 'by_w', unique: true });
    const result = await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run();
    if (result.status !== 'complete') throw new Error('backup did not complete');
    backupId = result.backupId;
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  const cases: Array<{ what: string; setup: (db: Db) => Promise<unknown>; index: string; says: RegExp }> = [
    { what: 'the same name on another key', setup: (db) => db.collection('items').createIndex({ w: -1 }, { name: 'by_v' }), index: 'by_v', says: /index by_v differs: key \{"w":-1\} in the target, \{"v":1\} in the backup/ },
    { what: 'the same name without unique', setup: (db) => db.collection('items').createIndex({ w: 1 }, { name: 'by_w' }), index: 'by_w', says: /index by_w differs: unique not set in the target, true in the backup/ },
    { what: 'the same key under another name', setup: (db) => db.collection('items').createIndex({ v: 1 }, { name: 'v_1' }), index: 'v_1', says: /index v_1 in the target has the key of the backup's index by_v/ },
    { what: 'a unique index the backup does not have', setup: (db) => db.collection('items').createIndex({ v: 1, w: 1 }, { name: 'vw', unique: true }), index: 'vw', says: /unique index vw \{"v":1,"w":1\} in the target is not in the backup/ },
  ];

  it.each(cases)('$what: refused before any document is written', async ({ setup, index, says }) => {
    const db = await freshDb('idxdst');
    await db.collection<Doc>('items').insertOne({ _id: 1000, v: 'mine', w: 1000 });
    await setup(db);
    const error = await restore({ backup: { storage: storage(), id: backupId }, target: mongoTarget({ db }), ifTargetNotEmpty: 'merge' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IndexConflictError);
    expect(error).toMatchObject({ code: 'RESTORE_INDEX_CONFLICT', retryable: false, problems: [{ key: 'items' }] });
    const problem = (error as IndexConflictError).problems[0]!;
    expect(problem.message).toMatch(says);
    expect(problem.message).toContain(index);
    expect(await db.collection('items').find({}).toArray()).toEqual([{ _id: 1000, v: 'mine', w: 1000 }]);
    await db.dropDatabase();
  });

  it('the same indexes, or none, restore', async () => {
    const same = await freshDb('idxsame');
    await same.collection('items').createIndex({ v: 1 }, { name: 'by_v' });
    await same.collection('items').createIndex({ w: 1 }, { name: 'by_w', unique: true });
    await same.collection('items').createIndex({ v: 1, _id: 1 }, { name: 'extra' }); // not unique: harmless
    expect(await restore({ backup: { storage: storage(), id: backupId }, target: mongoTarget({ db: same }) })).toMatchObject({ records: 50 });
    const renamed = await freshDb('idxren');
    await renamed.collection('items').createIndex({ v: 1 }, { name: 'v_1' });
    // Into another collection, the clash is gone.
    expect(await restore({ backup: { storage: storage(), id: backupId }, target: mongoTarget({ db: renamed, collectionName: (n) => `${n}_restored` }) })).toMatchObject({ records: 50 });
    await Promise.all([same.dropDatabase(), renamed.dropDatabase()]);
  });
});
