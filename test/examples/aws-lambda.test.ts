/**
 * examples/aws-lambda, installed from the packed packages with npm outside the workspace, run
 * by the real Lambda runtime interface client (aws-lambda-ric against a Runtime API on
 * loopback) against Redis, SQS and S3 (moto): unbundled (ESM, the folder as `sam deploy`
 * uploads it) and bundled by its own `npm run build` as ESM and as CommonJS (a task root
 * holding the bundle alone). Each runs the whole orders scenario.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayV2 } from '../support/events.js';
import { deploymentDir, installExample, type InstalledExample } from '../support/examples/install.js';
import { mapQueue, startLambda, type LambdaFunction } from '../support/examples/lambda.js';
import { startAllOrNone } from '../support/examples/processes.js';
import { lowerCaseKeys, ordersEnv, runOrdersScenario, type OrdersDeployment, type OrdersEnv } from '../support/examples/orders.js';

const FUNCTIONS = ['createOrder', 'orderEvents', 'sweepOutbox', 'backupOrders', 'restoreDrill'] as const;
type Fns = Record<(typeof FUNCTIONS)[number], LambdaFunction>;

const scheduled = (rule: string) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
  detail: {},
});

type Json = Record<string, any>;

let example: InstalledExample;
/** Task roots: the installed folder, and a root holding each bundle alone. */
const taskRoots: Record<string, string> = {};
beforeAll(async () => {
  example = await installExample('aws-lambda');
  taskRoots.src = example.dir;
  // Built one after the other (one dist/), then run side by side.
  for (const build of ['esm', 'cjs'] as const) {
    await example.npmRun('build', build === 'cjs' ? ['--format=cjs'] : []);
    taskRoots[build] = deploymentDir(join(example.dir, 'dist'), [build === 'cjs' ? 'index.cjs' : 'index.mjs']);
  }
}, 300_000);
afterAll(() => example?.dispose());

async function startAll(taskRoot: string, module: string, env: NodeJS.ProcessEnv): Promise<Fns> {
  const started = await startAllOrNone(FUNCTIONS.map((name) => startLambda(taskRoot, `${module}.${name}`, env)));
  return Object.fromEntries(FUNCTIONS.map((name, i) => [name, started[i]])) as Fns;
}

/** The example as the scenario reaches it: API Gateway events, the SQS event source mapping, EventBridge schedules. */
function deployment(services: OrdersEnv, fns: Fns): OrdersDeployment {
  return {
    async create(input, headers) {
      const result = await fns.createOrder.invoke(apiGatewayV2(input, headers));
      expect(result.outcome, fns.createOrder.output()).toBe('response');
      const answer = result.body as Json;
      return { status: answer.statusCode, headers: lowerCaseKeys(answer.headers), body: JSON.parse(answer.body as string) };
    },
    consume: () =>
      mapQueue(
        services.sqs,
        services.queueUrl,
        services.queueArn,
        async (event) => {
          const result = await fns.orderEvents.invoke(event);
          expect(result.outcome, fns.orderEvents.output()).toBe('response');
          // Two copies of one event in a batch: the second is INBOX_IN_PROGRESS while the first
          // runs, reported failed, and answered as a duplicate when it comes back.
          return result.body as Json;
        },
        (bodies) => bodies.some((b) => JSON.parse(b).type === 'OrderDispatched'),
      ),
    async tick(fn) {
      const result = await fns[fn].invoke(scheduled(fn));
      expect(result.outcome, fns[fn].output()).toBe('response');
      // Lambda returns each function's result: what it did, in numbers.
      const expected = { sweepOutbox: { sent: 0, failed: 0, quarantined: 0 }, backupOrders: { status: 'complete', records: 1 }, restoreDrill: { records: 1 } }[fn];
      expect(result.body).toMatchObject(expected);
      return result.body;
    },
  };
}

describe.concurrent.each([
  { variant: 'unbundled (ESM, with node_modules)', build: undefined },
  { variant: 'bundled with esbuild as ESM', build: 'esm' },
  { variant: 'bundled with esbuild as CommonJS', build: 'cjs' },
] as const)('examples/aws-lambda $variant', ({ build }) => {
  it('places an order, replays its retry, runs the workflow from SQS, sweeps, backs up and drills', async () => {
    const services = await ordersEnv(`aws-${build ?? 'src'}`);
    let fns: Fns | undefined;
    try {
      await example.npmRun('seed', [], services.env);
      fns = await startAll(taskRoots[build ?? 'src']!, 'index', services.env);
      const lambda = deployment(services, fns);
      await runOrdersScenario(services, lambda, expect);
    } finally {
      if (fns) await Promise.all(Object.values(fns).map((f) => f.stop()));
      await services.dispose();
    }
  }, 240_000);
});
