/**
 * Public bug reports against peer libraries (middy, Powertools for AWS Lambda, Hono's
 * aws-lambda adapter, serverless-http, @vendia/serverless-express, the Functions Framework),
 * each replayed against steadyfn with the report's input shape: event parsing, headers,
 * cookies and multi-value handling, base64 bodies, binary responses, SQS partial batch
 * failures, timeouts. The test name cites the report.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, httpResult } from '../src/index.js';
import { closeServers, serveBackground } from './support/gcp-server.js';
import { failWhenAsked, lambdaContext, published, recorder, type Json } from './support/published.js';
import { advance, useFakeClock, useRealClock, watch } from './support/clock.js';

afterAll(closeServers);

const quiet = { logSink: () => undefined };

/** An ALB event (multi-value mode when `multi`), as the load balancer sends it. */
function albEvent(multi: boolean, extra: Json = {}): Json {
  const base: Json = { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/abc' } }, httpMethod: 'GET', path: '/', body: '', isBase64Encoded: false };
  return multi ? { ...base, multiValueHeaders: { host: ['alb.example.com'] }, multiValueQueryStringParameters: {}, ...extra } : { ...base, headers: { host: 'alb.example.com' }, queryStringParameters: {}, ...extra };
}

async function seenHttp(event: Json) {
  const { seen, fn } = recorder();
  const answer = (await handler(quiet, fn).aws(event, lambdaContext())) as Json;
  const t = seen[0]?.ctx.trigger;
  return { answer, request: t?.kind === 'http' ? t.request : undefined, input: seen[0]?.input };
}

describe('cookies and multi-value response headers', () => {
  it('dougmoscrop/serverless-http#276: two Set-Cookie through an ALB with multi-value headers on are both sent', async () => {
    const answer = (await handler(quiet, () => httpResult({ cookies: ['a=1; Path=/', 'b=2; Path=/'] })).aws(albEvent(true), lambdaContext())) as Json;
    expect(answer.multiValueHeaders['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(answer).not.toHaveProperty('headers');
  });

  it('dougmoscrop/serverless-http#168 (payload 1.0: "only the first cookie is set"): REST v1 sends every cookie in multiValueHeaders', async () => {
    const answer = (await handler(quiet, () => httpResult({ cookies: ['x=1', 'y=2', 'z=3'] })).aws(published('aws', 'apigw-rest-nulls.json'), lambdaContext())) as Json;
    expect(answer.multiValueHeaders['set-cookie']).toEqual(['x=1', 'y=2', 'z=3']);
  });

  it('dougmoscrop/serverless-http#185 and CodeGenieApp/serverless-express#355: HTTP API (v2) cookies go in the cookies array, not a 500', async () => {
    const answer = (await handler(quiet, () => httpResult({ cookies: ['Foo=bar', 'Fizz=buzz'], body: {} })).aws(published('aws', 'apigw-http-v2-minimal.json'), lambdaContext())) as Json;
    expect(answer.statusCode).toBe(200);
    expect(answer.cookies).toEqual(['Foo=bar', 'Fizz=buzz']);
    expect(answer.headers).not.toHaveProperty('set-cookie');
  });

  it('dougmoscrop/serverless-http#159: payload 2.0 request cookies reach the function as a cookie header', async () => {
    const { request } = await seenHttp(published('aws', 'apigw-http-v2.json'));
    expect(request?.headers.cookie).toBe('session=s3cr3t; theme=light');
  });

  it('honojs/hono#2626: an ALB without multi-value headers is answered in headers; two cookies cannot be sent and are a typed 500', async () => {
    const one = (await handler(quiet, () => httpResult({ cookies: ['foo=bar'], body: 'ok' })).aws(albEvent(false), lambdaContext())) as Json;
    expect(one.headers['set-cookie']).toBe('foo=bar');
    expect(one).not.toHaveProperty('multiValueHeaders');
    const two = (await handler(quiet, () => httpResult({ cookies: ['foo=bar', 'fizz=buzz'] })).aws(albEvent(false), lambdaContext())) as Json;
    expect(two.statusCode).toBe(500);
    expect(JSON.parse(two.body as string)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
  });
});

describe('request headers and query strings', () => {
  it('honojs/hono#2493: an ALB multi-value event carries no headers map; the request is read from multiValueHeaders', async () => {
    const event = albEvent(true, { multiValueHeaders: { host: ['alb.example.com'], 'x-trace': ['t1'] } });
    const { request, answer } = await seenHttp(event);
    expect(answer.statusCode).toBe(204);
    expect(request?.headers).toMatchObject({ host: 'alb.example.com', 'x-trace': 't1' });
  });

  it('honojs/hono#2751: ALB multiValueQueryStringParameters keep every value', async () => {
    const { request, input } = await seenHttp(albEvent(true, { multiValueQueryStringParameters: { myKey: ['val1', 'val2'] } }));
    expect(request?.multiQuery).toEqual({ myKey: ['val1', 'val2'] });
    expect(input).toEqual({ myKey: ['val1', 'val2'] });
  });

  it('honojs/hono#2495 and dougmoscrop/serverless-http#214: a repeated request header reaches the function with every value', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    event.multiValueHeaders.Accept = ['text/html', 'application/json'];
    const { request } = await seenHttp(event);
    expect(request?.headers.accept).toBe('text/html, application/json');
    expect(request?.multiHeaders?.accept).toEqual(['text/html', 'application/json']);
  });

  it('dougmoscrop/serverless-http#74: an ALB query value arrives percent-encoded and is decoded once', async () => {
    const { request } = await seenHttp(albEvent(false, { queryStringParameters: { query: '%28countryCode%3DUS%29' } }));
    expect(request?.query).toEqual({ query: '(countryCode=US)' });
  });

  it('CodeGenieApp/serverless-express#219 / #660: in an ALB query "+" is a space and "%2B" a plus', async () => {
    const { request } = await seenHttp(albEvent(false, { queryStringParameters: { email: 'me%2Btest%40example.com', q: 'hello+world' } }));
    expect(request?.query).toEqual({ email: 'me+test@example.com', q: 'hello world' });
  });

  it('honojs/hono#4358: API Gateway already decoded the query; values are not decoded a second time', async () => {
    const event = published('aws', 'apigw-rest-nulls.json');
    event.queryStringParameters = { path: '/book/{bookId}/', pct: '100%25' };
    event.multiValueQueryStringParameters = { path: ['/book/{bookId}/'], pct: ['100%25'] };
    const { request } = await seenHttp(event);
    expect(request?.query).toEqual({ path: '/book/{bookId}/', pct: '100%25' });
  });

  it('CodeGenieApp/serverless-express#240: multiValueHeaders null (API Gateway console test) does not break the request', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    event.multiValueHeaders = null;
    const { request, input } = await seenHttp(event);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(input).toMatchObject({ sku: 'lamp-04' });
  });

  it('aws-powertools/powertools-lambda-typescript#2461: a REST event without query string and body (both null) is valid', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    Object.assign(event, { body: null, queryStringParameters: null, multiValueQueryStringParameters: null });
    const { answer, input } = await seenHttp(event);
    expect(answer.statusCode).toBe(204);
    expect(input).toEqual({});
  });

  it('aws-powertools/powertools-lambda-typescript#2527: the console test event (headers and multiValueHeaders null) is valid', async () => {
    const { answer, request } = await seenHttp(published('aws', 'apigw-rest-nulls.json'));
    expect(answer.statusCode).toBe(204);
    expect(request?.headers).toEqual({});
  });

  it('aws-powertools/powertools-lambda-typescript#4454: every nullable member null at once is recognised as REST, not rejected', async () => {
    const event = published('aws', 'apigw-rest-nulls.json');
    event.pathParameters = { proxy: 'test' };
    const { seen, fn } = recorder();
    await handler(quiet, fn).aws(event, lambdaContext());
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1' });
  });
});

describe('base64 request bodies and binary responses', () => {
  it('middyjs/middy#537: a base64 JSON body is decoded before parsing', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    Object.assign(event, { body: Buffer.from('{"data":"foo"}').toString('base64'), isBase64Encoded: true });
    expect((await seenHttp(event)).input).toEqual({ data: 'foo' });
  });

  it('middyjs/middy#603: a base64 urlencoded body (HTTP API, a Slack command) is decoded, then read as fields', async () => {
    const event = published('aws', 'apigw-http-v2-minimal.json');
    Object.assign(event, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('token=xxx&team_id=T1&text=').toString('base64'), isBase64Encoded: true });
    expect((await seenHttp(event)).input).toEqual({ token: 'xxx', team_id: 'T1', text: '' });
  });

  it('middyjs/middy#939: isBase64Encoded true with a body that is plain JSON text is a clear 400 naming body, not a silent misread', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    Object.assign(event, { body: '{"data":"foo"}', isBase64Encoded: true });
    const { seen, fn } = recorder();
    const answer = (await handler(quiet, fn).aws(event, lambdaContext())) as Json;
    expect(seen).toHaveLength(0);
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body' }] });
  });

  it('CodeGenieApp/serverless-express#645: a 75 KB binary response comes back with its exact length, base64 and flagged', async () => {
    const bytes = Buffer.alloc(75 * 1024, 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    const answer = (await handler(quiet, () => httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: bytes })).aws(published('aws', 'apigw-http-v2-minimal.json'), lambdaContext())) as Json;
    expect(answer.isBase64Encoded).toBe(true);
    expect(Buffer.from(answer.body as string, 'base64').equals(bytes)).toBe(true);
  });

  it('honojs/hono#4250: a vendor binary type (application/vnd.mapbox-vector-tile) is sent as binary', async () => {
    const tile = Buffer.from([0x1a, 0x00, 0xff, 0x80]);
    const answer = (await handler(quiet, () => httpResult({ headers: { 'content-type': 'application/vnd.mapbox-vector-tile' }, body: tile })).aws(published('aws', 'apigw-rest-nulls.json'), lambdaContext())) as Json;
    expect(answer).toMatchObject({ isBase64Encoded: true, body: tile.toString('base64') });
  });
});

