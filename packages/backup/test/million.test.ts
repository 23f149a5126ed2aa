/**
 * Backup then restore of many small documents on FerretDB (moto as S3) gives equal data: the
 * restored collection has the count and the order-independent content hash the backup recorded
 * from the source, and a sample of documents equals the source's byte for byte (EJSON).
 *
 * CI runs 200,000 documents, not 1,000,000: FerretDB 1.24 (SQLite) reads about 3,500–8,000
 * documents/s here, so on the 2-core machine 1,000,000 took about 15 minutes end to end
 * (insert, backup, restore, scans; numbers in the package README), too much of CI's 90-minute
 * budget shared with the whole repository. `STEADYFN_BACKUP_DOCS=1000000` runs the full million.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { ContentHash, mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { toEjson } from '../src/sources/mongo.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

/** 200,000 unless STEADYFN_BACKUP_DOCS says otherwise (see above). */
const DOCS = Number(process.env.STEADYFN_BACKUP_DOCS ?? 200_000);

async function contentHash(db: Db): Promise<{ count: number; hash: string }> {
  const hash = new ContentHash();
  let count = 0;
  for await (const doc of db.collection('small').find({}, { batchSize: 5000 })) {
    hash.addRecord(toEjson(doc));
    count++;
  }
  return { count, hash: hash.toHex() };
}

let source: Db;
let target: Db;
let s3: Awaited<ReturnType<typeof freshBucket>>;

beforeAll(async () => {
  s3 = await freshBucket(S3_SERVERS[0]!);
  source = await freshDb('million');
  target = await freshDb('millionr');
  const started = Date.now();
  for (let start = 0; start < DOCS; start += 10_000) {
    const n = Math.min(10_000, DOCS - start);
    await source.collection<Doc>('small').insertMany(Array.from({ length: n }, (_, i) => ({ _id: start + i, name: `user-${start + i}`, active: (start + i) % 2 === 0, score: (start + i) * 1.5 })), { ordered: false });
  }
  console.log(`million: inserted ${DOCS} documents in ${Date.now() - started} ms`);
}, 900_000);

afterAll(async () => {
  await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
}, 300_000);

it(`backs up and restores ${DOCS.toLocaleString('en')} small documents with equal data`, async () => {
  const storage = { client: s3.client, bucket: s3.bucket, prefix: 'million' };
  let t = Date.now();
  const result = await snapshotBackup({ source: mongoSource({ db: source, batchSize: 5000 }), target: storage }).run();
  const backupMs = Date.now() - t;
  expect(result).toMatchObject({ status: 'complete', records: DOCS });
  t = Date.now();
  const report = await restore({ backup: { storage, id: result.backupId! }, target: mongoTarget({ db: target, batchSize: 5000 }) });
  const restoreMs = Date.now() - t;
  expect(report.records).toBe(DOCS);
  const manifest = (await import('../src/restore/load.js')).loadManifest;
  const recorded = (await manifest(storage, result.backupId!)).datasets[0]!;
  expect(await contentHash(target)).toEqual({ count: DOCS, hash: recorded.contentHash });
  const sample = Array.from({ length: 1000 }, (_, i) => Math.floor((i * DOCS) / 1000));
  const read = async (db: Db) => (await db.collection<Doc>('small').find({ _id: { $in: sample } } as never).sort({ _id: 1 }).toArray()).map(toEjson);
  expect(await read(target)).toEqual(await read(source));
  t = Date.now();
  const verified = await verifyBackup({ backup: { storage, id: result.backupId! }, level: 'full' });
  const verifyMs = Date.now() - t;
  expect(verified.records).toBe(DOCS);
  console.log(`million: backup ${backupMs} ms (${result.status === 'complete' ? result.bytes : 0} bytes gz), restore ${restoreMs} ms (check ${report.checkMs} + apply ${report.applyMs}), full verify ${verifyMs} ms`);
}, 1_800_000);
