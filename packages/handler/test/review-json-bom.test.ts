/**
 * Review finding: a JSON body that starts with a UTF-8 byte order mark (`EF BB BF`) was answered
 * 400 MALFORMED_EVENT ("Request body is not valid JSON") on Lambda, GCP and raw OpenWhisk web
 * actions, and a queue message body with one failed `body: 'json'` as a terminal
 * MALFORMED_EVENT (or reached the function as text under `'auto'`). RFC 8259 §8.1 lets a parser
 * ignore a BOM and WHATWG's UTF-8 decode drops it (`response.json()`, and Azure's
 * `request.text()` — Azure alone took it); Windows clients send one (PowerShell 5.1
 * `Invoke-RestMethod` with a UTF-8 file body, .NET `Encoding.UTF8.GetBytes(preamble + json)`).
 * A leading BOM before JSON is ignored now, on every provider; `body: 'text'` is unchanged.
 *
 * Each path is driven through the harness its adapter's own tests use: Lambda events as the
 * runtime passes them, the Functions Framework's test server, the Azure worker's conversion of
 * the host's RPC data, the OpenWhisk controller's raw web-action params.
 */
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { installAzureWorker } from './support/azure-worker.js';
import { closeServers, serve } from './support/gcp-server.js';
import { lambdaContext, published, recorder } from './support/published.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

const worker = installAzureWorker();
afterAll(async () => {
  worker.uninstall();
  await closeServers();
});

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const ORDER = { orderId: 'o-1', quantity: 2 };
const withBom = (value: unknown): Buffer => Buffer.concat([BOM, Buffer.from(JSON.stringify(value), 'utf8')]);
const silent = { logSink: () => undefined };

async function zod() {
  return (await import('zod')).z;
}

describe('HTTP: a JSON body with a leading byte order mark is its JSON', () => {
  it('Lambda, API Gateway HTTP API (base64 body) and REST API (text body)', async () => {
    const { handler } = await import('../src/index.js');
    const z = await zod();
    const { seen, fn } = recorder((input) => input);
    const main = handler({ input: z.object({ orderId: z.string(), quantity: z.number() }), ...silent }, fn);
    const v2 = published('aws', 'apigw-http-v2.json');
    v2.body = withBom(ORDER).toString('base64');
    v2.isBase64Encoded = true;
    v2.headers = { ...v2.headers, 'content-type': 'application/json' };
    const v1 = published('aws', 'apigw-rest-post.json');
    v1.body = withBom(ORDER).toString('utf8');
    v1.isBase64Encoded = false;
    for (const event of [v2, v1]) {
      const res = (await main(event as never, lambdaContext() as never)) as { statusCode: number; body: string };
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual(ORDER);
    }
    expect(seen.map((s) => s.input)).toEqual([ORDER, ORDER]);
    // The exact bytes are still there, BOM included.
    const trigger = seen[0]!.ctx.trigger;
    expect(trigger.kind === 'http' && trigger.request.rawBytes?.subarray(0, 3)).toEqual(BOM);
  });

  it('GCP, on the Functions Framework', async () => {
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder((input) => input);
    const url = await serve('http', handler(silent, fn));
    const res = await request(url).post('/orders').set('content-type', 'application/json').send(withBom(ORDER).toString('utf8'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(ORDER);
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });

  it('GCP, without a content type: taken as JSON as it is without the BOM', async () => {
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder(() => 'ok');
    const url = await serve('http', handler(silent, fn));
    const res = await request(url).post('/orders').set('content-type', '').send(withBom(ORDER));
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });

  it('Azure, through the worker (the host sends the bytes)', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder((input) => input);
    app.http('bom-json', { methods: ['POST'], authLevel: 'anonymous', handler: handler(silent, fn) as never });
    const http = {
      method: 'POST',
      url: 'http://localhost:7071/api/bom-json',
      headers: { host: 'localhost:7071', 'content-type': 'application/json' },
      query: {},
      params: {},
      body: { bytes: withBom(ORDER) },
    };
    const response = await worker.respond('bom-json', 'inv-bom', {}, { http });
    expect(response.returnValue.http.statusCode).toBe('200');
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });

  it('OpenWhisk raw web action (the controller sends application/json base64)', async () => {
    const { handler } = await import('../src/openwhisk.js');
    const { seen, fn } = recorder((input) => input);
    const params = controllerParams({ method: 'POST', contentType: 'application/json', body: withBom(ORDER) }, true);
    const result = (await handler(silent, fn)(params)) as { statusCode: number; body: unknown };
    expect(result.statusCode).toBe(200);
    expect(result.body).toEqual(ORDER);
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });

  it('(control) body: "text" is not changed: on GCP the BOM is the text\'s first character', async () => {
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder(() => 'ok');
    const url = await serve('http', handler({ body: 'text', ...silent }, fn));
    await request(url).post('/t').set('content-type', 'application/json').send(withBom(ORDER).toString('utf8')).expect(200);
    expect(seen[0]!.input).toBe(`\ufeff${JSON.stringify(ORDER)}`);
  });

  it('(control) a body that is a BOM and no JSON is still a 400', async () => {
    const { handler } = await import('../src/index.js');
    const event = published('aws', 'apigw-rest-post.json');
    event.body = '\ufeff{oops';
    const res = (await handler(silent, () => 'never')(event as never, lambdaContext() as never)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'MALFORMED_EVENT' });
  });
});

describe('Queue messages: a JSON body with a leading byte order mark is parsed', () => {
  it('SQS under body: "json" (was a terminal MALFORMED_EVENT) and "auto" (was the text)', async () => {
    const { handler } = await import('../src/index.js');
    for (const body of ['json', 'auto'] as const) {
      const { seen, fn } = recorder();
      const main = handler({ body, ...silent }, fn);
      const event = published('aws', 'sqs-fifo.json');
      event.Records = event.Records.slice(0, 1);
      event.Records[0].body = withBom(ORDER).toString('utf8');
      const res = await main(event as never, lambdaContext() as never);
      expect(res).toEqual({ batchItemFailures: [] });
      expect(seen.map((s) => s.input)).toEqual([ORDER]);
    }
  });

  it('Azure Storage queue, through the worker (the host sends the message as text)', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder();
    app.storageQueue('bom-queue', { connection: 'AzureWebJobsStorage', queueName: 'orders', handler: handler({ body: 'json', ...silent }, fn) as never });
    const f = published('azure', 'rpc-storage-queue.json');
    const text = withBom(ORDER).toString('utf8');
    await worker.invoke('bom-queue', 'inv-bq', { ...f.triggerMetadata, QueueTrigger: { string: text } }, { string: text });
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });

  it('Pub/Sub CloudEvent on the Functions Framework: base64 data with a BOM', async () => {
    const { handler } = await import('../src/index.js');
    const { seen, fn } = recorder();
    const url = await serve('cloudEvent', handler(silent, fn));
    const ce = published('gcp', 'pubsub-structured.json');
    ce.data.message.data = withBom(ORDER).toString('base64');
    delete ce.data.message.attributes;
    await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(ce)).expect(204);
    expect(seen.map((s) => s.input)).toEqual([ORDER]);
  });
});
