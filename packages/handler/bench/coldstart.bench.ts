/**
 * Cold start: what a fresh Node process pays to load a function module and to answer its first
 * invocation against a real Redis — the same small Lambda function (validated input,
 * idempotency on Redis) written with steadyfn and with its peer — side by side, unbundled
 * (from node_modules) and bundled (one esbuild CommonJS bundle per function, esbuild's defaults
 * as a Lambda deployment uses them: not minified). Prints medians, spreads and ratios (goals:
 * ≤ 0.45× unbundled, ≤ 0.6× bundled); never asserts a timing.
 *
 *   steadyfn: @steadyfn/handler (/aws entry, and the root entry) + @steadyfn/idempotency +
 *             ioredis + zod; and the same with the client from @steadyfn/connections/redis
 *   peer:     @middy/core + @aws-lambda-powertools/idempotency (CachePersistenceLayer and its
 *             middy middleware) + @redis/client (the client Powertools' docs use) + zod
 *   floor:    zod + ioredis called directly, a hand-written SET NX claim: no library code, the
 *             lowest steadyfn ÷ peer can go (printed as floor ÷ peer, and steadyfn ÷ floor)
 *
 * Method, for a shared and loaded machine:
 * - every cell is a fresh `node` process (V8's compile cache off: NODE_COMPILE_CACHE is
 *   removed from its environment), cells interleaved round by round in alternating order, so
 *   load that comes and goes hits every side alike;
 * - CPU time (process.cpuUsage: every thread of the process) as well as wall time: CPU time
 *   does not count waiting for a busy core, so it is the steadier measure here;
 * - each ratio is the median of the per-round ratios (steadyfn ÷ peer in the same round),
 *   with their interquartile range;
 * - "import wall" is what the module's load takes (Lambda's Init Duration); "import CPU" also
 *   counts what the load started and left running (a driver loaded with import(), a connect
 *   begun in module scope), given 100 ms to settle; "+1st call" adds the first invocation
 *   against the local Redis (claim, function, completion; the connect where a client makes it
 *   on first use): what a cold start really costs, including work deferred to the first call.
 * The parts are printed too: zod and each Redis client alone, and each side's libraries alone.
 *
 *   npm run bench -- packages/handler/bench/coldstart.bench.ts     (COLDSTART_RUNS=21 rounds)
 *   COLDSTART_ONLY=bundled (or unbundled): that mode's cells alone, half the processes; such a
 *     partial run records nothing for the summary table (it is for comparing two builds)
 *   COLDSTART_PACKAGES=<dir>: load the steadyfn packages from another checkout's packages/
 *     (built), e.g. main's, to compare it with this one at the same settings
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { test } from 'vitest';
import { recordBench } from '../../../test/support/bench-results.js';
import { floorApp, library, ourApp, ourConnectionsApp, peerApp } from './coldstart/apps.js';

const here = dirname(fileURLToPath(import.meta.url));
const packages = process.env.COLDSTART_PACKAGES || join(here, '../..');
const child = join(here, 'coldstart/child.mjs');
const RUNS = Number(process.env.COLDSTART_RUNS ?? 21);
const run = promisify(execFile);

/** Where each package the functions import is installed (resolved from a package that depends on it). */
function installed(): Record<string, string> {
  // pnpm links each dependency into the depending package's node_modules.
  const from = (pkg: string, name: string) => join(packages, pkg, 'node_modules', name);
  return {
    '@steadyfn/handler': join(packages, 'handler'),
    '@steadyfn/idempotency': join(packages, 'idempotency'),
    '@steadyfn/connections': join(packages, 'connections'),
    ioredis: from('idempotency', 'ioredis'),
    zod: from('handler', 'zod'),
    '@middy/core': from('idempotency', '@middy/core'),
    '@aws-lambda-powertools/idempotency': from('idempotency', '@aws-lambda-powertools/idempotency'),
    '@redis/client': from('idempotency', '@redis/client'),
  };
}

/** A deployment package's root: node_modules links to the installed packages. */
function taskRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'steadyfn-coldstart-'));
  for (const [name, dir] of Object.entries(installed())) {
    const link = join(root, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(dir), link, 'dir');
  }
  return root;
}

const PEER_LIBS = ['@middy/core', '@aws-lambda-powertools/idempotency', '@aws-lambda-powertools/idempotency/cache', '@aws-lambda-powertools/idempotency/middleware'];

