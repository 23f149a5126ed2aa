/**
 * Cold start: how long a fresh Node process takes to load a function module — the same small
 * function (validated input, idempotency on Redis) written with steadyfn and with its peer —
 * side by side in the same run, unbundled (from node_modules, ESM) and bundled (one esbuild CJS
 * bundle per side, as a Lambda deployment ships it). Prints the ratios (goal: ≤ 0.45×
 * unbundled, ≤ 0.6× bundled); never asserts a timing.
 *
 *   steadyfn: @steadyfn/handler (the root entry, and /aws) + @steadyfn/idempotency + ioredis + zod
 *   peer:     @middy/core + @aws-lambda-powertools/idempotency (its cache persistence layer over
 *             ioredis and its middy middleware, as packages/idempotency/bench uses it) + ioredis + zod
 *
 * Each side is loaded from a task root laid out like a deployment package (its node_modules
 * links to the installed packages, whose own dependencies resolve where pnpm put them). The
 * parts are printed too: ioredis + zod, which both sides load (and which dominate both), and
 * each side without them.
 *
 *   pnpm vitest bench --run packages/handler/bench/coldstart.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { test } from 'vitest';
import { recordBench } from '../../../test/support/bench-results.js';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '../..');
const RUNS = 11;

/** Where each package the probes import is installed (resolved from a package that depends on it). */
function installed(): Record<string, string> {
  // pnpm links each dependency into the depending package's node_modules.
  const from = (pkg: string, name: string) => join(packages, pkg, 'node_modules', name);
  return {
    '@steadyfn/handler': join(packages, 'handler'),
    '@steadyfn/idempotency': join(packages, 'idempotency'),
    ioredis: from('idempotency', 'ioredis'),
    zod: from('handler', 'zod'),
    '@middy/core': from('idempotency', '@middy/core'),
    '@aws-lambda-powertools/idempotency': from('idempotency', '@aws-lambda-powertools/idempotency'),
  };
}

const SHARED = ['ioredis', 'zod'] as const;
const OURS_ROOT = ['@steadyfn/handler', '@steadyfn/idempotency'] as const;
const OURS_AWS = ['@steadyfn/handler/aws', '@steadyfn/idempotency'] as const;
const PEER = ['@middy/core', '@aws-lambda-powertools/idempotency', '@aws-lambda-powertools/idempotency/cache', '@aws-lambda-powertools/idempotency/middleware'] as const;

/** Every export of each module, kept (namespace imports: nothing is tree-shaken away). */
const library = (modules: ReadonlyArray<string>): string =>
  modules.map((m, i) => `import * as m${i} from '${m}';`).join('\n') + `\nexport default [${modules.map((_, i) => `m${i}`).join(', ')}];\n`;

/** A deployed function as each side's README writes it: validated input, idempotency on Redis. */
const ourApp = (entry: string): string => `
import { handler } from '${entry}';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { Redis } from 'ioredis';
import { z } from 'zod';
const redis = new Redis({ lazyConnect: true });
export const main = handler(
  { input: z.object({ orderId: z.string(), amount: z.number() }), use: [idempotency({ store: redisStore({ client: redis }), ttlMs: 3_600_000 })] },
  async (order) => ({ charged: order.amount }),
);
`;
const PEER_APP = `
import middy from '@middy/core';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { Redis } from 'ioredis';
import { z } from 'zod';
const redis = new Redis({ lazyConnect: true });
const client = { get: (k) => redis.get(k), set: (k, v) => redis.set(k, String(v)), del: (keys) => redis.del(...keys) };
const Order = z.object({ orderId: z.string(), amount: z.number() });
export const main = middy(async (event) => ({ charged: Order.parse(event).amount })).use(
  makeHandlerIdempotent({ persistenceStore: new CachePersistenceLayer({ client }), config: new IdempotencyConfig({ expiresAfterSeconds: 3600 }) }),
);
`;

const SIDES = {
  'steadyfn (root entry)': ourApp('@steadyfn/handler'),
  'steadyfn (/aws entry)': ourApp('@steadyfn/handler/aws'),
  peer: PEER_APP,
  // The parts: what both sides load, and each side's libraries without it.
  'shared (ioredis + zod)': library(SHARED),
  'steadyfn alone (root entry)': library(OURS_ROOT),
  'steadyfn alone (/aws entry)': library(OURS_AWS),
  'peer alone': library(PEER),
} as const;
type Side = keyof typeof SIDES;

function taskRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'steadyfn-coldstart-'));
  for (const [name, dir] of Object.entries(installed())) {
    const link = join(root, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(dir), link, 'dir');
  }
  return root;
}

/** Milliseconds one fresh process spends loading `file` (imported, or required when it is a bundle). */
function measure(root: string, file: string, bundled: boolean): number {
  const load = bundled ? `require(${JSON.stringify(file)})` : `await import(${JSON.stringify(file)})`;
  const script = `const { createRequire } = await import('node:module'); const require = createRequire(${JSON.stringify(join(root, 'x.cjs'))});
const t0 = performance.now(); ${load}; process.stdout.write(String(performance.now() - t0));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

test('cold start: import time in fresh processes, steadyfn against middy + Powertools idempotency', { timeout: 300_000 }, async () => {
  const root = taskRoot();
  try {
    const entries = {} as Record<Side, { unbundled: string; bundled: string }>;
    for (const [side, source] of Object.entries(SIDES) as Array<[Side, string]>) {
      const slug = side.replace(/[^a-z]+/g, '-');
      const entry = join(root, `${slug}.mjs`);
      writeFileSync(entry, source);
      const bundle = join(root, `${slug}.bundle.cjs`);
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node22', outfile: bundle, logLevel: 'silent', absWorkingDir: root });
      entries[side] = { unbundled: entry, bundled: bundle };
    }
    const times: Record<string, number[]> = {};
    // Interleaved, so a noisy moment on a shared machine hits every side alike.
    for (let run = 0; run < RUNS; run++) {
      for (const side of Object.keys(SIDES) as Side[]) {
        for (const mode of ['unbundled', 'bundled'] as const) {
          (times[`${side}|${mode}`] ??= []).push(measure(root, entries[side][mode], mode === 'bundled'));
        }
      }
    }
    // The median, and the fastest run: on a busy machine the fastest is the truer cost.
    for (const mode of ['unbundled', 'bundled'] as const) {
      const p50 = (side: Side) => median(times[`${side}|${mode}`]!);
      const min = (side: Side) => Math.min(...times[`${side}|${mode}`]!);
      const goal = mode === 'unbundled' ? 0.45 : 0.6;
      console.log(`[bench] cold start ${mode}: peer function (middy + Powertools idempotency + ioredis + zod) p50 ${p50('peer').toFixed(1)} ms, min ${min('peer').toFixed(1)} ms`);
      for (const side of ['steadyfn (root entry)', 'steadyfn (/aws entry)'] as const) {
        console.log(
          `[bench] cold start ${mode}: steadyfn function ${side.slice(9)} p50 ${p50(side).toFixed(1)} ms = ${(p50(side) / p50('peer')).toFixed(2)}× the peer, ` +
            `min ${min(side).toFixed(1)} ms = ${(min(side) / min('peer')).toFixed(2)}× (goal ≤ ${goal}×)`,
        );
      }
      const aws = 'steadyfn (/aws entry)';
      recordBench({ key: `handler.coldstart.${mode}`, value: p50(aws) / p50('peer'), unit: '×', detail: `import of a function (handler /aws + idempotency + ioredis + zod) ${mode}, p50 ${p50(aws).toFixed(1)} ms vs ${p50('peer').toFixed(1)} ms for middy + Powertools idempotency + ioredis + zod, ${RUNS} fresh processes each, interleaved` });
      const part = (side: Side) => `${p50(side).toFixed(1)} ms (min ${min(side).toFixed(1)})`;
      console.log(
        `[bench] cold start ${mode}, libraries loaded whole: ioredis + zod ${part('shared (ioredis + zod)')}; peer alone ${part('peer alone')}; ` +
          `steadyfn alone ${part('steadyfn alone (root entry)')}, /aws ${part('steadyfn alone (/aws entry)')}; ` +
          `min ratios ${(min('steadyfn alone (root entry)') / min('peer alone')).toFixed(2)}× and ${(min('steadyfn alone (/aws entry)') / min('peer alone')).toFixed(2)}×`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
