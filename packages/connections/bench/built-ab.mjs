// A/B of the warm ctx.redis path on built code: two builds of @steadyfn/handler +
// @steadyfn/connections (each a directory holding packages/handler and packages/connections
// with their dist and node_modules links) loaded side by side in one plain Node process and
// run in interleaved batches against one redis-server, so load that comes and goes hits both
// builds alike. Invocations never overlap, so the two copies share the current-invocation
// tracking without confusion. For each build it times a handler doing one bare-client GET
// against the same handler with the plugin doing `ctx.redis.get`, and the same pair with a
// client that answers without the network. Prints wall p50 and CPU (process.cpuUsage) per
// call, and the plugin's added cost per build.
//
//   node packages/connections/bench/built-ab.mjs <redis url> <old root> <new root> [rounds] [swap]
//
// e.g. old root: a copy of main's build; new root: this worktree (after `toolchain.sh build`).
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [url, oldRoot, newRoot, roundsArg = '400'] = process.argv.slice(2);
if (!url || !oldRoot || !newRoot) {
  console.error('usage: node built-ab.mjs <redis url> <old root> <new root> [rounds] [swap]');
  process.exit(2);
}
const rounds = Number(roundsArg);
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };
const drop = () => undefined;

async function load(root) {
  const pkg = (name) => join(root, 'packages', name);
  for (const name of ['handler', 'connections']) {
    const newest = (dir) => Math.max(...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));
    let src;
    try {
      src = newest(join(pkg(name), 'src'));
    } catch {
      src = 0; // a copy of a build holds no sources
    }
    if (src > newest(join(pkg(name), 'dist'))) throw new Error(`${root}: ${name} dist is older than src; build first`);
  }
  const handler = await import(pathToFileURL(join(pkg('handler'), 'dist', 'index.js')).href);
  const connections = await import(pathToFileURL(join(pkg('connections'), 'dist', 'index.js')).href);
  const redisEntry = await import(pathToFileURL(join(pkg('connections'), 'dist', 'redis.js')).href);
  const { Redis } = createRequire(join(pkg('connections'), 'package.json'))('ioredis');
  return { handler, connections, redisEntry, Redis };
}

async function variants(label, root) {
  const { handler: h, connections: c, redisEntry: r, Redis } = await load(root);
  const bare = new Redis(url, { ...c.profileFor('aws').redis, lazyConnect: true });
  await bare.connect();
  await bare.set('bench:warm:k', 'v');
  const handle = r.redis({ url, provider: 'aws', name: `redis-${label}`, logger: h.createLogger({}, drop) });
  const plugin = c.connections({ redis: handle }, { closeOnSigterm: false });
  const noPluginGet = h.handler({ logSink: drop }, async () => bare.get('bench:warm:k'));
  const withPluginGet = h.handler({ use: [plugin], logSink: drop }, async (_i, ctx) => ctx.redis.get('bench:warm:k'));
  // The plugin's per-invocation work (extend, finally) alone: the function sends the bare GET.
  const withPluginBareGet = h.handler({ use: [plugin], logSink: drop }, async (_i, ctx) => (ctx.redis ? bare.get('bench:warm:k') : undefined));
  const instant = { get: (_key) => Promise.resolve('v'), getBuiltinCommands: () => ['get'] };
  const instantHandle = c.defineClient({ name: `instant-${label}`, create: () => instant });
  const instantView = r.commandView(instantHandle, await instantHandle.get());
  const withInstant = h.handler(
    { use: [c.connections({ redis: Object.assign(instantHandle, { contextValue: () => instantView }) }, { closeOnSigterm: false })], logSink: drop },
    async (_i, ctx) => ctx.redis.get('k'),
  );
  const noPluginInstant = h.handler({ logSink: drop }, async () => instant.get('k'));
  await withPluginGet(null, lambdaContext);
  return {
    close: async () => {
      bare.disconnect();
      await c.closeAll();
    },
    get: { bare: () => noPluginGet(null, lambdaContext), plugin: () => withPluginGet(null, lambdaContext), invocation: () => withPluginBareGet(null, lambdaContext) },
    instant: { bare: () => noPluginInstant(null, lambdaContext), plugin: () => withInstant(null, lambdaContext) },
  };
}

/**
 * p50 of wall and CPU µs per call of each named run, over interleaved batches. The order rotates
 * round by round (each run takes each place, none runs twice in a row): reversing it every other
 * round ran the first run ('old bare') twice in a row at each round boundary, and in A/A runs
 * (one build as both old and new) the old build's added cost came out about 0.5 µs higher.
 */
async function interleaved(runs, rounds, batch) {
  const names = Object.keys(runs);
  const wall = Object.fromEntries(names.map((n) => [n, []]));
  const cpu = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const run = runs[name];
      const cpuStart = process.cpuUsage();
      const started = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) await run();
      wall[name].push(Number(process.hrtime.bigint() - started) / 1000 / batch);
      const used = process.cpuUsage(cpuStart);
      cpu[name].push((used.user + used.system) / batch);
    }
  }
  const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wall: Object.fromEntries(names.map((n) => [n, p50(wall[n])])), cpu: Object.fromEntries(names.map((n) => [n, p50(cpu[n])])) };
}

// Which build is loaded (and so compiled and laid out in memory) first alternates between runs: pass `swap`.
const swap = process.argv[6] === 'swap';
const B = swap ? await variants('new', newRoot) : undefined;
const A = await variants('old', oldRoot);
const B2 = B ?? (await variants('new', newRoot));
try {
  const out = {};
  for (const pair of ['instant', 'get']) {
    const runs = { 'old bare': A[pair].bare, 'old plugin': A[pair].plugin, 'new bare': B2[pair].bare, 'new plugin': B2[pair].plugin };
    if (A[pair].invocation) Object.assign(runs, { 'old plugin, bare GET': A[pair].invocation, 'new plugin, bare GET': B2[pair].invocation });
    const batch = pair === 'get' ? 20 : 200;
    await interleaved(runs, Math.max(20, rounds / 10), batch); // warm-up
    const res = await interleaved(runs, rounds, batch);
    out[pair] = res;
    for (const m of ['wall', 'cpu']) {
      const r = res[m];
      const oldAdded = r['old plugin'] - r['old bare'];
      const newAdded = r['new plugin'] - r['new bare'];
      console.log(
        `[ab] ${pair.padEnd(7)} ${m.padEnd(4)} old: bare ${r['old bare'].toFixed(2)} plugin ${r['old plugin'].toFixed(2)} added +${oldAdded.toFixed(2)} µs | new: bare ${r['new bare'].toFixed(2)} plugin ${r['new plugin'].toFixed(2)} added +${newAdded.toFixed(2)} µs`,
      );
      if (r['old plugin, bare GET'] !== undefined) {
        const share = (b) => `invocation (extend/finally, bare GET) +${(r[`${b} plugin, bare GET`] - r[`${b} bare`]).toFixed(2)}, command through ctx.redis +${(r[`${b} plugin`] - r[`${b} plugin, bare GET`]).toFixed(2)}`;
        console.log(`[ab]         ${m.padEnd(4)} old: ${share('old')} | new: ${share('new')}`);
      }
    }
  }
  console.log(`[ab-json] ${JSON.stringify({ node: process.version, rounds, ...out })}`);
} finally {
  await A.close();
  await B2.close();
}