describe('batches, timeouts and windows', () => {
  it('middyjs/middy#467: one failed SQS message is reported alone; the batch is not failed whole', async () => {
    const answer = await handler(quiet, failWhenAsked).aws(published('aws', 'sqs-no-attributes.json'), lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'c80e8021-a70a-42c7-a470-796e1186f753' }] });
  });

  it('aws-powertools/powertools-lambda-typescript#2590: a FIFO batch stops at the first failure and reports it with every later message', async () => {
    const { seen, fn } = recorder(failWhenAsked);
    const answer = await handler(quiet, fn).aws(published('aws', 'sqs-fifo.json'), lambdaContext());
    expect(seen).toHaveLength(2);
    expect((answer as Json).batchItemFailures).toHaveLength(2);
  });

  it('aws-powertools/powertools-lambda-typescript#3915: a tumbling-window batch is handed over whole, so the function can answer its state', async () => {
    const { seen, fn } = recorder((input) => ({ state: { count: String((input as Json).Records.length) } }));
    const answer = await handler(quiet, fn).aws(published('aws', 'kinesis-tumbling-window.json'), lambdaContext());
    expect(seen[0]!.ctx.trigger.kind).toBe('direct');
    expect(answer).toEqual({ state: { count: '1' } });
  });

  it('middyjs/middy#684 and #1171: a function that never finishes is answered DEADLINE_EXCEEDED before Lambda would time out', async () => {
    // On a fake clock (test/support/clock.ts): the answer comes at 300 ms (800 − the 500 ms margin), to the millisecond.
    useFakeClock();
    let answer: Json;
    try {
      const started = Date.now();
      const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 800 };
      const call = watch(handler({ ...quiet, deadlineMarginMs: 500 }, () => new Promise(() => {})).aws(published('aws', 'apigw-rest-nulls.json'), context));
      await advance(299);
      expect(call.settled).toBe(false);
      await advance(1);
      expect(call.at! - started).toBe(300);
      answer = call.value as Json;
    } finally {
      await useRealClock();
    }
    expect(answer.statusCode).toBe(504);
    expect(JSON.parse(answer.body as string)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});