/** What each cell loads; `invoke`: a whole function, run once against Redis after its import. */
function cells(prefix: string): Record<string, { source: string; invoke: boolean }> {
  return {
    'steadyfn /aws': { source: ourApp('@steadyfn/handler/aws', prefix), invoke: true },
    'steadyfn root': { source: ourApp('@steadyfn/handler', prefix), invoke: true },
    'steadyfn /aws, connections': { source: ourConnectionsApp('@steadyfn/handler/aws', prefix), invoke: true },
    peer: { source: peerApp(), invoke: true },
    floor: { source: floorApp(prefix), invoke: true },
    zod: { source: library(['zod']), invoke: false },
    ioredis: { source: library(['ioredis']), invoke: false },
    '@redis/client': { source: library(['@redis/client']), invoke: false },
    'steadyfn libs /aws': { source: library(['@steadyfn/handler/aws', '@steadyfn/idempotency']), invoke: false },
    'steadyfn libs root': { source: library(['@steadyfn/handler', '@steadyfn/idempotency']), invoke: false },
    'peer libs': { source: library(PEER_LIBS), invoke: false },
  };
}

const ALL_MODES = ['unbundled', 'bundled'] as const;
type Mode = (typeof ALL_MODES)[number];
/** The modes this run measures: both, or the one `COLDSTART_ONLY` names. */
const MODES: ReadonlyArray<Mode> = (() => {
  const only = process.env.COLDSTART_ONLY;
  if (only === undefined || only === '') return ALL_MODES;
  if (!(ALL_MODES as ReadonlyArray<string>).includes(only)) throw new Error(`COLDSTART_ONLY must be one of ${ALL_MODES.join(', ')}; got ${JSON.stringify(only)}`);
  return [only as Mode];
})();
interface Sample {
  importWall: number;
  importCpu: number;
  invokeWall?: number;
  invokeCpu?: number;
  result?: unknown;
}
const METRICS = {
  'import CPU': (s: Sample) => s.importCpu,
  'import wall': (s: Sample) => s.importWall,
  '+1st call CPU': (s: Sample) => s.importCpu + (s.invokeCpu ?? Number.NaN),
  '+1st call wall': (s: Sample) => s.importWall + (s.invokeWall ?? Number.NaN),
} as const;
type Metric = keyof typeof METRICS;

function quantile(values: number[], q: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.ceil(at)]! - sorted[lo]!) * (at - lo);
}
const spread = (values: number[], digits = 1): string =>
  `${quantile(values, 0.5).toFixed(digits)} (${quantile(values, 0.25).toFixed(digits)}–${quantile(values, 0.75).toFixed(digits)})`;

async function measure(file: string, mode: Mode, invoke: boolean, orderId: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const { stdout } = await run(process.execPath, [child, file, mode === 'bundled' ? '1' : '0', invoke ? '1' : '0', orderId], { env, encoding: 'utf8' });
  const marker = stdout.lastIndexOf('@@coldstart@@');
  if (marker < 0) throw new Error(`cold-start child printed no result for ${file}: ${stdout.slice(-500)}`);
  return JSON.parse(stdout.slice(marker + '@@coldstart@@'.length)) as Sample;
}

