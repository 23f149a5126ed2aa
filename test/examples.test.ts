/**
 * Every provider example, run the way its provider runs it, gives the same business result
 * for the same order — and each reports failures in its own provider's shape.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import * as azureModule from '@azure/functions';
import { main as lambdaMain } from '../examples/aws-lambda/index.mjs';
import { main as azureMain } from '../examples/azure-functions/src/functions/orders.mjs';
import '../examples/gcp-functions/index.mjs';
import { apiGatewayV2, pubsubCloudEvent, sqsRecord } from './support/events.js';

const require = createRequire(import.meta.url);
const azure = ((azureModule as unknown as { default?: typeof azureModule }).default ?? azureModule) as typeof azureModule;
const order = { sku: 'tea-42', qty: 2 };
const expected = { accepted: true, sku: 'tea-42', qty: 2 };

const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });
let gcpHttpUrl = '';
let gcpEventUrl = '';
const servers: Array<{ close(cb: () => void): void }> = [];
let openwhiskMain: (params: unknown) => Promise<Record<string, unknown>>;

async function listen(name: string): Promise<string> {
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  gcpHttpUrl = await listen('orders');
  gcpEventUrl = await listen('orderMessages');
  const cjs = new URL('../packages/handler/dist/index.cjs', import.meta.url);
  if (!existsSync(cjs)) throw new Error('packages/handler/dist is missing: the OpenWhisk example loads the CommonJS build (run `npm run build`)');
  openwhiskMain = require('../examples/openwhisk/index.js').main;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function viaLambdaHttp(body: unknown) {
  const res = (await lambdaMain(apiGatewayV2(body), lambdaContext('l1'))) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) };
}
async function viaGcpHttp(body: unknown) {
  const res = await fetch(`${gcpHttpUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
async function viaAzureHttp(body: unknown) {
  const request = new azure.HttpRequest({ method: 'POST', url: 'http://localhost/api/orders', headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify(body) } });
  const context = new azure.InvocationContext({ invocationId: 'a1', functionName: 'orders', options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [], extraOutputs: [] } });
  const res = (await azureMain(request, context)) as { status: number; body: string };
  // The host builds its response from what the function returned; so do we.
  const http = new azure.HttpResponse(res);
  return { status: http.status, body: await http.json() };
}
async function viaOpenWhiskWeb(body: Record<string, unknown>) {
  process.env.__OW_ACTIVATION_ID = 'ow1';
  process.env.__OW_DEADLINE = String(Date.now() + 60_000);
  try {
    const res = await openwhiskMain({ ...body, __ow_method: 'post', __ow_headers: { 'content-type': 'application/json' }, __ow_path: '' });
    // A JSON web-action body may be a JSON object or its text; the controller sends either as JSON.
    return { status: res.statusCode as number, body: typeof res.body === 'string' ? JSON.parse(res.body) : res.body };
  } finally {
    delete process.env.__OW_ACTIVATION_ID;
    delete process.env.__OW_DEADLINE;
  }
}

describe('the provider examples agree', () => {
  it('give the same business result over HTTP on all four providers', async () => {
    const results = await Promise.all([viaLambdaHttp(order), viaGcpHttp(order), viaAzureHttp(order), viaOpenWhiskWeb(order)]);
    for (const r of results) expect(r).toEqual({ status: 200, body: expected });
  });

  it('reject the same invalid order with the same 400 problem on all four providers', async () => {
    const bad = { sku: '', qty: 0 };
    const results = await Promise.all([viaLambdaHttp(bad), viaGcpHttp(bad), viaAzureHttp(bad), viaOpenWhiskWeb(bad)]);
    for (const r of results) {
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      expect(r.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['qty', 'sku']);
    }
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
  });

  it('process queue messages with the same result, and report a terminal failure in each provider’s way', async () => {
    // Lambda SQS: only the failed message is reported.
    const sqs = await lambdaMain({ Records: [sqsRecord('m1', order), sqsRecord('m2', { sku: 'discontinued', qty: 1 })] }, lambdaContext('l2'));
    expect(sqs).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });

    // Pub/Sub CloudEvent (binary content mode): 2xx on success, non-2xx on failure.
    const pubsub = (id: string, body: unknown) => fetch(gcpEventUrl, pubsubCloudEvent(id, body));
    expect((await pubsub('p1', order)).status).toBe(204);
    expect((await pubsub('p2', { sku: 'discontinued', qty: 1 })).status).toBeGreaterThanOrEqual(400);

    // Azure storage queue: the result on success, a throw (host redelivers) on failure.
    const queueContext = (id: string) =>
      new azure.InvocationContext({
        invocationId: `q-${id}`,
        functionName: 'orderMessages',
        options: { trigger: { type: 'queueTrigger', name: 'item', queueName: 'orders' }, extraInputs: [], extraOutputs: [] },
        triggerMetadata: { id, dequeueCount: 1, popReceipt: 'pr', insertionTime: new Date().toISOString() },
      });
    await expect(azureMain(order, queueContext('q1'))).resolves.toEqual(expected);
    await expect(azureMain({ sku: 'discontinued', qty: 1 }, queueContext('q2'))).rejects.toMatchObject({ code: 'DISCONTINUED' });

    // OpenWhisk plain activation: the result, or `{ error }` instead of a throw.
    process.env.__OW_ACTIVATION_ID = 'ow2';
    try {
      await expect(openwhiskMain(order)).resolves.toEqual(expected);
      await expect(openwhiskMain({ sku: 'discontinued', qty: 1 })).resolves.toMatchObject({ error: { code: 'DISCONTINUED', retryable: false } });
    } finally {
      delete process.env.__OW_ACTIVATION_ID;
    }
  });
});