describe('Functions Framework background events', () => {
  it('GoogleCloudPlatform/functions-framework-nodejs#96: a background Pub/Sub call (data = PubsubMessage with attributes null, context = legacy context) is a queue message', async () => {
    const { seen, fn } = recorder();
    const url = await serveBackground(handler(quiet, fn));
    const body = {
      eventId: '749799261766789',
      timestamp: '2019-09-17T19:56:09.018Z',
      eventType: 'providers/cloud.pubsub/eventTypes/topic.publish',
      resource: 'projects/p/topics/t',
      data: { '@type': 'type.googleapis.com/google.pubsub.v1.PubsubMessage', attributes: null, data: Buffer.from('hello').toString('base64') },
    };
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    expect(seen[0]!.input).toBe('hello');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: '749799261766789', attributes: {} });
  });

  it('GoogleCloudPlatform/functions-framework-nodejs#41: an event posted as { context, data } keeps its data', async () => {
    const { seen, fn } = recorder();
    const url = await serveBackground(handler(quiet, fn));
    const body = {
      context: { eventId: 'e-41', timestamp: '2020-01-10T00:00:00.000Z', eventType: 'google.pubsub.topic.publish', resource: { service: 'pubsub.googleapis.com', name: 'projects/p/topics/t', type: 'type.googleapis.com/google.pubsub.v1.PubsubMessage' } },
      data: { data: Buffer.from('{"n":41}').toString('base64') },
    };
    await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).arrayBuffer();
    expect(seen[0]!.input).toEqual({ n: 41 });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/p/topics/t#e-41');
  });
});
