/**
 * examples/azure-functions, installed from the packed packages with npm outside the workspace,
 * loaded by a stand-in for the Azure Functions Node.js worker (its `app.*` registrations
 * collected through `@azure/functions-core`, invoked with `@azure/functions` objects) against
 * Redis, SQS and S3 (moto): unbundled (ESM, package.json `main`) and the `npm run build`
 * bundles in ESM and CommonJS (dist/ alone, with @azure/functions beside it). The order events
 * are consumed by the SQS pull timer.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureApp, type AzureApp } from '../support/examples/azure.js';
import { deploymentDir, installExample, type InstalledExample } from '../support/examples/install.js';
import { lowerCaseKeys, ordersEnv, runOrdersScenario, type OrdersDeployment } from '../support/examples/orders.js';

let example: InstalledExample;
/** App folders and entries: the installed folder, and dist/ of each build alone (with @azure/functions beside it). */
const apps: Record<string, { dir: string; entry: string }> = {};
beforeAll(async () => {
  example = await installExample('azure-functions');
  apps.src = { dir: example.dir, entry: join(example.dir, 'src/functions/orders.mjs') };
  // Built one after the other (one dist/), then run side by side.
  for (const build of ['esm', 'cjs'] as const) {
    await example.npmRun('build', build === 'cjs' ? ['--format=cjs'] : []);
    const main = build === 'cjs' ? 'index.cjs' : 'index.mjs';
    const dir = deploymentDir(join(example.dir, 'dist'), [main, 'package.json', 'host.json']);
    symlinkSync(join(example.dir, 'node_modules'), join(dir, 'node_modules'), 'dir');
    apps[build] = { dir, entry: join(dir, main) };
  }
}, 300_000);
afterAll(() => example?.dispose());

function deployment(app: AzureApp): OrdersDeployment {
  const tick = async (fn: string) => {
    const answer = await app.invoke(fn, { timer: true });
    expect(answer, app.output()).toMatchObject({ ok: true });
    return answer.result;
  };
  return {
    async create(input, headers) {
      const answer = await app.invoke('createOrder', { http: { method: 'POST', url: 'https://orders.azurewebsites.net/api/orders', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) } });
      expect(answer.ok, `${answer.error} ${app.output()}`).toBe(true);
      return { status: answer.status!, headers: lowerCaseKeys(answer.headers), body: JSON.parse(answer.body!) };
    },
    async consume() {
      expect(await tick('pullOrderEvents')).toMatchObject({ handled: 3 + 2, failed: 0 });
      return undefined;
    },
    tick: async (fn) => {
      const result = await tick(fn);
      const expected = { sweepOutbox: { sent: 0, failed: 0, quarantined: 0 }, backupOrders: { status: 'complete', records: 1 }, restoreDrill: { records: 1 } }[fn];
      expect(result).toMatchObject(expected);
      return result;
    },
  };
}

describe.concurrent.each([
  { variant: 'unbundled (ESM, with node_modules)', build: undefined },
  { variant: 'bundled with esbuild as ESM', build: 'esm' },
  { variant: 'bundled with esbuild as CommonJS', build: 'cjs' },
] as const)('examples/azure-functions $variant', ({ build }) => {
  it('registers its functions, places an order, replays its retry, runs the workflow from SQS, sweeps, backs up and drills', async () => {
    const services = await ordersEnv(`azure-${build ?? 'src'}`);
    let app: AzureApp | undefined;
    try {
      await example.npmRun('seed', [], services.env);
      const { dir, entry } = apps[build ?? 'src']!;
      app = await startAzureApp(dir, entry, services.env);
      const functions = await app.functions();
      const byName = Object.fromEntries(functions.map((f) => [f.name, Object.values(f.bindings).find((b) => /Trigger$/.test(b.type))]));
      expect(byName).toEqual({
        createOrder: expect.objectContaining({ type: 'httpTrigger', route: 'orders', methods: ['POST'] }),
        pullOrderEvents: expect.objectContaining({ type: 'timerTrigger', schedule: '0 * * * * *' }),
        sweepOutbox: expect.objectContaining({ type: 'timerTrigger', schedule: '30 * * * * *' }),
        backupOrders: expect.objectContaining({ type: 'timerTrigger', schedule: '0 0 3 * * *' }),
        restoreDrill: expect.objectContaining({ type: 'timerTrigger', schedule: '0 0 5 * * *' }),
      });
      await runOrdersScenario(services, deployment(app), expect);
    } finally {
      await app?.stop();
      await services.dispose();
    }
  }, 240_000);
});
