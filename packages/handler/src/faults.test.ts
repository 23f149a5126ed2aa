/**
 * Regression tests for the fault classes of issue 8 (1, 2, 3, 4, 5, 6) and the hostile inputs of
 * issue 9 (4, 5, 7), each with the input given in the issue, on every provider where it applies.
 * Elsewhere: issue 8 class 2 also in providers/responses.test.ts (with more headers), class 7 in
 * providers/openwhisk.events.test.ts (and the controller emulation in
 * test/published-events.azure-openwhisk.test.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRequest, HttpResponse, InvocationContext, trigger, type FunctionTrigger, type HttpResponseInit } from '@azure/functions';
import { closeServers, serve as serveGcp } from '../test/support/gcp-server.js';
import request from 'supertest';
import { z } from 'zod';
import { controllerHeaders, controllerParams } from '../test/fixtures/openwhisk/controller.js';
import { ConfigurationError, handler, httpResult, type Context } from './index.js';
import { expectPublicError } from '../test/support/fuzz.js';

type Json = Record<string, any>;
const fixture = (dir: string, name: string): Json => JSON.parse(readFileSync(new URL(`../test/fixtures/${dir}/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

function recorder() {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => void seen.push({ input, ctx }) };
}

afterAll(closeServers);

function azureContext(options: FunctionTrigger, triggerMetadata: Json = {}): InvocationContext {
  return new InvocationContext({ invocationId: 'inv-1', functionName: 'f', options: { trigger: { ...options, direction: 'in' } as FunctionTrigger }, triggerMetadata, logHandler: () => undefined });
}

describe('fault class 1: repeated request headers keep their own joining rules', () => {
  it('joins ALB multiValueHeaders cookie [a=1, b=2] as "a=1; b=2" (RFC 6265 §5.4)', async () => {
    const { seen, fn } = recorder();
    const event: Json = { ...fixture('aws', 'alb-get.json'), multiValueHeaders: { cookie: ['a=1', 'b=2'], host: ['h'] }, multiValueQueryStringParameters: {} };
    delete event.headers;
    await handler({}, fn).aws(event, lambdaContext);
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' && t.request.headers.cookie).toBe('a=1; b=2');
  });

  it('joins a REST v1 "Cookie" the same way, and never folds set-cookie with commas', async () => {
    const { seen, fn } = recorder();
    const event = fixture('aws', 'apigw-v1-post.json');
    event.multiValueHeaders = { ...event.multiValueHeaders, Cookie: ['a=1', 'b=2'], 'Set-Cookie': ['x=1; Expires=Wed, 21 Oct 2025 07:28:00 GMT', 'y=2'] };
    await handler({}, fn).aws(event, lambdaContext);
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.request.headers.cookie).toBe('a=1; b=2');
    expect(t.request.headers['set-cookie']).toBe('x=1; Expires=Wed, 21 Oct 2025 07:28:00 GMT');
    expect(t.request.multiHeaders?.['set-cookie']).toEqual(['x=1; Expires=Wed, 21 Oct 2025 07:28:00 GMT', 'y=2']);
  });

  it('joins repeated Cookie headers with "; " on Azure (undici Headers) and GCP (Node)', async () => {
    const { seen, fn } = recorder();
    const main = handler({}, fn);
    const headers = new Headers();
    headers.append('cookie', 'a=1');
    headers.append('cookie', 'b=2');
    await main.azure(new HttpRequest({ method: 'GET', url: 'http://localhost/x', headers: Object.fromEntries(headers) }), azureContext(trigger.http({})));
    const url = await serveGcp('http', main);
    await request(url).get('/x').set('Cookie', ['a=1', 'b=2']);
    expect(seen.map((s) => (s.ctx.trigger.kind === 'http' ? s.ctx.trigger.request.headers.cookie : ''))).toEqual(['a=1; b=2', 'a=1; b=2']);
  });
});

describe('fault class 2: several values for one response header', () => {
  // The input of the issue, exactly: two cookies as one set-cookie header with two values.
  const main = handler({ logSink: () => undefined }, () => httpResult({ headers: { 'set-cookie': ['a=1', 'b=2'] } }));

  it("httpResult({ headers: { 'set-cookie': ['a=1', 'b=2'] } }) is two cookies on HTTP API v2, REST v1 and ALB", async () => {
    const v2 = (await main.aws(fixture('aws', 'apigw-v2-post.json'), lambdaContext)) as Json;
    expect([v2.cookies, v2.headers?.['set-cookie'], v2.multiValueHeaders]).toEqual([['a=1', 'b=2'], undefined, undefined]);
    const v1 = (await main.aws(fixture('aws', 'apigw-v1-post.json'), lambdaContext)) as Json;
    expect(v1.multiValueHeaders['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(v1.headers?.['set-cookie']).toBeUndefined();
    const alb = (await main.aws(fixture('aws', 'alb-multi-value-post.json'), lambdaContext)) as Json;
    expect(alb.multiValueHeaders['set-cookie']).toEqual(['a=1', 'b=2']);
    // An ALB without multi-value headers keeps one value per name: a typed 500, not a lost cookie.
    const single = (await main.aws(fixture('aws', 'alb-get.json'), lambdaContext)) as Json;
    expect([single.statusCode, JSON.parse(single.body).code]).toEqual([500, 'INVALID_HTTP_RESULT']);
  });

  it('is two Set-Cookie lines on Azure (worker cookies), GCP (Functions Framework) and OpenWhisk (controller)', async () => {
    const init = (await main.azure(new HttpRequest({ method: 'GET', url: 'http://localhost/f' }), azureContext(trigger.http({})))) as HttpResponseInit;
    const azure = new HttpResponse(init);
    expect(azure.cookies.map((c) => `${c.name}=${c.value}`)).toEqual(['a=1', 'b=2']);
    expect(azure.headers.has('set-cookie')).toBe(false);
    const url = await serveGcp('http', main);
    expect((await request(url).get('/f')).headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const ow = (await main.openwhisk(controllerParams({ method: 'GET' }, true))) as Json;
    expect(controllerHeaders(ow).filter(([name]) => name === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });
});

describe('fault class 3: message bodies are parsed as JSON only when nothing is lost', () => {
  const messages = ['89e7073266', '12345678901234567890'];

  it.each(messages)('SQS body %s reaches a z.string() function as the same text', async (body) => {
    const batch = fixture('aws', 'sqs-standard-batch.json');
    batch.Records = [{ ...batch.Records[0], body }];
    const { seen, fn } = recorder();
    expect(await handler({ input: z.string() }, fn).aws(batch, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect(seen[0]!.input).toBe(body);
  });

  it.each(messages)('Pub/Sub and Kafka (OpenWhisk feed, MSK) data %s stays text', async (text) => {
    const { seen, fn } = recorder();
    const main = handler({ input: z.string() }, fn);
    const published = fixture('gcp', 'pubsub-message-published.json');
    published.data.message.data = Buffer.from(text).toString('base64');
    const url = await serveGcp('cloudEvent', main);
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(published))).status).toBe(204);
    await main.openwhisk({ messages: [{ topic: 't', partition: 0, offset: 1, key: null, value: text }] });
    const msk = fixture('aws', 'msk-batch.json');
    msk.records['orders-0'] = [{ ...msk.records['orders-0'][0], value: Buffer.from(text).toString('base64') }];
    await main.aws(msk, lambdaContext);
    expect(seen.map((s) => s.input)).toEqual([text, text, text]);
  });

  it('still parses JSON that survives: objects, safe numbers, escaped text', async () => {
    const { seen, fn } = recorder();
    const batch = fixture('aws', 'sqs-standard-batch.json');
    batch.Records = ['{"price": 1.50, "name": "Jos\\u00e9"}', '42', '"quoted"', 'true'].map((body, i) => ({ ...batch.Records[0], messageId: `m-${i}`, body }));
    await handler({}, fn).aws(batch, lambdaContext);
    expect(seen.map((s) => s.input)).toEqual([{ price: 1.5, name: 'José' }, 42, 'quoted', true]);
  });

  it('honours body: json | text | bytes, and refuses any other value up front', async () => {
    const batch = fixture('aws', 'sqs-standard-batch.json');
    batch.Records = [{ ...batch.Records[0], body: '{"a": 12345678901234567890}' }];
    const seen: unknown[] = [];
    for (const body of ['json', 'text', 'bytes'] as const) await handler({ body }, (input) => void seen.push(input)).aws(structuredClone(batch), lambdaContext);
    expect(seen).toEqual([{ a: 12345678901234567890 }, '{"a": 12345678901234567890}', Buffer.from('{"a": 12345678901234567890}')]);
    expect(() => handler({ body: 'xml' as 'json' }, () => undefined)).toThrow(ConfigurationError);
    expect(() => handler({ body: 'xml' as 'json' }, () => undefined)).toThrow('handler(): option "body" must be one of "auto", "json", "text", "bytes"; got "xml"');
    const notJson = { ...batch, Records: [{ ...batch.Records[0], body: 'plain' }] };
    expect(await handler({ body: 'json' }, () => undefined).aws(notJson, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[0].messageId }] });
  });
});

describe('fault class 4: bytes that are not UTF-8 arrive as a Buffer on every queue and stream source', () => {
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);

  it("Pub/Sub data '//4AgA==' arrives as the bytes ff fe 00 80", async () => {
    const { seen, fn } = recorder();
    const published = fixture('gcp', 'pubsub-message-published.json');
    published.data.message.data = '//4AgA==';
    const url = await serveGcp('cloudEvent', handler({}, fn));
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(published))).status).toBe(204);
    expect(seen[0]!.input).toEqual(bytes);
  });

  it('Kinesis, MSK, the OpenWhisk Kafka feed, Event Hubs and Service Bus do the same', async () => {
    const { seen, fn } = recorder();
    const main = handler({}, fn);
    const kinesis = fixture('aws', 'kinesis-batch.json');
    kinesis.Records = [{ ...kinesis.Records[0], kinesis: { ...kinesis.Records[0].kinesis, data: '//4AgA==' } }];
    await main.aws(kinesis, lambdaContext);
    const msk = fixture('aws', 'msk-batch.json');
    msk.records['orders-0'] = [{ ...msk.records['orders-0'][0], value: '//4AgA==' }];
    await main.aws(msk, lambdaContext);
    await main.openwhisk({ isBinaryValue: true, messages: [{ topic: 't', partition: 0, offset: 1, key: null, value: '//4AgA==' }] });
    const hubs = fixture('azure', 'event-hubs-batch.json');
    await main([bytes], azureContext(trigger.eventHub({ eventHubName: 'readings', connection: 'c', cardinality: 'many' }), { ...hubs.context.triggerMetadata, sequenceNumberArray: [1] }));
    await main(bytes, azureContext(trigger.serviceBusQueue({ queueName: 'q', connection: 'c' }), { messageId: 'm-1', deliveryCount: 1 }));
    expect(seen.map((s) => s.input)).toEqual([bytes, bytes, bytes, bytes, bytes]);
  });
});

describe('fault class 5: repeated form fields and query parameters keep every value', () => {
  const form = 't=a&t=b';
  const Schema = z.object({ t: z.array(z.string()) });

  it('POST t=a&t=b (form) gives { t: [a, b] } on Lambda, Azure, GCP and OpenWhisk (raw)', async () => {
    const { seen, fn } = recorder();
    const main = handler({ input: Schema }, fn);
    const v2 = fixture('aws', 'apigw-v2-post.json');
    v2.headers['content-type'] = 'application/x-www-form-urlencoded';
    v2.body = form;
    v2.isBase64Encoded = false;
    expect(((await main.aws(v2, lambdaContext)) as Json).statusCode).toBe(204);
    await main.azure(new HttpRequest({ method: 'POST', url: 'http://localhost/f', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { string: form } }), azureContext(trigger.http({})));
    const url = await serveGcp('http', main);
    expect((await request(url).post('/f').set('content-type', 'application/x-www-form-urlencoded').send(form)).status).toBe(204);
    await main.openwhisk({ __ow_method: 'post', __ow_headers: { 'content-type': 'application/x-www-form-urlencoded' }, __ow_path: '', __ow_query: '', __ow_body: form });
    expect(seen.map((s) => s.input)).toEqual([{ t: ['a', 'b'] }, { t: ['a', 'b'] }, { t: ['a', 'b'] }, { t: ['a', 'b'] }]);
  });

  it('GET ?t=a&t=b gives { t: [a, b] }; a single value stays a string', async () => {
    const { seen, fn } = recorder();
    const event = fixture('aws', 'function-url-get.json');
    event.rawQueryString = 't=a&t=b&u=c';
    await handler({}, fn).aws(event, lambdaContext);
    expect(seen[0]!.input).toEqual({ t: ['a', 'b'], u: 'c' });
  });
});

describe('fault class 6: identities are carried byte-exact', () => {
  it('keeps Service Bus MessageId "9007199254740993" and "1e3" as given', async () => {
    const { seen, fn } = recorder();
    const main = handler({}, fn);
    for (const messageId of ['9007199254740993', '1e3']) {
      await main({ n: 1 }, azureContext(trigger.serviceBusQueue({ queueName: 'q', connection: 'c' }), { messageId, deliveryCount: 1 }));
    }
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['9007199254740993', '1e3']);
  });

  it('keeps stream sequence numbers, offsets and partition keys as text', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('aws', 'kinesis-batch.json'), lambdaContext);
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'stream' && [t.sequence, t.key]).toEqual(['49590338271490256608559692538361571095921575989136588898', 'o-42']);
  });
});

describe('issue 9 item 4: JSON depth is bounded on every path', () => {
  for (const depth of [10_000, 100_000]) {
    it(`answers 400 for a non-raw OpenWhisk __ow_body nested ${depth} deep, and so do the other providers`, async () => {
      const text = '['.repeat(depth) + ']'.repeat(depth);
      const main = handler({}, () => 'unreached');
      const ow = (await main.openwhisk({ __ow_method: 'post', __ow_headers: { 'content-type': 'application/json' }, __ow_path: '', __ow_body: JSON.parse(text) })) as Json;
      expect(ow.statusCode).toBe(400);
      expect(ow.body.code).toBe('MALFORMED_EVENT');
      const v2 = { ...fixture('aws', 'apigw-v2-post.json'), body: text, isBase64Encoded: false };
      expect(((await main.aws(v2, lambdaContext)) as Json).statusCode).toBe(400);
      const batch = fixture('aws', 'sqs-standard-batch.json');
      batch.Records = [{ ...batch.Records[0], body: text }];
      expect(await main.aws(batch, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[0].messageId }] });
      // Azure (the worker's HttpRequest) and GCP (the Functions Framework parses the body itself).
      const azure = (await main.azure(
        new HttpRequest({ method: 'POST', url: 'http://localhost/f', headers: { 'content-type': 'application/json' }, body: { string: text } }),
        azureContext(trigger.http({})),
      )) as Json;
      expect(azure.status).toBe(400);
      const url = await serveGcp('http', main);
      const gcp = await request(url).post('/f').set('content-type', 'application/json').send(text);
      expect(gcp.status).toBe(400);
      expect(gcp.body.code).toBe('MALFORMED_EVENT');
      // A Pub/Sub message and a Kinesis record nested as deep: refused for that message, never a crash.
      const published = fixture('gcp', 'pubsub-message-published.json');
      published.data.message.data = Buffer.from(text).toString('base64');
      const events = await serveGcp('cloudEvent', main);
      const pubsub = await request(events).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(published));
      expect(pubsub.status).toBeGreaterThanOrEqual(400);
      expect(pubsub.text).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
      const kinesis = fixture('aws', 'kinesis-batch.json');
      kinesis.Records = [{ ...kinesis.Records[0], kinesis: { ...kinesis.Records[0].kinesis, data: Buffer.from(text).toString('base64') } }];
      expect(await main.aws(kinesis, lambdaContext)).toEqual({ batchItemFailures: [{ itemIdentifier: kinesis.Records[0].kinesis.sequenceNumber }] });
    });
  }
});

describe('issue 9 item 5: a missing Lambda context is a typed error', () => {
  it.each([null, undefined])('main.aws(event, %s) rejects with MALFORMED_EVENT and no stack frames', async (context) => {
    const thrown = await handler({}, () => 'x')
      .aws({ orderId: 'o-1' }, context as never)
      .catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['MALFORMED_EVENT']) });
  });
});

describe('issue 9 item 7: bodies that are not what they claim are a clear 400', () => {
  it('rejects a JSON body with invalid UTF-8', async () => {
    const v2 = fixture('aws', 'apigw-v2-post.json');
    v2.body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64');
    v2.isBase64Encoded = true;
    const res = (await handler({}, () => 'unreached').aws(v2, lambdaContext)) as Json;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'UTF-8 text' }] });
  });

  it('rejects a base64 body with junk characters mixed in (isBase64Encoded: true)', async () => {
    const v2 = fixture('aws', 'apigw-v2-post.json');
    v2.body = `${Buffer.from('{"orderId":"o-1"}').toString('base64').slice(0, 8)}*!#${Buffer.from('{"orderId":"o-1"}').toString('base64').slice(8)}`;
    v2.isBase64Encoded = true;
    const res = (await handler({}, () => 'unreached').aws(v2, lambdaContext)) as Json;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'base64 text (isBase64Encoded)' }] });
  });
});
