// Bytes allocated per warm invocation on built code (the V8 sampling heap profiler, counting
// objects collected since: every allocation, not what stays alive), for a handler whose
// function sends one command on a client that answers without the network: with the
// connections plugin (`ctx.redis.get`) and without it (the same client called directly).
// Run after a build, with a root holding packages/handler and packages/connections:
//
//   node packages/connections/bench/built-alloc.mjs <root> [invocations]
//
// Prints the total per invocation and the functions that allocated most (inlined callees are
// counted in their caller). A sampled estimate: compare builds with several runs each.
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, countArg = '100000'] = process.argv.slice(2);
if (!root) {
  console.error('usage: node built-alloc.mjs <root> [invocations]');
  process.exit(2);
}
const count = Number(countArg);
const dist = (pkg, entry) => import(pathToFileURL(join(root, 'packages', pkg, 'dist', entry)).href);
const h = await dist('handler', 'index.js');
const c = await dist('connections', 'index.js');
const r = await dist('connections', 'redis.js');
const drop = () => undefined;
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };
const instant = { get: (_key) => Promise.resolve('v'), getBuiltinCommands: () => ['get'] };
const handle = c.defineClient({ name: 'instant', create: () => instant });
const view = r.commandView(handle, await handle.get());
const plugin = c.connections({ redis: Object.assign(handle, { contextValue: () => view }) }, { closeOnSigterm: false });
const variants = {
  'without the plugin': h.handler({ logSink: drop }, async () => instant.get('k')),
  'with connections + ctx.redis.get': h.handler({ use: [plugin], logSink: drop }, async (_i, ctx) => ctx.redis.get('k')),
};

const session = new Session();
session.connect();
for (const [name, fn] of Object.entries(variants)) {
  for (let i = 0; i < 20_000; i++) await fn(null, lambdaContext);
  await session.post('HeapProfiler.startSampling', { samplingInterval: 32, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let i = 0; i < count; i++) await fn(null, lambdaContext);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map();
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize) {
      const site = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  console.log(`[alloc] ${name}: ${Math.round(total / count)} B per invocation`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`[alloc]   ${String(Math.round(bytes / count)).padStart(5)} B ${site}`);
}
session.disconnect();
