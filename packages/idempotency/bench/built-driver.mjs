// The idempotency comparison on the code users run: our built packages (dist, one bundle per
// package entry, imported by package name through the workspace links and package.json
// `exports`) against Powertools' idempotency from node_modules, in one plain Node process,
// on the redis-server the caller names. idempotency.bench.ts runs it with the toolchain's Node
// and records its ratios; it can also be run by hand after a build:
//
//   node packages/idempotency/bench/built-driver.mjs redis://127.0.0.1:16379 [warm-up ms]
//
// Same contenders (contenders.mjs), same rounds and statistics (timing.mjs) as the source-mode
// rows; the JIT warm-up (both contenders alternately, per path) stands in for the tinybench
// tasks that warm both up before the source-mode rounds. Prints one JSON line after BUILT_MARKER.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { handler } from '@steadyfn/handler';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { redisLeaseStore } from '@steadyfn/lease';
import { duplicateEvent, fresh, makeFloors, makeOneCommandSteady, makePowertools, makeSteady } from './contenders.mjs';
import { BUILT_MARKER, floorsVersus, versusPowertools, warmUp } from './timing.mjs';

const [url, warmMs = '2300'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node built-driver.mjs <redis url> [warm-up ms per path]');
  process.exit(2);
}

// Where each contender was loaded from: ours must be dist, not src.
const loaded = Object.fromEntries(['@steadyfn/handler', '@steadyfn/idempotency', '@steadyfn/lease', '@aws-lambda-powertools/idempotency', 'ioredis'].map((name) => [name, import.meta.resolve(name)]));
// A build older than its sources would measure other code than the source-mode rows.
const newest = (dir) => Math.max(...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));
for (const name of ['@steadyfn/handler', '@steadyfn/idempotency', '@steadyfn/lease']) {
  if (!/\/dist\/[^/]+\.js$/.test(loaded[name])) throw new Error(`${name} resolved to ${loaded[name]}, not its build`);
  const dist = dirname(fileURLToPath(loaded[name]));
  if (newest(join(dist, '..', 'src')) > newest(dist)) throw new Error(`${name}: dist is older than src; build first (npm run bench builds)`);
}

const client = new Redis(url);
try {
  const modules = { handler, idempotency, redisStore };
  const steady = makeSteady(modules, client);
  const steadyWarm = makeSteady(modules, client, true);
  const powertools = makePowertools(client);
  const oneCommand = await makeOneCommandSteady(modules, client);
  // The duplicate path replays this record (written here, or already by the source-mode run).
  await steady(duplicateEvent);
  await powertools(duplicateEvent);
  const ms = Number(warmMs);
  await warmUp(() => steady(duplicateEvent), () => powertools(duplicateEvent), ms);
  await warmUp(() => steadyWarm(duplicateEvent), () => powertools(duplicateEvent), ms / 2);
  await warmUp(() => steady(fresh()), () => powertools(fresh()), ms);
  await warmUp(oneCommand, () => powertools(duplicateEvent), ms / 2);
  const result = await versusPowertools({ steady, steadyWarm, powertools, duplicateEvent, fresh, oneCommand });
  const floors = await floorsVersus(await makeFloors(client, redisLeaseStore));
  console.log(`${BUILT_MARKER}${JSON.stringify({ node: process.version, loaded, warmUpMs: ms, ...result, floors })}`);
} finally {
  client.disconnect();
}
