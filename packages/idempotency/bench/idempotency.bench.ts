/**
 * @steadyfn/idempotency against @aws-lambda-powertools/idempotency (Redis persistence layer,
 * given the small ioredis adapter it needs), on the same redis-server in the same run.
 *
 * 1. Store calls per path, counted on the server (MONITOR separates what a client sends from
 *    what a Lua script runs; INFO commandstats counts both), and for MongoDB by the driver's
 *    command monitoring against FerretDB.
 * 2. Latency of the duplicate path and the first-call path, and the ratios (goal: ≤ 0.6× on
 *    the duplicate path), in wall time (calls interleaved one by one) and in the process's CPU
 *    time (batches interleaved), which a loaded machine disturbs less — twice: our code from
 *    source as this bench runs it under vitest (many modules through vite's module runner), and
 *    our built packages (dist, what users run) in a plain Node child (built-driver.mjs), each
 *    against Powertools in the same process. The recorded result is the built one; the source
 *    one is recorded beside it. Both use the same contenders (contenders.mjs) and the same
 *    rounds (timing.mjs).
 *
 *   bash test/toolchain.sh bench packages/idempotency/bench/idempotency.bench.ts   (builds first)
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, test } from 'vitest';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { handler } from '@steadyfn/handler';
import { redisLeaseStore } from '@steadyfn/lease';
import { idempotency, mongoStore, redisStore } from '../src/index.js';
import { commandStats, diffStats, monitorCounts, startOwnRedis, type OwnRedis } from '../test/own-redis.js';
import { recordBench } from '../../../test/support/bench-results.js';
import { duplicateEvent, fresh, type Event, lambdaContext, makeFloors, makeOneCommandSteady, makePowertools, makeSteady as makeSteady_, powertoolsClient, work } from './contenders.mjs';
import { BUILT_MARKER, floorsVersus, versusPowertools, type CpuPair, type Floors, type Interleaved, type Versus } from './timing.mjs';

let server: OwnRedis | undefined;
let client: Redis;

/** Our modules from source, as vitest loads them (test/vitest.config.ts aliases `@steadyfn/*` to src). */
const sourceModules = { handler, idempotency, redisStore };
const makeSteady = (redis: Redis, localCache = false) => makeSteady_(sourceModules, redis, localCache);

let steady: ReturnType<typeof makeSteady>;
let steadyWarm: ReturnType<typeof makeSteady>;
let powertools: ReturnType<typeof makePowertools>;
let oneCommand: () => Promise<unknown>;

