/**
 * examples/openwhisk, as deployed by its manifest: `createOrder` is a web action annotated
 * `final`, with the configuration bound to the package (the manifest's `inputs`). The
 * controller refuses a request that names a bound parameter (`final`), but passes every other
 * request parameter through to the activation (apache/openwhisk WebActions.scala: only the
 * action's defined parameters are protected). A configuration name the manifest does not bind
 * (`OUTBOX_SWEEP_GRACE_MS`, `AWS_ENDPOINT_URL`) can therefore come from an anonymous HTTP
 * client, and must not become the container's configuration: one request with a bad value
 * would otherwise fail the application's start for every later request the warm container
 * serves (and a good-looking one would redirect its AWS clients).
 *
 * Installed from the packed packages with npm outside the workspace; run on the Node.js action
 * runtime's `/init` + `/run` contract, as the zip of `npm run zip` and the bundle of
 * `npm run build`, against Redis and SQS (moto).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerHttp } from '../../packages/handler/test/fixtures/openwhisk/controller.js';
import { root } from '../support/consumer.js';
import { installExample, type InstalledExample } from '../support/examples/install.js';
import { startAction, webActionParams } from '../support/examples/openwhisk.js';
import { ORDER, ORDER_TOTAL, ordersEnv } from '../support/examples/orders.js';

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
const code: Record<'zip' | 'bundle', string> = { zip: '', bundle: '' };
beforeAll(async () => {
  example = await installExample('openwhisk');
  await example.npmRun('build');
  code.bundle = readFileSync(join(example.dir, 'dist/index.js'), 'utf8');
  await example.npmRun('zip');
  code.zip = readFileSync(join(example.dir, 'action.zip')).toString('base64');
}, 300_000);
afterAll(() => example?.dispose());

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
  }, 120_000);
});
