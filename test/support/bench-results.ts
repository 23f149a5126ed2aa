/**
 * What a bench hands to `npm run bench`'s summary table (test/bench-table.mjs): each measured
 * ratio is written to `.services/bench/<key>.json` with the run it belongs to, and the table
 * prints the ratios the issues name — a bench that did not run in this run (skipped, failed,
 * filtered out) is shown as not run, never with an older number.
 *
 *   recordBench({ key: 'handler.overhead.direct', value: 1.8, unit: '×', detail: '+0.9 µs p50 over a bare async function' });
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../.services/bench/', import.meta.url));

export interface BenchResult {
  /** Stable name the table knows (`<package>.<bench>.<measure>`). */
  key: string;
  /** The measured value: a ratio against the baseline of the same run (`×`), or a quantity. */
  value: number;
  unit: '×' | 'µs' | 'ms' | 'MiB' | 'calls';
  /** Against what, under which conditions (servers, sizes, rounds, statistic), and the absolute numbers. */
  detail: string;
}

/** Writes each result for the summary table; a run id from `npm run bench` (`STEADYFN_BENCH_RUN`) marks them as this run's. */
export function recordBench(...results: BenchResult[]): void {
  mkdirSync(dir, { recursive: true });
  for (const result of results) {
    if (!Number.isFinite(result.value)) continue; // nothing measured: the table shows the bench as not run
    const file = join(dir, `${result.key}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...result, run: process.env.STEADYFN_BENCH_RUN ?? 'manual', at: new Date().toISOString() })}\n`);
    renameSync(tmp, file);
  }
}

/** The smallest and the median of per-case values (e.g. ratios over payload mixes and servers). */
export function spreadOf(values: number[]): { min: number; median: number } {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: Number.NaN, median: Number.NaN };
  const mid = sorted.length >> 1;
  return { min: sorted[0]!, median: sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2 };
}