async function countRedisCalls(): Promise<void> {
  const url = server?.url ?? process.env.REDIS_URL!;
  const admin = new Redis(url);
  const monitor = await monitorCounts(url);
  const rows: Array<[string, string, number, number, string]> = [];
  const measure = async (library: string, path: string, run: () => Promise<unknown>) => {
    await monitor.flush(client);
    monitor.reset();
    const before = await commandStats(admin);
    await run();
    await monitor.flush(client);
    const commands = diffStats(await commandStats(admin), before, ['info', 'echo', 'monitor']);
    rows.push([library, path, monitor.requests(), monitor.inScript(), Object.entries(commands).map(([k, v]) => `${k}×${v}`).join(' ')]);
  };
  // Scripts loaded, as on any warm server.
  await steady(fresh());
  const first = fresh();
  await measure('steadyfn', 'first call', () => steady(first));
  await measure('steadyfn', 'duplicate', () => steady(first));
  await steadyWarm(first);
  await measure('steadyfn', 'local-cache hit', () => steadyWarm(first));
  // A crashed holder: its record expires with the lease, so the next attempt is a plain first call.
  const crashed = fresh();
  const crashedMain = handler({ name: 'bench', logSink: () => undefined, use: [idempotency({ store: redisStore({ client, prefix: 'sf:' }), ttlMs: 3_600_000, leaseMs: 50, localCache: false })] }, () => new Promise(() => undefined));
  // It never returns: at its 30 s deadline the invocation rejects (retryable, as Lambda expects),
  // long after its expired record was measured; that rejection is the expected end.
  void crashedMain.aws(crashed, lambdaContext()).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 150));
  await measure('steadyfn', 'expired lease', () => steady(crashed));

  const pFirst = fresh();
  await measure('powertools', 'first call', () => powertools(pFirst));
  await measure('powertools', 'duplicate', () => powertools(pFirst));
  // Powertools' orphan path: an in-progress record whose Lambda ran out of time.
  const pCrashed = fresh();
  const orphanMaker = makeIdempotent(async (_event: Event, _context: unknown) => new Promise(() => undefined), {
    persistenceStore: new CachePersistenceLayer({ client: powertoolsClient(client) }),
    config: new IdempotencyConfig({ expiresAfterSeconds: 3600 }),
  });
  void orphanMaker(pCrashed, { ...lambdaContext(), getRemainingTimeInMillis: () => 50 });
  await new Promise((r) => setTimeout(r, 1100));
  await measure('powertools', 'expired lease', () => powertools(pCrashed));
  await monitor.stop();
  admin.disconnect();

  console.log('\n[bench] Redis calls per path, counted on the server (requests: MONITOR, sent by the client; in-script: run inside Lua)');
  console.log('[bench] library     path              requests  in-script  commandstats');
  for (const [lib, path, req, inScript, cmds] of rows) console.log(`[bench] ${lib.padEnd(11)} ${path.padEnd(17)} ${String(req).padStart(8)}  ${String(inScript).padStart(9)}  ${cmds}`);
}