test('cold start: fresh processes, steadyfn against middy + Powertools idempotency', { timeout: 1_800_000 }, async () => {
  const id = `${process.pid}-${Date.now().toString(36)}`;
  const prefix = `coldstart-${id}:`;
  const functionName = `steadyfn-coldstart-${id}`;
  const redisUrl = process.env.REDIS_URL;
  const root = taskRoot();
  // As deployed: default log level, no compile cache, no test overrides.
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_LAMBDA_FUNCTION_NAME: functionName, REDIS_URL: redisUrl };
  for (const name of ['NODE_COMPILE_CACHE', 'NODE_OPTIONS', 'STEADYFN_LOG_LEVEL', 'VITEST', 'VITEST_MODE', 'NODE_ENV']) delete env[name];
  const plan = cells(prefix);
  if (!redisUrl) console.log('[bench] REDIS_URL is not set: first invocations skipped (import only)');
  try {
    const files = {} as Record<string, Record<Mode, string>>;
    const sizes: string[] = [];
    for (const [cell, { source }] of Object.entries(plan)) {
      const slug = cell.replace(/[^a-z0-9]+/gi, '-');
      const entry = join(root, `${slug}.mjs`);
      writeFileSync(entry, source);
      const bundle = join(root, `${slug}.bundle.cjs`);
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node22', outfile: bundle, logLevel: 'silent', absWorkingDir: root });
      files[cell] = { unbundled: entry, bundled: bundle };
      sizes.push(`${cell} ${(statSync(bundle).size / 1024).toFixed(0)} KB`);
    }
    console.log(`[bench] CommonJS bundle sizes (esbuild, not minified): ${sizes.join('; ')}`);

    const samples: Record<string, Sample[]> = {};
    const order = Object.keys(plan).flatMap((cell) => MODES.map((mode) => [cell, mode] as const));
    for (let round = 0; round < RUNS; round++) {
      // Alternate the order, so no cell always runs right after the same neighbour.
      for (const [cell, mode] of round % 2 === 0 ? order : [...order].reverse()) {
        const invoke = plan[cell]!.invoke && redisUrl !== undefined;
        const sample = await measure(files[cell]![mode], mode, invoke, `${id}-${round}-${cell}-${mode}`, env);
        if (invoke && JSON.stringify(sample.result) !== '{"charged":42}') throw new Error(`${cell} (${mode}) answered ${JSON.stringify(sample.result)}`);
        (samples[`${cell}|${mode}`] ??= []).push(sample);
      }
    }

    const values = (cell: string, mode: Mode, metric: Metric) => samples[`${cell}|${mode}`]!.map(METRICS[metric]);
    const paired = (ours: string, peer: string, mode: Mode, metric: Metric) => {
      const a = values(ours, mode, metric);
      const b = values(peer, mode, metric);
      return a.map((v, i) => v / b[i]!);
    };
    const metrics = (redisUrl ? Object.keys(METRICS) : ['import CPU', 'import wall']) as Metric[];
    console.log(`[bench] cold start, ${RUNS} fresh processes per cell, interleaved; ms, median (p25–p75)`);
    for (const mode of MODES) {
      for (const cell of Object.keys(plan)) {
        const shown = plan[cell]!.invoke ? metrics : (['import CPU', 'import wall'] as Metric[]);
        console.log(`[bench] ${mode.padEnd(9)} ${cell.padEnd(27)} ${shown.map((m) => `${m} ${spread(values(cell, mode, m))}`).join('; ')}`);
      }
    }
    console.log('[bench] ratios steadyfn ÷ peer: median of the per-round ratios (p25–p75)');
    for (const mode of MODES) {
      const goal = mode === 'unbundled' ? 0.45 : 0.6;
      for (const ours of ['steadyfn /aws', 'steadyfn root', 'steadyfn /aws, connections']) {
        console.log(`[bench] ${mode.padEnd(9)} ${`${ours} ÷ peer`.padEnd(36)} ${metrics.map((m) => `${m} ${spread(paired(ours, 'peer', mode, m), 2)}×`).join('; ')} (goal ≤ ${goal}×)`);
      }
      // The floor (zod + ioredis, no steadyfn code): what the goal can reach at best, and our own share above it.
      console.log(`[bench] ${mode.padEnd(9)} ${'floor ÷ peer'.padEnd(36)} ${metrics.map((m) => `${m} ${spread(paired('floor', 'peer', mode, m), 2)}×`).join('; ')} (the lowest steadyfn ÷ peer can be)`);
      console.log(`[bench] ${mode.padEnd(9)} ${'steadyfn /aws ÷ floor'.padEnd(36)} ${metrics.map((m) => `${m} ${spread(paired('steadyfn /aws', 'floor', mode, m), 2)}×`).join('; ')} (steadyfn's own share)`);
      for (const ours of ['steadyfn libs /aws', 'steadyfn libs root']) {
        console.log(`[bench] ${mode.padEnd(9)} ${`${ours} ÷ peer libs`.padEnd(36)} ${(['import CPU', 'import wall'] as Metric[]).map((m) => `${m} ${spread(paired(ours, 'peer libs', mode, m), 2)}×`).join('; ')}`);
      }
      if (MODES.length === ALL_MODES.length && packages === join(here, '../..')) recordBench({ key: `handler.coldstart.${mode}`, value: quantile(paired('steadyfn /aws', 'peer', mode, 'import CPU'), 0.5), unit: '×', detail: `import CPU of a function (handler /aws + idempotency + ioredis + zod) ${mode}, median of per-round ratios against middy + Powertools idempotency + @redis/client + zod, ${RUNS} fresh processes each, interleaved` });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    if (redisUrl) await dropKeys(redisUrl, [`${prefix}*`, `${functionName}*`]);
  }
});

/** Deletes this run's records (both sides' keys carry the run's id). */
async function dropKeys(url: string, patterns: string[]): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const match of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
