/**
 * Reading NDJSON back (`gunzipLines`, every restore, verification and stream read): one line of
 * several MiB (a large MongoDB document) against the same bytes in 1 KiB lines. The splitter
 * used to search and copy the whole pending line at every 16 KiB chunk, so one 12 MiB line took
 * about 65 times as long as 12 MiB of short lines (11.7 s against 0.17 s); linear, the ratio stays
 * near 1.
 *
 *   bash test/toolchain.sh bench packages/backup/bench/lines.bench.ts
 */
import { gzipSync } from 'node:zlib';
import { test } from 'vitest';
import { gunzipLines } from '../src/format/ndjson.js';
import { spreadOf } from '../../../test/support/bench-results.js';

const MIB = 12;
const ROUNDS = 3;

async function timeOf(body: Uint8Array): Promise<number> {
  const t = performance.now();
  for await (const line of gunzipLines(body)) void line;
  return performance.now() - t;
}

test('gunzipLines: one 12 MiB line vs 12 MiB of 1 KiB lines', async () => {
  const one = gzipSync(`${JSON.stringify({ s: 'x'.repeat(MIB * 1024 * 1024) })}\n`);
  const many = gzipSync(`${Array.from({ length: MIB * 1024 }, () => JSON.stringify({ s: 'x'.repeat(1024) })).join('\n')}\n`);
  const times = { one: [] as number[], many: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.many.push(await timeOf(many));
    times.one.push(await timeOf(one));
  }
  const [a, b] = [spreadOf(times.one).median, spreadOf(times.many).median];
  console.log(`[bench] gunzipLines of ${MIB} MiB: one line ${times.one.map((x) => x.toFixed(0)).join('/')} ms, 1 KiB lines ${times.many.map((x) => x.toFixed(0)).join('/')} ms`);
  console.log(`[bench] one long line / short lines = ${(a / b).toFixed(2)}× (median; ~1 is linear)`);
}, 600_000);
