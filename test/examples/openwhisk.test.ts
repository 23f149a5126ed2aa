/**
 * examples/openwhisk, installed from the packed packages with npm outside the workspace, run on
 * the Node.js action runtime's `/init` + `/run` contract (one container per action) against
 * Redis, SQS and S3 (moto), configured by bound parameters as the manifest's `inputs` bind
 * them: the zip of `npm run zip` (sent base64 as a `binary` action, which the runtime unpacks
 * and loads with require()) and the CommonJS bundle of `npm run build` (sent as the action's
 * code, which the runtime evaluates).
 *
 * Also: examples/openwhisk, as deployed by its manifest: `createOrder` is a web action annotated
 * `final`, with the configuration bound to the package (the manifest's `inputs`). The
 * controller refuses a request that names a bound parameter (`final`), but passes every other
 * request parameter through to the activation (apache/openwhisk WebActions.scala: only the
 * action's defined parameters are protected). A configuration name the manifest does not bind
 * (`OUTBOX_SWEEP_GRACE_MS`, `AWS_ENDPOINT_URL`) can therefore come from an anonymous HTTP
 * client, and must not become the container's configuration: one request with a bad value
 * would otherwise fail the application's start for every later request the warm container
 * serves (and a good-looking one would redirect its AWS clients).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerHttp } from '../../packages/handler/test/fixtures/openwhisk/controller.js';
import { root } from '../support/consumer.js';
import { installExample, type InstalledExample } from '../support/examples/install.js';
import { alarmParams, startAction, webActionParams, type ActionContainer } from '../support/examples/openwhisk.js';
import { startAllOrNone } from '../support/examples/processes.js';
import { lowerCaseKeys, ORDER, ORDER_TOTAL, ordersEnv, runOrdersScenario, type OrdersDeployment } from '../support/examples/orders.js';

const ACTIONS = ['createOrder', 'pullOrderEvents', 'sweepOutbox', 'backupOrders', 'restoreDrill'] as const;
type Actions = Record<(typeof ACTIONS)[number], ActionContainer>;
const CONFIG = ['REDIS_URL', 'ORDER_EVENTS_QUEUE_URL', 'BACKUP_BUCKET', 'ORDERS_PREFIX', 'OUTBOX_SWEEP_GRACE_MS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL'];

/** The parameters manifest.yaml binds to the `orders` package: what `final` protects. */
const manifest = parse(readFileSync(join(root, 'examples/openwhisk/manifest.yaml'), 'utf8')) as { packages: { orders: { inputs: Record<string, string> } } };
const BOUND = Object.keys(manifest.packages.orders.inputs);

/** A POST to the `final` web action as the controller makes it: a request naming a bound parameter is refused (400). */
function finalWebRequest(bound: Record<string, string>, body: Record<string, unknown>, headers: Record<string, string>) {
  const overriding = Object.keys(body).filter((k) => k in bound);
  if (overriding.length > 0) throw new Error(`the controller refuses a request defining ${overriding.join(', ')} (final)`);
  return webActionParams(bound, body, headers);
}

let example: InstalledExample;
/** The action's code as `wsk action create` sends it: the bundle's text, or the zip in base64. */
const code: Record<'zip' | 'bundle', string> = { zip: '', bundle: '' };
beforeAll(async () => {
  example = await installExample('openwhisk');
  await example.npmRun('build');
  code.bundle = readFileSync(join(example.dir, 'dist/index.js'), 'utf8');
  await example.npmRun('zip');
  code.zip = readFileSync(join(example.dir, 'action.zip')).toString('base64');
}, 300_000);
afterAll(() => example?.dispose());

function deployment(actions: Actions, bound: Record<string, string>): OrdersDeployment {
  const tick = async (fn: keyof Actions) => {
    const result = await actions[fn].run(alarmParams(bound, fn));
    expect(result.error, actions[fn].output()).toBeUndefined();
    return result;
  };
  return {
    async create(input, headers) {
      const result = await actions.createOrder.run(webActionParams(bound, input, headers));
      const answer = (result.error ?? result) as Record<string, any>; // a 5xx comes back under `error`
      return { status: answer.statusCode, headers: lowerCaseKeys(answer.headers), body: typeof answer.body === 'string' ? JSON.parse(answer.body) : answer.body };
    },
    async consume() {
      expect(await tick('pullOrderEvents')).toEqual({ handled: 5, failed: 0 });
      return undefined;
    },
    async tick(fn) {
      const result = await tick(fn);
      const expected = { sweepOutbox: { sent: 0, failed: 0, quarantined: 0 }, backupOrders: { status: 'complete', records: 1 }, restoreDrill: { records: 1 } }[fn];
      expect(result).toMatchObject(expected);
      return result;
    },
  };
}

