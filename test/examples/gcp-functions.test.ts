/**
 * examples/gcp-functions, installed from the packed packages with npm outside the workspace,
 * served by the Functions Framework CLI from its own node_modules (one process per function, as
 * Cloud Functions runs them) against Redis, SQS and S3 (moto): unbundled (ESM, the folder
 * `gcloud functions deploy --source=.` uploads) and the `npm run build` bundles in ESM and
 * CommonJS (dist/ alone, with the framework beside it). Scheduled functions get Cloud Scheduler
 * ticks as Pub/Sub CloudEvents; the order events are consumed by the SQS pull function.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentDir, installExample, type InstalledExample } from '../support/examples/install.js';
import { schedulerTick, startCloudFunction, type CloudFunction } from '../support/examples/gcp.js';
import { startAllOrNone } from '../support/examples/processes.js';
import { lowerCaseKeys, ordersEnv, runOrdersScenario, type OrdersDeployment } from '../support/examples/orders.js';

const FUNCTIONS = ['createOrder', 'pullOrderEvents', 'sweepOutbox', 'backupOrders', 'restoreDrill'] as const;
type Fns = Record<(typeof FUNCTIONS)[number], CloudFunction>;

let example: InstalledExample;
/** Sources: the installed folder, and dist/ of each build alone (with the framework beside it). */
const sources: Record<string, string> = {};
beforeAll(async () => {
  example = await installExample('gcp-functions');
  sources.src = example.dir;
  // Built one after the other (one dist/), then run side by side.
  for (const build of ['esm', 'cjs'] as const) {
    await example.npmRun('build', build === 'cjs' ? ['--format=cjs'] : []);
    sources[build] = deploymentDir(join(example.dir, 'dist'), [build === 'cjs' ? 'index.cjs' : 'index.mjs', 'package.json']);
    // What the platform installs from dist/package.json: the Functions Framework alone.
    symlinkSync(join(example.dir, 'node_modules'), join(sources[build]!, 'node_modules'), 'dir');
  }
}, 300_000);
afterAll(() => example?.dispose());

function deployment(fns: Fns): OrdersDeployment {
  const tick = async (fn: keyof Fns) => {
    const res = await fetch(fns[fn].url, schedulerTick(fn));
    // A CloudEvent function answers 2xx with no body when it succeeded, non-2xx when it failed.
    expect(res.status, fns[fn].output()).toBe(204);
  };
  return {
    async create(input, headers) {
      const res = await fetch(`${fns.createOrder.url}orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
      return { status: res.status, headers: lowerCaseKeys(Object.fromEntries(res.headers)), body: await res.json() };
    },
    async consume() {
      await tick('pullOrderEvents');
      return undefined;
    },
    tick,
    logs: (fn) => fns[fn].output().slice(-3000),
  };
}

describe.concurrent.each([
  { variant: 'unbundled (ESM, with node_modules)', build: undefined },
  { variant: 'bundled with esbuild as ESM', build: 'esm' },
  { variant: 'bundled with esbuild as CommonJS', build: 'cjs' },
] as const)('examples/gcp-functions $variant', ({ build }) => {
  it('places an order, replays its retry, runs the workflow from SQS, sweeps, backs up and drills', async () => {
    const services = await ordersEnv(`gcp-${build ?? 'src'}`);
    let fns: Fns | undefined;
    try {
      await example.npmRun('seed', [], services.env);
      const source = sources[build ?? 'src']!;
      const started = await startAllOrNone(FUNCTIONS.map((fn) => startCloudFunction(source, fn, services.env)));
      fns = Object.fromEntries(FUNCTIONS.map((fn, i) => [fn, started[i]])) as Fns;
      await runOrdersScenario(services, deployment(fns), expect);
      // Cloud Functions sends every method to an HTTP function: createOrder answers only POST.
      const get = await fetch(`${fns.createOrder.url}orders?items=tea-42`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(await get.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    } finally {
      if (fns) await Promise.all(Object.values(fns).map((f) => f.stop()));
      await services.dispose();
    }
  }, 240_000);
});
