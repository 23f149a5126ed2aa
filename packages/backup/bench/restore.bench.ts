/**
 * Restore: one read (the checked parts spooled to a temporary file and written from it, the
 * default) against two reads (`spoolBytes: 0`: every part downloaded again to be written,
 * pinned to the checked object — the old double read plus an `If-Match`/`VersionId` and a
 * HEAD per segment), same backup, same servers (FerretDB, moto), in the same run, alternated.
 *
 *   bash test/toolchain.sh bench packages/backup/bench/restore.bench.ts
 *   STEADYFN_BENCH_RESTORE=200000 sets the number of documents; STEADYFN_BENCH_ROUNDS the rounds.
 */
import { afterAll, expect, test } from 'vitest';
import { mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from '../test/support.js';
import { fillUsers } from './fill.js';
import { recordBench } from '../../../test/support/bench-results.js';

const DOCS = Number(process.env.STEADYFN_BENCH_RESTORE ?? 200_000);
const ROUNDS = Number(process.env.STEADYFN_BENCH_ROUNDS ?? 2);

const s3 = await freshBucket(S3_SERVERS[0]!);
const db = await freshDb('benchrs');
afterAll(async () => {
  await Promise.all([db.dropDatabase(), s3.drop()]);
  await closeMongo();
});

test('restore: one read (spool) vs two reads (pinned re-read)', async () => {
  await fillUsers(db, 'docs', DOCS, () => ({ tags: ['a', 'b'] }));
  const storage = { client: s3.client, bucket: s3.bucket, prefix: 'benchrs' };
  const backup = await snapshotBackup({ source: mongoSource({ db, collections: ['docs'], batchSize: 5000 }), target: storage }).run();
  if (backup.status !== 'complete') throw new Error('backup did not complete');
  const times = { one: [] as number[], two: [] as number[], oneCheck: [] as number[], twoCheck: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so drift on the shared machine does not favour one side.
    const order: Array<'one' | 'two'> = round % 2 === 0 ? ['two', 'one'] : ['one', 'two'];
    for (const mode of order) {
      const into = await freshDb(`benchrs${mode}`);
      const t = performance.now();
      const report = await restore({ backup: { storage, id: backup.backupId }, target: mongoTarget({ db: into, batchSize: 5000 }), ...(mode === 'two' ? { spoolBytes: 0 } : {}) });
      times[mode].push(performance.now() - t);
      times[mode === 'one' ? 'oneCheck' : 'twoCheck'].push(report.checkMs);
      expect(report).toMatchObject({ records: DOCS, reads: mode === 'one' ? 1 : 2 });
      await into.dropDatabase();
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [one, two] = [median(times.one), median(times.two)];
  console.log(`[bench] restore of ${DOCS} docs (${(backup.bytes / 1024 / 1024).toFixed(1)} MiB gzip), ${ROUNDS} rounds: one read ${times.one.map((x) => x.toFixed(0)).join('/')} ms (check ${times.oneCheck.join('/')} ms), two reads ${times.two.map((x) => x.toFixed(0)).join('/')} ms (check ${times.twoCheck.join('/')} ms)`);
  console.log(`[bench] restore time, one read / two reads = ${(one / two).toFixed(2)}× (median; < 1 is faster)`);
  recordBench({ key: 'backup.restore-one-read', value: one / two, unit: '×', detail: `restore time with the spool (one read) / with a pinned re-read (two reads); ${DOCS} documents, FerretDB → moto; medians of ${ROUNDS}` });
}, 3_600_000);
