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
import { mapQueue, receive, startLambda, type LambdaFunction } from '../support/examples/lambda.js';
import { ORDER, ORDER_TOTAL, ordersEnv, WORKFLOW_EVENTS, type OrdersEnv } from '../support/examples/orders.js';

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
const body = (result: { body: Json }) => JSON.parse(result.body.body as string) as Json;
const header = (result: { body: Json }, name: string) => Object.entries(result.body.headers as Record<string, string>).find(([k]) => k.toLowerCase() === name)?.[1];

let example: InstalledExample;
beforeAll(async () => {
  example = await installExample('aws-lambda');
}, 300_000);
afterAll(() => example?.dispose());

async function startAll(taskRoot: string, module: string, env: NodeJS.ProcessEnv): Promise<Fns> {
  const started = await Promise.all(FUNCTIONS.map((name) => startLambda(taskRoot, `${module}.${name}`, env)));
  return Object.fromEntries(FUNCTIONS.map((name, i) => [name, started[i]])) as Fns;
}

/** The orders scenario on one deployment of the example. */
async function scenario(services: OrdersEnv, fns: Fns): Promise<void> {
  const key = `k-${randomUUID()}`;
  const create = (input: unknown, headers: Record<string, string> = { 'idempotency-key': key }) => fns.createOrder.invoke(apiGatewayV2(input, headers));

  // Create an order; the retry replays the first answer.
  const first = await create(ORDER);
  expect(first.body.statusCode, fns.createOrder.output()).toBe(201);
  const placed = body(first);
  expect(placed).toMatchObject({ status: 'placed', totalCents: ORDER_TOTAL });
  const again = await create(ORDER);
  expect(again.body.statusCode).toBe(201);
  expect(body(again)).toEqual(placed);
  expect(header(again, 'idempotency-replayed')).toBe('true');
  expect(await services.status(placed.orderId)).toBe('placed');

  // Refusals: invalid input, an unknown product, no Idempotency-Key.
  expect(body(await create({ customerId: '', items: [] }, { 'idempotency-key': `${key}-bad` }))).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  expect(body(await create({ customerId: 'c-1', items: [{ sku: 'nope', qty: 1 }] }, { 'idempotency-key': `${key}-sku` }))).toMatchObject({ code: 'UNKNOWN_SKU', status: 422 });
  expect(body(await create(ORDER, {}))).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING', status: 400 });

  // The OrderPlaced event was relayed to SQS by the commit's flush; the consumer runs the workflow.
  const consumed = await mapQueue(
    services.sqs,
    services.queueUrl,
    services.queueArn,
    async (event) => {
      const result = await fns.orderEvents.invoke(event);
      expect(result.outcome, fns.orderEvents.output()).toBe('response');
      return result.body as Json;
    },
    (bodies) => bodies.some((b) => JSON.parse(b).type === 'OrderDispatched'),
  );
  expect(consumed.map((b) => JSON.parse(b).type)).toEqual(WORKFLOW_EVENTS);
  expect(await services.status(placed.orderId)).toBe('dispatched');
  const events = consumed.map((b) => JSON.parse(b) as Json);
  expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  expect(new Set(events.map((e) => e.aggregateId))).toEqual(new Set([placed.orderId]));

  // A redelivered event is an inbox duplicate: nothing runs again, no new event is sent.
  await services.send(consumed[2]!);
  const redelivered = await receive(services.sqs, services.queueUrl, 2);
  expect(redelivered).toHaveLength(1);
  const duplicate = await fns.orderEvents.invoke({ Records: [{ messageId: redelivered[0]!.MessageId, receiptHandle: redelivered[0]!.ReceiptHandle, body: redelivered[0]!.Body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: services.queueArn, awsRegion: 'us-east-1' }] });
  expect(duplicate.body).toEqual({ batchItemFailures: [] });
  expect(await services.status(placed.orderId)).toBe('dispatched');

  // The sweeper finds nothing pending: every event left with its commit.
  const swept = await fns.sweepOutbox.invoke(scheduled('sweep-outbox'));
  expect(swept.body).toMatchObject({ sent: 0, failed: 0, quarantined: 0 });

  // A snapshot backup of the orders, then a restore drill of it.
  const backup = await fns.backupOrders.invoke(scheduled('backup-orders'));
  expect(backup.outcome, fns.backupOrders.output()).toBe('response');
  expect(backup.body).toMatchObject({ status: 'complete', records: 1 });
  const drill = await fns.restoreDrill.invoke(scheduled('restore-drill'));
  expect(drill.outcome, fns.restoreDrill.output()).toBe('response');
  expect(drill.body).toMatchObject({ backupId: backup.body.backupId, records: 1 });
  const reports = (await services.backupObjects()).filter((o) => o.key.includes('/drills/'));
  expect(reports).toHaveLength(1);
  expect(await services.readJson(reports[0]!.key)).toMatchObject({ ok: true, datasets: [expect.objectContaining({ expectedCount: 1, restoredCount: 1 })] });
  expect(await services.keys(':drill:*')).toEqual([]);
}

describe.each([
  { variant: 'unbundled (ESM, with node_modules)', build: undefined },
  { variant: 'bundled with esbuild as ESM', build: 'esm' },
  { variant: 'bundled with esbuild as CommonJS', build: 'cjs' },
] as const)('examples/aws-lambda $variant', ({ build }) => {
  it('places an order, replays its retry, runs the workflow from SQS, sweeps, backs up and drills', async () => {
    const services = await ordersEnv(`aws-${build ?? 'src'}`);
    let fns: Fns | undefined;
    try {
      await example.npmRun('seed', [], services.env);
      let taskRoot = example.dir;
      if (build) {
        await example.npmRun('build', build === 'cjs' ? ['--format=cjs'] : []);
        const file = build === 'cjs' ? 'index.cjs' : 'index.mjs';
        taskRoot = deploymentDir(join(example.dir, 'dist'), [file]);
      }
      fns = await startAll(taskRoot, 'index', services.env);
      await scenario(services, fns);
    } finally {
      if (fns) await Promise.all(Object.values(fns).map((f) => f.stop()));
      await services.dispose();
    }
  }, 240_000);
});
