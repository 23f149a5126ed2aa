/**
 * Backup benches, each a ratio against a baseline measured in the same run on the same servers
 * (FerretDB, moto), with equal part size (5 MiB) and concurrency (3 parts in flight):
 * 1. Snapshot throughput vs min(raw cursor drain of the same collection, raw lib-storage
 *    `Upload` of the same gzip bytes). Goal ≥ 0.8×.
 * 2. Restore throughput (documents/s, check + apply) and restore-drill time.
 * (Peak RSS against the data size: rss.bench.ts.)
 *
 *   bash test/services/services.sh start && pnpm vitest bench --run packages/backup/bench
 *   STEADYFN_BENCH_SMALL=100000 sets the number of documents.
 */
import { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, expect, test } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { GzipPartEncoder } from '../src/format/gzip-part.js';
import { toEjson } from '../src/sources/mongo.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from '../test/support.js';
import { fillUsers } from './fill.js';
import { recordBench } from '../../../test/support/bench-results.js';

const SMALL = Number(process.env.STEADYFN_BENCH_SMALL ?? 100_000);
const MIB = 1024 * 1024;
const PART = 5 * MIB;
const IN_FLIGHT = 3;

const fill = (db: Db, name: string, count: number): Promise<void> => fillUsers(db, name, count, () => ({ tags: ['a', 'b'] }));

const s3 = await freshBucket(S3_SERVERS[0]!);
const db = await freshDb('bench');
afterAll(async () => {
  await Promise.all([db.dropDatabase(), s3.drop()]);
  await closeMongo();
});

test('snapshot throughput vs min(raw cursor drain, raw lib-storage Upload)', async () => {
  await fill(db, 'docs', SMALL);
  // Baseline 1: drain the same cursor (same order and batch size), nothing else.
  let t = performance.now();
  let drained = 0;
  for await (const _doc of db.collection('docs').find({}, { sort: { _id: 1 }, batchSize: 5000 })) drained++;
  const drainMs = performance.now() - t;

  // The same bytes the snapshot writes (canonical EJSON lines, gzip members of ~5 MiB).
  const parts: Buffer[] = [];
  let encoder = new GzipPartEncoder(6);
  for await (const doc of db.collection('docs').find({}, { sort: { _id: 1 }, batchSize: 5000 })) {
    await encoder.add(toEjson(doc), '');
    if (encoder.compressedBytes >= PART) {
      parts.push((await encoder.finish()).body);
      encoder = new GzipPartEncoder(6);
    }
  }
  parts.push((await encoder.finish()).body);
  const bytes = parts.reduce((s, p) => s + p.length, 0);
  // Baseline 2: lib-storage Upload of those bytes, same part size and queue size.
  t = performance.now();
  await new Upload({ client: s3.client, params: { Bucket: s3.bucket, Key: 'baseline.ndjson.gz', Body: Readable.from(parts) }, partSize: PART, queueSize: IN_FLIGHT }).done();
  const uploadMs = performance.now() - t;

  t = performance.now();
  const result = await snapshotBackup({ source: mongoSource({ db, collections: ['docs'], batchSize: 5000 }), target: { client: s3.client, bucket: s3.bucket, prefix: 'bench' }, partSizeBytes: PART, partsInFlight: IN_FLIGHT, memoryBudgetBytes: 128 * MIB }).run();
  const snapshotMs = performance.now() - t;
  expect(result.status).toBe('complete');
  expect(drained).toBe(SMALL);

  const ceilingMs = Math.max(drainMs, uploadMs); // the slower baseline bounds the pipeline
  console.log(`[bench] ${SMALL} docs, ${(bytes / MIB).toFixed(1)} MiB gzip: cursor drain ${drainMs.toFixed(0)} ms (${Math.round(SMALL / (drainMs / 1000))} docs/s), lib-storage Upload ${uploadMs.toFixed(0)} ms (${(bytes / MIB / (uploadMs / 1000)).toFixed(1)} MiB/s), snapshotBackup ${snapshotMs.toFixed(0)} ms (${Math.round(SMALL / (snapshotMs / 1000))} docs/s)`);
  console.log(`[bench] snapshot throughput = ${(ceilingMs / snapshotMs).toFixed(2)}× min(raw cursor drain, raw Upload) (goal ≥ 0.8×)`);

  // Restore and drill of the same backup.
  const into = await freshDb('benchr');
  t = performance.now();
  const restored = await restore({ backup: { storage: { client: s3.client, bucket: s3.bucket, prefix: 'bench' }, id: result.backupId! }, target: mongoTarget({ db: into, batchSize: 5000 }) });
  const restoreMs = performance.now() - t;
  const scratch = await freshDb('benchd');
  t = performance.now();
  const drill = await verifyBackup({ backup: { storage: { client: s3.client, bucket: s3.bucket, prefix: 'bench' }, id: result.backupId! }, level: 'drill', scratch: mongoTarget({ db: scratch, batchSize: 5000 }) });
  const drillMs = performance.now() - t;
  await Promise.all([into.dropDatabase(), scratch.dropDatabase()]);
  console.log(`[bench] restore of ${restored.records} docs: ${restoreMs.toFixed(0)} ms (${Math.round(restored.records / (restoreMs / 1000))} docs/s; check ${restored.checkMs} ms + apply ${restored.applyMs} ms); drill ${drillMs.toFixed(0)} ms (restore ${drill.drill!.restoreMs} ms, ${drill.drill!.recordsPerSecond} docs/s, then read back and compared)`);
  console.log(`[bench] restore throughput = ${(drainMs / restoreMs).toFixed(2)}× the raw cursor drain of the same documents (no goal; FerretDB's insert rate bounds it)`);
  const gzip = `${SMALL} documents, ${(bytes / MIB).toFixed(1)} MiB gzip, FerretDB → moto, 5 MiB parts, 3 in flight`;
  recordBench(
    { key: 'backup.snapshot', value: ceilingMs / snapshotMs, unit: '×', detail: `snapshotBackup ${Math.round(SMALL / (snapshotMs / 1000))} docs/s vs the slower of a raw cursor drain (${drainMs.toFixed(0)} ms) and a raw lib-storage Upload of the same bytes (${uploadMs.toFixed(0)} ms); ${gzip}` },
    { key: 'backup.restore', value: drainMs / restoreMs, unit: '×', detail: `restore ${Math.round(restored.records / (restoreMs / 1000))} docs/s (checksums and counts checked first) vs a raw cursor drain of the same documents; drill ${drillMs.toFixed(0)} ms; ${gzip}` },
  );
}, 3_600_000);
