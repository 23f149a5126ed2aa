/**
 * Peak RSS of a snapshot against the data size (goal: flat within 20 MiB between SMALL and
 * LARGE documents), on FerretDB and moto, 5 MiB parts, 3 in flight, each run in a fresh child
 * process (bench/rss-child.ts) so one run's heap never inflates the next.
 *
 * Both sizes must reach the pipeline's steady state: every document carries ~200 bytes that
 * gzip cannot shrink, so SMALL (100,000) makes ~4 full parts and LARGE (1,000,000) ~40. (The
 * first version of this bench used tiny documents: 100,000 made less than one part, so only
 * the large run ever held full parts and the difference measured the part buffers, not growth.)
 *
 * Reported per run: peak RSS, peak V8 heap used, peak external and array-buffer memory, the
 * median RSS over the parts after the first (the steady state) and, for LARGE, the RSS trend
 * in MiB per 10 parts (a least-squares slope over the parts: growth with the data shows here
 * even when the peak does not). SMALL runs twice: the difference between those two runs is the
 * run-to-run noise.
 *
 *   STEADYFN_BENCH_SMALL=100000 STEADYFN_BENCH_LARGE=1000000 (the defaults)
 *   STEADYFN_BENCH_CHILD_HEAP_MB=64 caps each child's V8 old space: a run that completes under
 *   the cap holds no more than that live, whatever the data size (RSS peaks alone are noisy:
 *   V8 grows its heap lazily).
 *   npm run bench -- packages/backup/bench/rss.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import type { Db } from 'mongodb';
import { bundleChild } from '../../../test/support/bundle.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from '../test/support.js';
import { fillUsers } from './fill.js';
import { recordBench } from '../../../test/support/bench-results.js';

const SMALL = Number(process.env.STEADYFN_BENCH_SMALL ?? 100_000);
const LARGE = Number(process.env.STEADYFN_BENCH_LARGE ?? 1_000_000);
const MIB = 1024 * 1024;

interface Run {
  docs: number;
  bytes: number;
  ms: number;
  baseline: number;
  peaks: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  atPart: number[];
}

const fill = (db: Db, name: string, count: number): Promise<void> => fillUsers(db, name, count, () => ({ blob: randomBytes(200).toString('base64') }));

const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
};
/** Least-squares slope of `values` against their index (bytes per part). */
const slope = (values: number[]): number => {
  const n = values.length;
  if (n < 2) return NaN;
  const mx = (n - 1) / 2;
  const my = values.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((v, i) => {
    num += (i - mx) * (v - my);
    den += (i - mx) ** 2;
  });
  return num / den;
};

const s3 = await freshBucket(S3_SERVERS[0]!);
const db = await freshDb('rss');
afterAll(async () => {
  await Promise.all([db.dropDatabase(), s3.drop()]);
  await closeMongo();
});

test('peak RSS of a snapshot: SMALL vs LARGE documents, each in a fresh process', async () => {
  const { file, dir } = bundleChild(new URL('./rss-child.ts', import.meta.url).href);
  try {
    const run = (collection: string, prefix: string): Run => {
      const heap = process.env.STEADYFN_BENCH_CHILD_HEAP_MB;
      const out = spawnSync(process.execPath, [...(heap ? [`--max-old-space-size=${Number(heap)}`] : []), file], {
        env: { ...process.env, CHILD_S3_ENDPOINT: process.env.S3_ENDPOINT, CHILD_BUCKET: s3.bucket, CHILD_DB: db.databaseName, CHILD_COLLECTION: collection, CHILD_PREFIX: prefix },
        encoding: 'utf8',
        maxBuffer: 16 * MIB,
      });
      const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`child gave no result: ${out.stderr.split('\n').filter((l) => l.startsWith('child')).join(' ')}`);
      return JSON.parse(line) as Run;
    };
    const describe = (label: string, r: Run): string =>
      `${label}: ${r.docs} docs, ${mib(r.bytes)} MiB gzip, ${r.atPart.length} parts, ${(r.ms / 1000).toFixed(0)} s: peak RSS ${mib(r.peaks.rss)} MiB (start ${mib(r.baseline)}), steady RSS ${mib(median(r.atPart.slice(1)))} MiB; peak heap used ${mib(r.peaks.heapUsed)} MiB (total ${mib(r.peaks.heapTotal)}), external ${mib(r.peaks.external)} MiB, array buffers ${mib(r.peaks.arrayBuffers)} MiB`;

    await fill(db, 'small', SMALL);
    const small = run('small', 'rss-small');
    const again = run('small', 'rss-small-2');
    await db.collection('small').drop();
    await fill(db, 'large', LARGE);
    const large = run('large', 'rss-large');
    await db.collection('large').drop();
    expect([small.docs, again.docs, large.docs]).toEqual([SMALL, SMALL, LARGE]);
    if (process.env.STEADYFN_BENCH_CHILD_HEAP_MB) console.log(`[bench] each child ran with --max-old-space-size=${process.env.STEADYFN_BENCH_CHILD_HEAP_MB}`);
    console.log(`[bench] ${describe('small', small)}`);
    console.log(`[bench] ${describe('small (repeat)', again)}`);
    console.log(`[bench] ${describe('large', large)}`);
    console.log(`[bench] large run RSS trend over its parts: ${((slope(large.atPart) * 10) / MIB).toFixed(2)} MiB per 10 parts (${large.atPart.length} parts; first part ${mib(large.atPart[0] ?? NaN)} MiB, last ${mib(large.atPart.at(-1) ?? NaN)} MiB)`);
    console.log(`[bench] run-to-run noise (small vs small): peak RSS ${mib(Math.abs(again.peaks.rss - small.peaks.rss))} MiB`);
    const smallPeak = Math.max(small.peaks.rss, again.peaks.rss);
    recordBench({
      key: 'backup.rss',
      value: (large.peaks.rss - smallPeak) / MIB,
      unit: 'MiB',
      detail: `peak RSS of a snapshot of ${large.docs} documents (${mib(large.peaks.rss)} MiB) minus the higher of two runs of ${small.docs} (${mib(smallPeak)} MiB), each in a fresh process${process.env.STEADYFN_BENCH_CHILD_HEAP_MB ? ` with --max-old-space-size=${process.env.STEADYFN_BENCH_CHILD_HEAP_MB}` : ' (heap not capped)'}; run-to-run noise ${mib(Math.abs(again.peaks.rss - small.peaks.rss))} MiB; FerretDB → moto, 5 MiB parts, 3 in flight`,
    });
    console.log(
      `[bench] peak RSS difference = ${mib(large.peaks.rss - smallPeak)} MiB (heap used ${mib(large.peaks.heapUsed - Math.max(small.peaks.heapUsed, again.peaks.heapUsed))}, external ${mib(large.peaks.external - Math.max(small.peaks.external, again.peaks.external))}, steady RSS ${mib(median(large.atPart.slice(1)) - median(small.atPart.slice(1)))}) for ${(LARGE / SMALL).toFixed(0)}× the documents (goal: within 20 MiB)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 7_200_000);