async function countMongoCalls(): Promise<void> {
  if (!process.env.MONGODB_URI) return;
  const mongo = new MongoClient(process.env.MONGODB_URI, { monitorCommands: true, serverSelectionTimeoutMS: 3000 });
  const seen: string[] = [];
  mongo.on('commandStarted', (e) => {
    if (!['hello', 'isMaster', 'ping', 'endSessions'].includes(e.commandName)) seen.push(e.commandName);
  });
  try {
    await mongo.connect();
  } catch {
    console.log('\nMongoDB not reachable: MongoDB call counts skipped');
    return;
  }
  const collection = mongo.db('steadyfn_idempotency_bench').collection(`calls_${randomUUID().slice(0, 8)}`);
  const store = mongoStore({ collection });
  const cold = handler({ name: 'bench', logSink: () => undefined, use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, work);
  const warm = handler({ name: 'bench', logSink: () => undefined, use: [idempotency({ store, ttlMs: 3_600_000 })] }, work);
  const event = fresh();
  const count = async (run: () => Promise<unknown>) => {
    seen.length = 0;
    await run();
    return seen.join(' + ') || '(none)';
  };
  console.log('\n[bench] MongoDB (FerretDB) calls per path, by command monitoring');
  console.log(`[bench] first call       ${await count(() => cold.aws(event, lambdaContext()))}`);
  console.log(`[bench] duplicate        ${await count(() => cold.aws(event, lambdaContext()))}`);
  await warm.aws(event, lambdaContext());
  console.log(`[bench] local-cache hit  ${await count(() => warm.aws(event, lambdaContext()))}`);
  await collection.drop().catch(() => undefined);
  await mongo.close();
}

beforeAll(async () => {
  try {
    server = await startOwnRedis();
  } catch {
    // No redis-server binary here: use the shared service (counts may then include others' traffic).
    server = undefined;
  }
  client = new Redis(server?.url ?? process.env.REDIS_URL!);
  steady = makeSteady(client);
  steadyWarm = makeSteady(client, true);
  powertools = makePowertools(client);
  oneCommand = await makeOneCommandSteady(sourceModules, client);
  await countRedisCalls();
  await countMongoCalls();
  // The duplicate path replays this record.
  await steady(duplicateEvent);
  await powertools(duplicateEvent);
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

type Latency = { latency: { mean: number; p50?: number } };
const us = (r: unknown, stat: 'mean' | 'p50'): number => ((r as Latency).latency[stat] ?? Number.NaN) * 1000;

/**
 * The same comparison on the built packages: built-driver.mjs in a plain `node` child (this
 * process's Node, no loader, no NODE_OPTIONS), on this bench's redis-server, while this process
 * waits. Our code there is what users run — one tsup bundle per package entry — where under
 * vitest it runs as many source modules through vite's module runner.
 */
async function builtRun(url: string): Promise<Versus & { node: string; loaded: Record<string, string>; warmUpMs: number; floors: Floors }> {
  const driver = fileURLToPath(new URL('./built-driver.mjs', import.meta.url));
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [driver, url], { env, encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.split('\n').find((l) => l.startsWith(BUILT_MARKER));
  if (!line) throw new Error(`built-driver.mjs printed no result: ${stdout.slice(-500)}`);
  return JSON.parse(line.slice(BUILT_MARKER.length));
}

const ratioP50 = (r: Interleaved) => r.a.p50 / r.b.p50;
const cpuRatio = (r: CpuPair) => r.a / r.b;

test('duplicate path and first-call path against Powertools, same redis-server, same run: source under vitest, built in plain Node', { timeout: 600_000 }, async ({ bench }) => {
  const loadAtStart = loadavg();
  const options = { time: 2000, warmupTime: 300 };
  const duplicate = await bench.compare(
    bench('steadyfn duplicate', async () => {
      await steady(duplicateEvent);
    }),
    bench('powertools duplicate', async () => {
      await powertools(duplicateEvent);
    }),
    bench('steadyfn local-cache hit', async () => {
      await steadyWarm(duplicateEvent);
    }),
    options,
  );
  const first = await bench.compare(
    bench('steadyfn first call', async () => {
      await steady(fresh());
    }),
    bench('powertools first call', async () => {
      await powertools(fresh());
    }),
    options,
  );
  // tinybench runs one task after the other; on a shared machine load drifts between them.
  // The ratios come from an interleaved run instead: A and B alternate call by call.
  const source = await versusPowertools({ steady, steadyWarm, powertools, duplicateEvent, fresh, oneCommand });
  const row = (path: string, r: Interleaved) =>
    console.log(`[bench] ${path.padEnd(16)} ${r.a.p50.toFixed(1).padStart(12)}  ${r.b.p50.toFixed(1).padStart(14)}  ${ratioP50(r).toFixed(2).padStart(8)}×  ${(r.a.mean / r.b.mean).toFixed(2).padStart(9)}×`);
  const cpuRow = (path: string, r: CpuPair) => console.log(`[bench] ${path.padEnd(28)} ${r.a.toFixed(1).padStart(8)}  ${r.b.toFixed(1).padStart(8)}  ${cpuRatio(r).toFixed(2).padStart(6)}×`);
  const printVersus = (mode: string, v: Versus) => {
    console.log(`\n[bench] ${mode}: latency, same redis-server, same run, calls interleaved (µs; ratio = steadyfn / powertools)`);
    console.log('[bench] path              steadyfn p50  powertools p50  ratio p50  ratio mean');
    row('duplicate path', v.dup);
    row('first-call path', v.firstCall);
    row('local-cache hit', v.warm);
    console.log(`[bench] ${mode}: CPU time of the process per call (µs, p50 of batches of 20, interleaved; ratio = steadyfn / powertools)`);
    cpuRow('duplicate path', v.dupCpu);
    cpuRow('first-call path', v.firstCpu);
    if (v.dupOneCommand && v.dupOneCommandCpu) {
      console.log(`[bench] ${mode}: the duplicate path with a one-command claim (a prototype, not a product path: contenders.mjs makeOneCommandSteady), wall p50 then CPU`);
      row('dup, 1-command claim', v.dupOneCommand);
      cpuRow('dup, 1-command claim', v.dupOneCommandCpu);
    }
  };
  printVersus('source under vitest', source);
  console.log('[bench] (tinybench, sequential, source) duplicate p50 ratio', (us(duplicate.get('steadyfn duplicate'), 'p50') / us(duplicate.get('powertools duplicate'), 'p50')).toFixed(2), '× · first call', (us(first.get('steadyfn first call'), 'p50') / us(first.get('powertools first call'), 'p50')).toFixed(2), '×');
  const printFloors = (mode: string, f: Floors) => {
    console.log(`[bench] ${mode}: floors of the duplicate path against Powertools' two bare commands, wall p50 then CPU`);
    row('floor: 1 vs 2 bare commands', f.bare);
    row('floor: claim script vs 2 bare commands', f.script);
    cpuRow('floor: 1 vs 2 bare commands', f.bareCpu);
    cpuRow('floor: claim script vs 2 bare', f.scriptCpu);
  };
  printFloors('source under vitest', await floorsVersus(await makeFloors(client, redisLeaseStore)));

  const built = await builtRun(server?.url ?? process.env.REDIS_URL!);
  printVersus(`built (dist) in plain Node ${built.node}`, built);
  printFloors('built (dist) in plain Node', built.floors);
  console.log(`[bench] built run loaded ${Object.entries(built.loaded).map(([name, url]) => `${name} from ${url.replace(/^file:\/\/.*?\/(packages|node_modules)\//, '$1/')}`).join(', ')}`);
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(`[bench] load average (1, 5, 15 min) at the start ${load(loadAtStart)}, at the end ${load(loadavg())}`);

  const conditions = 'the same redis-server, calls interleaved';
  const builtHow = `built packages (dist) in plain Node, Powertools in the same process, ${conditions}`;
  const sourceHow = `our code from source under vitest (module runner), Powertools from node_modules, ${conditions}`;
  const vsPowertools = (key: string, r: Interleaved, cpu: CpuPair, path: string, how: string) => ({
    key,
    value: ratioP50(r),
    unit: '×' as const,
    detail: `${path}: p50 ${r.a.p50.toFixed(1)} µs vs ${r.b.p50.toFixed(1)} µs for Powertools idempotency (makeIdempotent, Redis persistence); mean ${(r.a.mean / r.b.mean).toFixed(2)}×, CPU ${cpuRatio(cpu).toFixed(2)}×; ${how}`,
  });
  const duplicatePath = 'a repeated invocation answered from the store';
  const firstPath = 'a first invocation (claim, function, completion)';
  recordBench(
    vsPowertools('idempotency.duplicate', built.dup, built.dupCpu, duplicatePath, builtHow),
    vsPowertools('idempotency.first', built.firstCall, built.firstCpu, firstPath, builtHow),
    vsPowertools('idempotency.duplicate.source', source.dup, source.dupCpu, duplicatePath, sourceHow),
    vsPowertools('idempotency.first.source', source.firstCall, source.firstCpu, firstPath, sourceHow),
  );
  const ratio = ratioP50(built.dup);
  const prototype = built.dupOneCommand && built.dupOneCommandCpu ? `; the one-command prototype, built: ${ratioP50(built.dupOneCommand).toFixed(2)}×, CPU ${cpuRatio(built.dupOneCommandCpu).toFixed(2)}×` : '';
  console.log(
    `[bench] duplicate-path goal ≤ 0.60× (built, as users run it): ${ratio <= 0.6 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}× at p50, interleaved; CPU time ${cpuRatio(built.dupCpu).toFixed(2)}×; from source under vitest ${ratioP50(source.dup).toFixed(2)}×, CPU ${cpuRatio(source.dupCpu).toFixed(2)}×${prototype})`,
  );
});
