/**
 * More public bug reports against peer libraries and Lambda handlers (middy's body parsers,
 * lambda-middleware, terraform-aws-github-runner's SQS handler), each replayed against
 * steadyfn with the report's input shape. The test name cites the report; the assertion is
 * what steadyfn must do instead. (peer-bug-replays.test.ts holds the first set.)
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { HttpRequest, trigger } from '@azure/functions';
import { afterAll, describe, expect, it } from 'vitest';
import { handler, httpError, httpResult } from '../src/index.js';
import { invocationContext } from './support/azure.js';
import { closeServers, serve } from './support/gcp-server.js';
import { kinesisRecord } from './support/kinesis-aggregation.js';
import { lambdaContext, published, recorder, type Json } from './support/published.js';

afterAll(closeServers);

const quiet = { logSink: () => undefined };

/** An SQS record of a standard queue, as Lambda delivers it. */
function sqsRecord(messageId: string, body: string): Json {
  return {
    messageId,
    receiptHandle: `rh-${randomUUID()}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1700000000001' },
    messageAttributes: {},
    md5OfBody: 'ignored',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:scale-up',
    awsRegion: 'us-east-1',
  };
}

/** A REST API (payload 1.0) POST with `contentType` and `body`. */
function restPost(contentType: string, body: string): Json {
  return {
    resource: '/orders',
    path: '/orders',
    httpMethod: 'POST',
    headers: { Host: 'api.example.com', 'Content-Type': contentType },
    multiValueHeaders: { Host: ['api.example.com'], 'Content-Type': [contentType] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { resourcePath: '/orders', httpMethod: 'POST', stage: 'prod', requestId: randomUUID(), path: '/prod/orders', accountId: '123456789012', apiId: 'abc123', identity: { sourceIp: '203.0.113.9' } },
    body,
    isBase64Encoded: false,
  };
}

describe('SQS batches with a poison message', () => {
  it('github-aws-runners/terraform-aws-github-runner#5215 ("stop a malformed SQS body from poisoning the whole batch"): with body "json", an unparseable body fails that message alone; the valid ones run and are not redelivered', async () => {
    const { seen, fn } = recorder();
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2'), sqsRecord('m-3', '{"id":3}')] };
    const answer = await handler({ ...quiet, body: 'json' }, fn).aws(event, lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ id: 1 }, { id: 3 }]);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });

  it('github-aws-runners/terraform-aws-github-runner#5129 ("return batch failures on unhandled errors instead of dropping messages"): an unexpected error is reported in batchItemFailures, never answered as an empty list that deletes the batch', async () => {
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2}')] };
    const answer = await handler(quiet, (input) => {
      if ((input as Json).id === 2) throw new TypeError("Cannot read properties of undefined (reading 'owner')");
    }).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });

  it('github-aws-runners/terraform-aws-github-runner#5129, terminal errors: a function error marked not retryable still fails its message (Lambda must not delete it; the queue\'s redrive policy moves it to the DLQ)', async () => {
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2}')] };
    const answer = await handler(quiet, (input) => {
      if ((input as Json).id === 1) throw httpError(422, 'UNKNOWN_OWNER', 'no such owner');
    }).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

describe('JSON media types with parameters or suffixes', () => {
  it.each([
    ['middyjs/middy#84 / PR #82 ("properly parse content-type when it contains encoding info")', 'application/json; charset=utf-8'],
    ['dbartholomae/lambda-middleware#61 ("JsonDeserializer does not accept content-type header with charset")', 'application/json;charset=UTF-8'],
    ['middyjs/middy PR #1287 (RFC 7231 §3.1.1.1 spellings: case and a quoted charset)', 'Application/JSON; Charset="utf-8"'],
    ['middyjs/middy PR #562 ("http-json-body-parser handles JSON Media Type Suffix", RFC 6839)', 'application/vnd.api+json'],
    ['aws/chalice#180 ("Doesn\'t detect JSON when Content-Type contains charset")', 'application/json ; charset=utf-8'],
  ])('%s: %s reaches the function parsed', async (_report, contentType) => {
    const { seen, fn } = recorder();
    const answer = (await handler(quiet, fn).aws(restPost(contentType, '{"data":"foo","amount":1.50}'), lambdaContext())) as Json;
    expect(answer.statusCode).toBeLessThan(300);
    expect(seen[0]!.input).toEqual({ data: 'foo', amount: 1.5 });
  });

  it('middyjs/middy#939 with a charset: JSON text that does not parse under application/json; charset=utf-8 is a 400 naming body, and the function does not run', async () => {
    const { seen, fn } = recorder();
    const answer = (await handler({ ...quiet, body: 'json' }, fn).aws(restPost('application/json; charset=utf-8', '{"data":'), lambdaContext())) as Json;
    expect(seen).toHaveLength(0);
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string)).toMatchObject({ code: 'MALFORMED_EVENT' });
  });
});

describe('Azure Functions HTTP bodies (the real @azure/functions HttpRequest)', () => {
  const post = (body: string) =>
    new HttpRequest({ method: 'POST', url: 'https://orders.azurewebsites.net/api/todos', headers: { 'content-type': 'application/json' }, body: { string: body } });
  const context = () => invocationContext(published('azure', 'http-easy-auth.json').context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' }));

  it('Azure/azure-functions-host#346 ("req.body for a HTTP post request returns an object of type string for JSON array instead of type object"): a JSON array body reaches the function as an array', async () => {
    const { seen, fn } = recorder();
    const todos = [
      { rowKey: '000123', item: 'Todo Item 1', completed: false },
      { rowKey: '000124', item: 'Todo Item 2', completed: false },
    ];
    const answer = (await handler(quiet, fn)(post(JSON.stringify(todos, null, 4)), context())) as Json;
    expect(answer.status).toBeLessThan(300);
    expect(seen[0]!.input).toEqual(todos);
  });

  it('Azure/azure-functions-host#5301 ("req.body ... returns an object of type string and makes the properties undefined" — the body had a trailing comma): JSON text that does not parse under application/json is a 400 MALFORMED_EVENT naming body, and the function does not run on a string', async () => {
    const { seen, fn } = recorder();
    const answer = (await handler(quiet, fn)(post('{\n    "pattern": "test",\n    "flags": "g",\n    "input": "this is a test",\n}'), context())) as Json;
    expect(seen).toHaveLength(0);
    expect(answer.status).toBe(400);
    const problem = JSON.parse(String(answer.body)) as Json;
    expect(problem).toMatchObject({ code: 'MALFORMED_EVENT' });
    expect(JSON.stringify(problem)).toContain('body');
  });
});

describe('Functions Framework CloudEvents', () => {
  it('GoogleCloudPlatform/functions-framework-dart#1 (the binary-mode Pub/Sub request the contract says to parse: ce-* headers, Content-Type application/json; charset=utf-8): the message data is decoded and its attributes and id kept', async () => {
    const { seen, fn } = recorder();
    const url = await serve('cloudEvent', handler(quiet, fn));
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'ce-specversion': '1.0',
        'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
        'ce-source': '//pubsub.googleapis.com/projects/my-project/topics/my-topic',
        'ce-time': '2020-09-05T03:56:24Z',
        'ce-id': '1234-1234-1234',
      },
      body: JSON.stringify({
        subscription: 'projects/my-project/subscriptions/my-subscription',
        message: { '@type': 'type.googleapis.com/google.pubsub.v1.PubsubMessage', attributes: { attr1: 'attr1-value' }, data: 'dGVzdCBtZXNzYWdlIDM=', messageId: '1234-1234-1234' },
      }),
    });
    await res.arrayBuffer();
    expect(res.status).toBeLessThan(300);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.input).toBe('test message 3');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', attributes: { attr1: 'attr1-value' }, queue: 'projects/my-project/subscriptions/my-subscription' });
  });
});

describe('stream records that are not UTF-8 or not JSON', () => {
  const records = () => [
    kinesisRecord(Buffer.from('{"order":1}'), 'p', '49590338271490256608559692538361571095921575989136588801'),
    kinesisRecord(Buffer.from([0xdb, 0xc8, 0xff, 0x00, 0x7b]), 'p', '49590338271490256608559692538361571095921575989136588802'),
    kinesisRecord(Buffer.from('{"order":3}'), 'p', '49590338271490256608559692538361571095921575989136588803'),
  ];

  it('opensearch-project/data-prepper PR #6746 ("Drop Kinesis records with invalid UTF-8 bytes" instead of crashing the pipeline) and Nordstrom/hello-retail PR #68: with body "auto" a record that is not UTF-8 reaches the function as its exact bytes, and the batch goes on', async () => {
    const { seen, fn } = recorder();
    const answer = await handler(quiet, fn).aws({ Records: records() }, lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ order: 1 }, Buffer.from([0xdb, 0xc8, 0xff, 0x00, 0x7b]), { order: 3 }]);
    expect(answer === undefined || (answer as Json).batchItemFailures?.length === 0).toBe(true);
  });

  it('Nordstrom/hello-retail PR #68 ("protect from kinesis payloads that fail decoding or parsing"), with body "json": the record that is not JSON is neither dropped nor fatal to the batch — the records before it run, it and those after it are reported from its sequence number, so the shard resumes there in order', async () => {
    const { seen, fn } = recorder();
    const answer = await handler({ ...quiet, body: 'json' }, fn).aws({ Records: records() }, lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ order: 1 }]);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49590338271490256608559692538361571095921575989136588802' }] });
  });
});

describe('multi-byte response bodies over a real HTTP server', () => {
  it('aws/chalice PR #910 ("Fixed message truncation bug": Content-Length from the string length, not its UTF-8 bytes) and sst PR #3584: a body with multi-byte characters arrives whole through the Functions Framework', async () => {
    const text = 'Grüße — 日本語のテキスト 🎉🎉 naïve café';
    const url = await serve('http', handler(quiet, () => httpResult({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text })));
    const res = await fetch(`${url}/greeting`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(bytes.toString('utf8')).toBe(text);
    const length = res.headers.get('content-length');
    if (length !== null) expect(Number(length)).toBe(Buffer.byteLength(text));
    const json = { note: text, items: ['ü', '日', '🎉'] };
    const jsonUrl = await serve('http', handler(quiet, () => json));
    const jsonRes = await fetch(jsonUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await jsonRes.json()).toEqual(json);
  });
});

describe('Lambda Function URLs and compressed responses', () => {
  /** A Lambda Function URL POST (payload 2.0, no httpMethod at the top), as the URL endpoint sends it. */
  const functionUrlPost = (body: string): Json => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abcdefghijklmnopqrstuvwxyz234567.lambda-url.ap-northeast-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz234567',
      domainName: 'abcdefghijklmnopqrstuvwxyz234567.lambda-url.ap-northeast-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz234567',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'curl/8.0.1' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '07/May/2023:10:11:12 +0000',
      timeEpoch: 1683454272000,
    },
    body,
    isBase64Encoded: false,
  });

  it('honojs/hono#1075 ("When sending a POST to the Lambda Function URL, it doesn\'t work": the method was read from httpMethod, absent there, so a GET with a body threw) — the POST and its JSON body reach the function', async () => {
    const { seen, fn } = recorder((input) => ({ user: (input as Json).user }));
    const answer = (await handler(quiet, fn).aws(functionUrlPost('{"user":"watany"}'), lambdaContext())) as Json;
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body as string)).toEqual({ user: 'watany' });
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' ? t.request.method : undefined).toBe('POST');
  });

  it('honojs/hono PR #4696 (compressed bodies were judged by Content-Type alone and sent as text, corrupting them): a gzip-encoded JSON response is sent base64 and decodes to the same bytes', async () => {
    const json = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i, name: `item-${i}` })) });
    const gz = gzipSync(json);
    const answer = (await handler(quiet, () => httpResult({ status: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz })).aws(
      functionUrlPost('{}'),
      lambdaContext(),
    )) as Json;
    expect(answer.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(answer.body as string, 'base64')).toString()).toBe(json);
  });
});

describe('Functions Framework HTTP bodies', () => {
  it('GoogleCloudPlatform/functions-framework-nodejs#99 ("Parsing body of requests without Content-Type header": req.body was {} and the bytes were gone): a POST without a content type reaches the function as its text, with its exact bytes', async () => {
    const { seen, fn } = recorder();
    const url = await serve('http', handler(quiet, fn));
    // A byte body: fetch sends no Content-Type for it, as curl -H 'content-type: ' does.
    const res = await fetch(url, { method: 'POST', body: new TextEncoder().encode('hi') });
    await res.arrayBuffer();
    expect(res.headers.get('content-type') ?? '').not.toContain('problem');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.input).toBe('hi');
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' ? t.request.rawBytes?.toString() : undefined).toBe('hi');
  });

  it('googleapis/repo-automation-bots PR #2195 ("express server should save rawBody" — a webhook signature is over the exact bytes, indentation included): a JSON body parsed by the framework still arrives with its exact bytes', async () => {
    const { seen, fn } = recorder();
    const url = await serve('http', handler(quiet, fn));
    const sent = '{\n    "action": "opened",\n    "issue": { "number": 1 }\n}\n';
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'issues' }, body: sent });
    await res.arrayBuffer();
    expect(seen[0]!.input).toEqual({ action: 'opened', issue: { number: 1 } });
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' ? t.request.rawBytes?.toString('utf8') : undefined).toBe(sent);
  });
});

describe('Functions Framework HTTP bodies without a content type: bounds', () => {
  it('functions-framework-nodejs#99, a GET without a body still runs with no body, and a body past 32 MiB without a content type is a 400 naming body, the function not run', async () => {
    const { seen, fn } = recorder();
    const url = await serve('http', handler(quiet, fn));
    const get = await fetch(`${url}/ping`);
    await get.arrayBuffer();
    expect(get.status).toBeLessThan(300);
    expect(seen).toHaveLength(1);
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' ? t.request.rawBytes : 'not http').toBeUndefined();
    const big = await fetch(url, { method: 'POST', body: new Uint8Array(32 * 1024 * 1024 + 1) });
    expect(big.status).toBe(400);
    const problem = (await big.json()) as Json;
    expect(problem).toMatchObject({ code: 'MALFORMED_EVENT' });
    expect(JSON.stringify(problem)).toContain('"body"');
    expect(seen).toHaveLength(1);
  });
});