describe.concurrent.each([
  { variant: 'zipped with its node_modules (npm run zip)', build: false },
  { variant: 'bundled with esbuild as CommonJS, sent as code', build: true },
])('examples/openwhisk $variant', ({ build }) => {
  it('places an order, replays its retry, runs the workflow from SQS, sweeps, backs up and drills', async () => {
    const services = await ordersEnv(`ow-${build ? 'bundle' : 'zip'}`);
    const bound = Object.fromEntries(CONFIG.filter((k) => services.env[k] !== undefined).map((k) => [k, services.env[k]!]));
    let actions: Actions | undefined;
    try {
      await example.npmRun('seed', [], services.env);
      const started = await startAllOrNone(ACTIONS.map((name) => startAction(code[build ? 'bundle' : 'zip'], name, name, !build)));
      actions = Object.fromEntries(ACTIONS.map((name, i) => [name, started[i]])) as Actions;
      await runOrdersScenario(services, deployment(actions, bound), expect);
    } finally {
      if (actions) await Promise.all(Object.values(actions).map((a) => a.stop()));
      await services.dispose();
    }
  }, 240_000);

  it('answers a web request with a 500 problem, not an empty 204, when the configuration is refused', async () => {
    const action = await startAction(code[build ? 'bundle' : 'zip'], 'createOrder', 'createOrder', !build);
    try {
      // No bound parameters: the application refuses its configuration.
      const result = await action.run(webActionParams({}, { sku: 'tea-42', quantity: 1 }, {}));
      const sent = controllerHttp(result);
      expect(sent.status).toBe(500);
      expect(JSON.parse(sent.body.toString())).toMatchObject({ code: 'CONFIG_INVALID' });
      // Any other activation gets the error itself.
      expect(await action.run(alarmParams({}, 'createOrder'))).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
    } finally {
      await action.stop();
    }
  }, 180_000);
});

it('examples/openwhisk/index.js takes on a web action exactly the configuration manifest.yaml binds', () => {
  const index = readFileSync(join(root, 'examples/openwhisk/index.js'), 'utf8');
  const listed = /const BOUND = \[([^\]]*)\]/.exec(index)?.[1];
  expect(listed, 'index.js declares BOUND').toBeDefined();
  expect([...listed!.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]).sort()).toEqual([...BOUND].sort());
});

describe.concurrent.each([
  { variant: 'zipped with its node_modules (npm run zip)', build: false },
  { variant: 'bundled with esbuild as CommonJS, sent as code', build: true },
])('examples/openwhisk createOrder (final web action) $variant', ({ build }) => {
  it('takes no configuration from a web request: an unbound configuration name in the body changes nothing', async () => {
    const services = await ordersEnv(`ow-webcfg-${build ? 'bundle' : 'zip'}`);
    // Exactly what the manifest binds (the SQS client reaches moto through the queue URL's host).
    const bound = Object.fromEntries(BOUND.map((k) => [k, services.env[k]!]));
    expect(BOUND).not.toContain('OUTBOX_SWEEP_GRACE_MS');
    const action = await startAction(code[build ? 'bundle' : 'zip'], 'createOrder', 'createOrder', !build);
    try {
      await example.npmRun('seed', [], services.env);
      const post = async (body: Record<string, unknown>, key: string) => {
        const sent = controllerHttp(await action.run(finalWebRequest(bound, body, { 'idempotency-key': key })));
        return { status: sent.status, body: JSON.parse(sent.body.toString()) as Record<string, unknown> };
      };
      // The container's first activation, from anyone on the internet; then the next
      // customer's order on the same warm container.
      const first = await post({ ...ORDER, OUTBOX_SWEEP_GRACE_MS: 'soon' }, 'webcfg-1');
      const second = await post(ORDER, 'webcfg-2');
      expect([first.status, second.status], `${JSON.stringify([first, second])}\n${action.output()}`).toEqual([201, 201]);
      for (const answer of [first, second]) expect(answer.body).toMatchObject({ status: 'placed', totalCents: ORDER_TOTAL });
    } finally {
      await action.stop();
      await services.dispose();
    }
  }, 240_000);
});
