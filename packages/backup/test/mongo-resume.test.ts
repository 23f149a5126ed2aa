/**
 * Resuming a MongoDB snapshot across `_id` type boundaries, on real FerretDB: a collection
 * whose `_id`s mix every type FerretDB stores as an `_id` (numbers of three BSON types,
 * strings, objects, binary, ObjectIds, booleans, dates, timestamps; a regex cannot be an
 * `_id`) is read from the resume point of every record in turn, and must yield exactly the
 * records after it, in the order a full read gives (BSON order across types). Then a whole
 * snapshot of such a collection, cut by the deadline after every part, resumes to a backup
 * equal to the source.
 */
import { Binary, Double, Int32, Long, ObjectId, Timestamp, type Db } from 'mongodb';
import { EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupCorruptedError, mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import type { SnapshotRecord } from '../src/sources/types.js';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { closeMongo, deadlineAfter, freshBucket, freshDb, noise, S3_SERVERS } from './support.js';

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

afterAll(closeMongo);

/** `_id`s of every type a resume must cross, several per type, inserted shuffled. */
function mixedIds(): unknown[] {
  // No null: the driver gives a document whose _id is null a new ObjectId.
  return [
    new Int32(-5),
    new Double(-2.5),
    new Int32(0),
    Long.fromNumber(3),
    new Double(3.5),
    new Int32(1_000_000),
    '',
    'Zeta', // strings compare by UTF-8 bytes: 'Z' < 'a'
    'a',
    'ab',
    'b',
    { a: 1 },
    { a: 2 },
    { b: 0 },
    new Binary(Buffer.from([1]), 0),
    new Binary(Buffer.from([1, 2]), 0),
    new ObjectId('000000000000000000000001'),
    new ObjectId('65a1b2c3d4e5f60718293a4b'),
    new ObjectId('ffffffffffffffffffffffff'),
    false,
    true,
    // Not new Date(0): FerretDB 1.24 refuses it as a duplicate of the number 0 (a deviation from MongoDB).
    new Date(1_000_000_000_000),
    new Date(1_700_000_000_000),
    new Timestamp({ t: 1, i: 1 }),
    new Timestamp({ t: 2, i: 0 }),
  ];
}

async function readAll(db: Db, resume?: unknown): Promise<SnapshotRecord[]> {
  const source = mongoSource({ db, collections: ['mixed'], batchSize: 4 });
  const [dataset] = (await source.describe()).datasets;
  const out: SnapshotRecord[] = [];
  for await (const record of source.read(dataset!, resume)) out.push(record);
  return out;
}

describe('MongoDB resume across _id types (FerretDB)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb('mixed');
    const ids = mixedIds();
    // Insert in a scrambled order: the order must come from the read, not the insert.
    const order = ids.map((_, i) => (i * 11) % ids.length);
    await db.collection<Doc>('mixed').insertMany(order.map((i) => ({ _id: ids[i], n: i })));
  });
  afterAll(() => db.dropDatabase());

  it('reads every type, in BSON order', async () => {
    const all = await readAll(db);
    expect(all).toHaveLength(mixedIds().length);
    // BSON comparison order by type: numbers, strings, objects, binary, ObjectId, booleans, dates, timestamps.
    expect(all.map((r) => (EJSON.parse(r.line, { relaxed: true }) as { n: number }).n)).toEqual(mixedIds().map((_, i) => i));
  });

  it('from the resume point of every record, yields exactly the records after it', async () => {
    const all = await readAll(db);
    for (let i = 0; i < all.length; i++) {
      const rest = await readAll(db, all[i]!.resume);
      expect({ after: all[i]!.key, keys: rest.map((r) => r.key) }).toEqual({ after: all[i]!.key, keys: all.slice(i + 1).map((r) => r.key) });
    }
  });

  it('refuses a resume point that is not its own (a damaged checkpoint) with a typed error', async () => {
    for (const bad of [{ bracket: 99, lastId: '1' }, { bracket: 1, lastId: 'not ejson' }, 'text', { lastId: '{"$numberInt":"1"}' }]) {
      await expect(readAll(db, bad)).rejects.toBeInstanceOf(BackupCorruptedError);
    }
  });
});

describe.each(S3_SERVERS)('a snapshot of mixed _ids cut by the deadline after every part, on $name', (server) => {
  it('resumes to a backup equal to the source', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('mixedsrc');
    const target = await freshDb('mixeddst');
    try {
      // ~6 MiB of incompressible documents per type group: every group fills at least one part, so
      // the deadline falls inside groups and next to their boundaries.
      const groups: Array<(i: number) => unknown> = [(i) => i, (i) => `s${String(i).padStart(6, '0')}`, (i) => new ObjectId(i.toString(16).padStart(24, '0')), (i) => new Date(i * 1000)];
      for (const [g, idOf] of groups.entries()) {
        await source.collection<Doc>('blobs').insertMany(Array.from({ length: 1500 }, (_, i) => ({ _id: idOf(i + g * 10_000), blob: noise(4096) })));
      }
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'mixed' };
      // Each run stops after its first part: the next one resumes from that part's last _id.
      const cut = deadlineAfter(s3.client, UploadPartCommand, 1);
      const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 200 }), target: { ...storage, client: cut.client }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024 });
      let runs = 0;
      let result: Awaited<ReturnType<typeof job.run>>;
      do {
        result = await job.run(cut.ctx());
        runs++;
      } while (result.status === 'checkpointed' && runs < 40);
      expect(result.status).toBe('complete');
      expect(runs).toBeGreaterThan(3);
      if (result.status !== 'complete') return;
      expect(result.records).toBe(6000);
      await restore({ backup: { storage, id: result.backupId }, target: mongoTarget({ db: target }) });
      const dump = async (d: Db) => (await d.collection('blobs').find({}).sort({ _id: 1 }).toArray()).map((doc) => EJSON.stringify(doc, { relaxed: false }));
      expect(await dump(target)).toEqual(await dump(source));
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  }, 300_000);
});
