/**
 * The Lambda adapter against events shaped like the ones AWS documents for each trigger
 * (fixtures under test/fixtures/aws), called the way the Node runtime calls a handler:
 * `(event, context)` with a context whose `getRemainingTimeInMillis()` runs on `Date.now()` (the fake
 * clock of test/support/clock.ts in the deadline tests).
 * The real runtime client itself is exercised in test/runtimes/lambda.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, httpError, httpResult, RetryableError, TerminalError, type Context, type LambdaContext } from '../index.js';
import { binaryBody } from '../../test/support/bytes.js';
import { advance, useFakeClock, useRealClock, watch } from '../../test/support/clock.js';

type Json = Record<string, any>;

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;

/** A context like the one the Node runtime builds: identity from the invoke, the clock from the deadline. */
function lambdaContext(remainingMs = 30_000, awsRequestId: string = randomUUID()): LambdaContext & { deadlineMs: number } {
  const deadlineMs = Date.now() + remainingMs;
  return {
    awsRequestId,
    functionName: 'orders-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/orders-fn',
    logStreamName: '2025/03/14/[$LATEST]5c1f0e2b7a9d4c6e8f0a1b2c3d4e5f60',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadlineMs - Date.now(),
    deadlineMs,
  };
}

function logs(): { sink: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { sink: (line) => lines.push(line), lines };
}

/** A stack frame of our code or the user's: `    at fn (file:line:col)`. */
const STACK_FRAME = /\n\s+at\s/;

/** The thrown value is what the Lambda runtime would report: a typed, stackless public error. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; retryable: boolean }> {
  try {
    await promise;
  } catch (thrown) {
    expect(thrown).toBeInstanceOf(Error);
    const error = thrown as Error & { code: string; retryable: boolean };
    expect(typeof error.code).toBe('string');
    expect(error.stack).toBe(error.message);
    expect(error.message.startsWith(`${error.name}: `)).toBe(true);
    expect(error.stack).not.toMatch(STACK_FRAME);
    return error;
  }
  throw new Error('expected the handler to reject');
}

const Order = z.object({ orderId: z.string(), quantity: z.coerce.number().int().positive() });

// Slow functions in the deadline tests wait on these; they are released after each test.
const pending: NodeJS.Timeout[] = [];
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    pending.push(setTimeout(resolve, ms));
  });
afterEach(() => {
  for (const timer of pending.splice(0)) clearTimeout(timer);
});

describe('API Gateway REST API (v1)', () => {
  it('runs a JSON POST and reads every header and query value, repeated ones included', async () => {
    const seen: Context[] = [];
    const log = logs();
    const main = handler({ input: Order, logSink: log.sink }, async (input, ctx) => {
      seen.push(ctx);
      return { accepted: input.orderId, total: input.quantity * 3 };
    });
    // Under API Gateway's 29 s integration timeout, so the deadline is the runtime's clock (lambda-deadline.ts).
    const context = lambdaContext(20_000, 'req-v1-1');
    const res = (await main(fixture('apigw-v1-post.json'), context)) as Json;
    expect(res).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accepted: 'o-1001', total: 6 }),
      isBase64Encoded: false,
    });
    const ctx = seen[0]!;
    expect(ctx.provider).toBe('aws');
    expect(ctx.functionName).toBe('orders-fn');
    expect(ctx.requestId).toBe('req-v1-1');
    expect(ctx.deliveryId).toBeUndefined();
    expect(ctx.trigger.kind).toBe('http');
    if (ctx.trigger.kind !== 'http') return;
    expect(ctx.trigger.source).toBe('apigw-v1');
    const request = ctx.trigger.request;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/orders/o-1001');
    expect(request.headers['x-tenant']).toBe('south, north');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.query).toEqual({ tag: 'blue', note: 'gift wrap' });
    expect(request.multiQuery).toEqual({ tag: ['red', 'blue'], note: ['gift wrap'] });
    expect(request.sourceIp).toBe('198.51.100.23');
    // The deadline is the runtime's clock, read once when the invocation started.
    expect(ctx.deadline).toBeGreaterThan(context.deadlineMs - 1_000);
    expect(ctx.deadline).toBeLessThanOrEqual(context.deadlineMs + 50);
    expect(log.lines).toEqual([]);
  });

  it('decodes a base64 form body', async () => {
    const main = handler({ input: Order.extend({ note: z.string() }) }, (input) => input);
    const res = (await main.aws(fixture('apigw-v1-base64-form.json'), lambdaContext())) as Json;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ orderId: 'o-1002', quantity: 5, note: 'leave at door' });
  });

  it('answers invalid input with a 400 problem naming each bad field', async () => {
    const event = fixture('apigw-v1-post.json');
    event.body = JSON.stringify({ quantity: 'two', secret: 'card-4111' });
    const log = logs();
    let ran = false;
    const main = handler({ input: Order, logSink: log.sink }, () => {
      ran = true;
    });
    const res = (await main.aws(event, lambdaContext())) as Json;
    expect(ran).toBe(false);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(res.body) as Json;
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request' });
    expect(problem.errors.map((e: Json) => e.field).sort()).toEqual(['orderId', 'quantity']);
    expect(problem.errors.find((e: Json) => e.field === 'orderId').expected).toBe('string');
    // The payload is not echoed back or logged.
    expect(res.body).not.toContain('card-4111');
    expect(log.lines.join('\n')).not.toContain('card-4111');
  });

  it('answers a body that is not JSON with a 400 MALFORMED_EVENT naming the body', async () => {
    const event = fixture('apigw-v1-post.json');
    event.body = '{"orderId": "o-1", ';
    const main = handler({ input: Order, logSink: () => undefined }, () => 'never');
    const res = (await main.aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body' }] });
  });

  it('turns an unknown error into a 500 problem without its message or stack', async () => {
    const log = logs();
    const main = handler({ input: Order, logSink: log.sink }, () => {
      throw new Error('connection to db-7.internal refused for user admin');
    });
    const res = (await main.aws(fixture('apigw-v1-post.json'), lambdaContext())) as Json;
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(res.body) as Json;
    expect(problem).toEqual({ type: 'urn:steadyfn:error:internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' });
    expect(res.body).not.toContain('db-7');
    expect(res.body).not.toMatch(/at\s/);
    // The operator gets the cause in the log, still without a stack or the request body.
    const logged = log.lines.join('\n');
    expect(logged).toContain('"code":"INTERNAL"');
    expect(logged).not.toMatch(/\\n\s+at\s/);
    expect(logged).not.toContain('o-1001');
  });

  it('keeps the status and headers of an httpResult and sends bytes as base64', async () => {
    const main = handler({}, () => httpResult({ status: 201, headers: { location: '/orders/o-1001' }, body: new Uint8Array([0, 1, 2, 255]) }));
    const res = (await main.aws(fixture('apigw-v1-post.json'), lambdaContext())) as Json;
    expect(res).toEqual({
      statusCode: 201,
      headers: { location: '/orders/o-1001', 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    });
  });
});

describe('HTTP results no gateway could send', () => {
  it('become a logged 500 INVALID_HTTP_RESULT instead of a response API Gateway rejects', async () => {
    const log = logs();
    const main = handler({ logSink: log.sink }, () => httpResult({ status: 42, body: 'odd' }));
    const res = (await main.aws(fixture('apigw-v2-post.json'), lambdaContext(30_000, 'req-odd-1'))) as Json;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    const line = log.lines.map((l) => JSON.parse(l) as Json).find((l) => l.code === 'INVALID_HTTP_RESULT');
    expect(line).toMatchObject({ level: 'error', requestId: 'req-odd-1', field: 'status' });
  });
});

describe('HTTP API (v2) and Function URLs', () => {
  it('decodes a base64 body, joins cookies into a Cookie header and keeps repeated query values', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return { accepted: input.orderId };
    });
    const res = (await main.aws(fixture('apigw-v2-post.json'), lambdaContext(30_000, 'req-v2-1'))) as Json;
    expect(res).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"accepted":"o-2002"}', isBase64Encoded: false });
    const ctx = seen[0]!;
    expect(ctx.requestId).toBe('req-v2-1');
    expect(ctx.deliveryId).toBeUndefined();
    if (ctx.trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
    expect(ctx.trigger.source).toBe('apigw-v2');
    const request = ctx.trigger.request;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/orders');
    expect(request.headers.cookie).toBe('session=5f1c9e; theme=dark');
    // From rawQueryString, not the comma-joined queryStringParameters.
    expect(request.multiQuery).toEqual({ tag: ['red', 'blue'], note: ['gift wrap'] });
    expect(request.query.tag).toBe('blue');
    expect(request.sourceIp).toBe('203.0.113.7');
  });

  it('answers 204 when the function returns nothing', async () => {
    const main = handler({}, () => undefined);
    const res = (await main.aws(fixture('apigw-v2-post.json'), lambdaContext())) as Json;
    expect(res).toEqual({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
  });

  it('recognises a Function URL and takes a GET query as input', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return input;
    });
    const res = (await main.aws(fixture('function-url-get.json'), lambdaContext())) as Json;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ orderId: 'o-3003', quantity: 4 });
    const trigger = seen[0]!.trigger;
    expect(trigger).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'GET', path: '/orders/lookup', sourceIp: '192.0.2.61' } });
  });

  it('names every bad query field of a Function URL request', async () => {
    const event = fixture('function-url-get.json');
    event.rawQueryString = 'quantity=-1';
    const main = handler({ input: Order, logSink: () => undefined }, () => 'never');
    const res = (await main.aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(400);
    const problem = JSON.parse(res.body) as Json;
    expect(problem.errors.map((e: Json) => e.field).sort()).toEqual(['orderId', 'quantity']);
  });
});

describe('Application Load Balancer', () => {
  it('decodes percent-encoded query values and answers with a statusDescription', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => {
      seen.push(ctx);
      return { ok: true };
    });
    const res = (await main.aws(fixture('alb-get.json'), lambdaContext())) as Json;
    expect(res).toEqual({
      statusCode: 200,
      statusDescription: '200 OK',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
    const trigger = seen[0]!.trigger;
    if (trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
    expect(trigger.source).toBe('alb');
    expect(trigger.request.query).toEqual({ q: 'blue lamp', page: '2', sku: 'A+B/7' });
    expect(trigger.request.sourceIp).toBe('198.51.100.90');
  });

  it('reads multi-value headers and query parameters and answers in multiValueHeaders', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return httpResult({ status: 202, headers: { 'x-order': input.orderId }, body: { queued: true } });
    });
    const res = (await main.aws(fixture('alb-multi-value-post.json'), lambdaContext())) as Json;
    expect(res).toEqual({
      statusCode: 202,
      statusDescription: '202 Accepted',
      multiValueHeaders: { 'x-order': ['o-4004'], 'content-type': ['application/json'] },
      body: '{"queued":true}',
      isBase64Encoded: false,
    });
    const trigger = seen[0]!.trigger;
    if (trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
    expect(trigger.request.multiQuery).toEqual({ tag: ['red', 'light blue'], source: ['web'] });
    expect(trigger.request.headers['x-tenant']).toBe('south, north');
    // The address the ALB appended (the last hop), not the first, which whoever connected to the
    // ALB wrote (review-forwarded-source-ip.test.ts).
    expect(trigger.request.sourceIp).toBe('10.0.3.17');
  });

  it('describes error statuses too', async () => {
    const tooMany = handler({ logSink: () => undefined }, () => {
      throw httpError(429, 'RATE_LIMITED', 'Slow down', { headers: { 'retry-after': '3' } });
    });
    const res = (await tooMany.aws(fixture('alb-multi-value-post.json'), lambdaContext())) as Json;
    expect(res.statusCode).toBe(429);
    expect(res.statusDescription).toBe('429 Too Many Requests');
    expect(res.multiValueHeaders).toEqual({ 'content-type': ['application/problem+json'], 'retry-after': ['3'] });
    const terminal = handler({ logSink: () => undefined }, () => {
      throw new TerminalError('OUT_OF_STOCK', 'No lamps left');
    });
    const res2 = (await terminal.aws(fixture('alb-get.json'), lambdaContext())) as Json;
    expect(res2.statusDescription).toBe('422 Unprocessable Content'); // RFC 9110's reason phrase
    expect(JSON.parse(res2.body)).toMatchObject({ code: 'OUT_OF_STOCK', detail: 'No lamps left' });
  });
});

/** The event with a POST of `bytes` under `type`, base64 as API Gateway, Function URLs and ALBs send binary bodies. */
function withBinaryBody(event: Json, type: string, bytes: Buffer): Json {
  const e = structuredClone(event);
  if (e.requestContext.http) e.requestContext.http.method = 'POST';
  else e.httpMethod = 'POST';
  for (const key of ['headers', 'multiValueHeaders'] as const) {
    if (!e[key]) continue;
    for (const name of Object.keys(e[key])) if (name.toLowerCase() === 'content-type') delete e[key][name];
    e[key]['Content-Type'] = key === 'headers' ? type : [type];
  }
  e.body = bytes.toString('base64');
  e.isBase64Encoded = true;
  return e;
}

describe('binary request bodies', () => {
  const events = ['apigw-v1-post.json', 'apigw-v2-post.json', 'function-url-get.json', 'alb-multi-value-post.json', 'alb-get.json'];

  it('reach the function byte for byte as a Buffer and as rawBytes, on every HTTP event shape', async () => {
    for (const name of events) {
      for (const type of ['application/octet-stream', 'image/png']) {
        const bytes = binaryBody();
        const seen: Array<{ input: Buffer; rawBytes: Buffer | undefined; source: string }> = [];
        const main = handler({ input: z.instanceof(Buffer) }, (input, ctx) => {
          if (ctx.trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
          seen.push({ input, rawBytes: ctx.trigger.request.rawBytes, source: ctx.trigger.source });
          return httpResult({ headers: { 'content-type': type }, body: input });
        });
        const res = (await main.aws(withBinaryBody(fixture(name), type, bytes), lambdaContext())) as Json;
        expect([name, res.statusCode]).toEqual([name, 200]);
        const got = seen[0]!;
        expect(Buffer.isBuffer(got.input)).toBe(true);
        expect(got.input.equals(bytes)).toBe(true);
        expect(got.rawBytes?.equals(bytes)).toBe(true);
        // Sent back untouched too.
        expect(res.isBase64Encoded).toBe(true);
        expect(Buffer.from(res.body, 'base64').equals(bytes)).toBe(true);
      }
    }
  });

  it('keeps the decoded bytes of a base64 JSON body and the UTF-8 bytes of a text body as rawBytes', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (_input, ctx) => void seen.push(ctx));
    const v2 = fixture('apigw-v2-post.json');
    await main.aws(v2, lambdaContext());
    const v1 = fixture('apigw-v1-post.json');
    await main.aws(v1, lambdaContext());
    const requests = seen.map((c) => (c.trigger.kind === 'http' ? c.trigger.request : undefined));
    expect(requests[0]?.rawBytes?.equals(Buffer.from(v2.body, 'base64'))).toBe(true);
    expect(requests[1]?.rawBytes?.equals(Buffer.from(v1.body, 'utf8'))).toBe(true);
    // A GET without a body has neither view.
    await handler({}, (_input, ctx) => void seen.push(ctx)).aws(fixture('function-url-get.json'), lambdaContext());
    expect(seen[2]!.trigger).toMatchObject({ request: { rawBody: undefined, rawBytes: undefined } });
  });
});

describe('SQS standard queue', () => {
  it('runs every message with its own identity and reports no failure when all succeed', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return input.quantity;
    });
    const batch = fixture('sqs-standard-batch.json');
    const res = await main.aws(batch, lambdaContext(30_000, 'req-sqs-1'));
    expect(res).toEqual({ batchItemFailures: [] });
    expect(seen).toHaveLength(3);
    const byId = new Map(seen.map((ctx) => [ctx.deliveryId, ctx]));
    batch.Records.forEach((record: Json, i: number) => {
      const ctx = byId.get(record.messageId)!;
      expect(ctx.requestId).toBe(`req-sqs-1:${record.messageId}`);
      expect(ctx.trigger).toMatchObject({
        kind: 'queue',
        source: 'sqs',
        queue: 'orders',
        messageId: record.messageId,
        attempt: Number(record.attributes.ApproximateReceiveCount),
        batchIndex: i,
        batchSize: 3,
      });
    });
    const first = byId.get(batch.Records[0].messageId)!;
    if (first.trigger.kind !== 'queue') throw new Error('expected a queue trigger');
    expect(first.trigger.attributes).toEqual({ origin: 'checkout' });
    expect(byId.get(batch.Records[1].messageId)!.trigger).toMatchObject({ attempt: 3 });
  });

  it('lists only the failed messages: an invalid one (terminal) and one that threw (retryable)', async () => {
    const batch = fixture('sqs-standard-batch.json');
    const [ok, invalid, throwing] = batch.Records as Json[];
    invalid!.body = 'not json at all';
    throwing!.body = JSON.stringify({ orderId: 'explode', quantity: 1 });
    const done: string[] = [];
    const main = handler({ input: Order, logSink: () => undefined }, (input) => {
      if (input.orderId === 'explode') throw new Error('downstream timeout');
      done.push(input.orderId);
    });
    const res = await main.aws(batch, lambdaContext());
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: invalid!.messageId }, { itemIdentifier: throwing!.messageId }] });
    expect(done).toEqual([JSON.parse(ok!.body).orderId]);
  });

  it("with terminalErrors: 'ack' acknowledges the invalid message but still reports the retryable one", async () => {
    const batch = fixture('sqs-standard-batch.json');
    const [, invalid, retryable] = batch.Records as Json[];
    invalid!.body = JSON.stringify({ orderId: 'o-bad', quantity: 0 });
    retryable!.body = JSON.stringify({ orderId: 'busy', quantity: 1 });
    const log = logs();
    // Warnings are below the test suite's default level (error); this test reads one.
    const level = process.env.STEADYFN_LOG_LEVEL;
    process.env.STEADYFN_LOG_LEVEL = 'warn';
    const main = handler({ input: Order, terminalErrors: 'ack', logSink: log.sink }, (input) => {
      if (input.orderId === 'busy') throw new RetryableError('LOCKED', 'Order is locked');
      return 'done';
    });
    process.env.STEADYFN_LOG_LEVEL = level;
    const res = await main.aws(batch, lambdaContext());
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: retryable!.messageId }] });
    // The acknowledged message is not silently dropped: its failure is logged (without the body).
    const warned = log.lines.map((l) => JSON.parse(l) as Json).find((l) => l.deliveryId === invalid!.messageId);
    expect(warned).toMatchObject({ level: 'warn', code: 'VALIDATION_FAILED', retryable: false });
    expect(log.lines.join('\n')).not.toContain('o-bad');
  });

  it('fails the whole batch with a typed error when a record has no messageId', async () => {
    const batch = fixture('sqs-standard-batch.json');
    delete batch.Records[1].messageId;
    let ran = 0;
    const main = handler({}, () => {
      ran++;
    });
    const error = await rejection(main.aws(batch, lambdaContext()));
    expect(error.code).toBe('MALFORMED_EVENT');
    expect(ran).toBe(0);
  });
});

describe('SQS FIFO queue', () => {
  it('runs messages in order, stops at the first failure and reports it and every later message', async () => {
    const batch = fixture('sqs-fifo-batch.json');
    const ids = (batch.Records as Json[]).map((r) => r.messageId as string);
    const ran: string[] = [];
    const main = handler({ input: Order, logSink: () => undefined }, (input, ctx) => {
      ran.push(ctx.deliveryId!);
      if (input.orderId === 'o-6002') throw new RetryableError('LOCKED', 'Customer record is locked');
    });
    const res = await main.aws(batch, lambdaContext());
    expect(ran).toEqual([ids[0], ids[1]]);
    expect(res).toEqual({ batchItemFailures: ids.slice(1).map((id) => ({ itemIdentifier: id })) });
  });

  it('reports nothing when every message succeeds, in order', async () => {
    const batch = fixture('sqs-fifo-batch.json');
    const ran: string[] = [];
    const main = handler({ input: Order }, async (input) => {
      await new Promise((resolve) => setImmediate(resolve));
      ran.push(input.orderId);
    });
    await expect(main.aws(batch, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(ran).toEqual(['o-6001', 'o-6002', 'o-6003', 'o-6004']);
  });

  it('treats an invalid message as a failure that stops the group', async () => {
    const batch = fixture('sqs-fifo-batch.json');
    batch.Records[2].body = '{"orderId": 7}';
    const ids = (batch.Records as Json[]).map((r) => r.messageId as string);
    const main = handler({ input: Order, logSink: () => undefined }, () => 'ok');
    const res = await main.aws(batch, lambdaContext());
    expect(res).toEqual({ batchItemFailures: ids.slice(2).map((id) => ({ itemIdentifier: id })) });
  });
});

describe('EventBridge', () => {
  it('reads a scheduled rule as a schedule tick whose deliveryId is the rule and the time', async () => {
    const seen: Context[] = [];
    const main = handler({ input: z.object({}) }, (input, ctx) => {
      seen.push(ctx);
      return { ran: true, input };
    });
    const event = fixture('eventbridge-scheduled-rule.json');
    const res = await main.aws(event, lambdaContext(30_000, 'req-rule-1'));
    expect(res).toEqual({ ran: true, input: {} });
    const ctx = seen[0]!;
    expect(ctx.trigger).toEqual({
      kind: 'schedule',
      source: 'eventbridge',
      scheduledTime: '2025-03-14T10:00:00Z',
      schedule: 'arn:aws:events:eu-west-1:123456789012:rule/nightly-report',
    });
    expect(ctx.requestId).toBe('req-rule-1');
    expect(ctx.deliveryId).toBe('arn:aws:events:eu-west-1:123456789012:rule/nightly-report@2025-03-14T10:00:00Z');
  });

  it('reads EventBridge Scheduler the same way, with the schedule ARN', async () => {
    const seen: Context[] = [];
    const main = handler({ input: z.object({ window: z.enum(['hourly', 'daily']) }) }, (input, ctx) => {
      seen.push(ctx);
      return input.window;
    });
    await expect(main.aws(fixture('eventbridge-scheduler.json'), lambdaContext())).resolves.toBe('hourly');
    const ctx = seen[0]!;
    expect(ctx.trigger).toMatchObject({ kind: 'schedule', source: 'eventbridge-scheduler', scheduledTime: '2025-03-14T11:00:00Z' });
    expect(ctx.deliveryId).toBe('arn:aws:scheduler:eu-west-1:123456789012:schedule/default/hourly-sync@2025-03-14T11:00:00Z');
    // A Scheduler input template may carry the detail as JSON text.
    const templated = fixture('eventbridge-scheduler.json');
    templated.detail = '{"window":"daily"}';
    await expect(main.aws(templated, lambdaContext())).resolves.toBe('daily');
  });

  it('does not take Scheduler API calls (CloudTrail events from aws.scheduler) for ticks', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => {
      seen.push(ctx);
    });
    const event = { ...fixture('eventbridge-scheduler.json'), 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'CreateSchedule' } };
    await main.aws(event, lambdaContext());
    expect(seen[0]!.trigger).toMatchObject({ kind: 'event', type: 'AWS API Call via CloudTrail', eventSource: 'aws.scheduler' });
  });

  it('passes the detail of other events as input, with the event id as deliveryId', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return input.quantity;
    });
    await expect(main.aws(fixture('eventbridge-custom-event.json'), lambdaContext(30_000, 'req-eb-1'))).resolves.toBe(6);
    const ctx = seen[0]!;
    expect(ctx.trigger).toEqual({
      kind: 'event',
      source: 'eventbridge',
      type: 'OrderPlaced',
      eventSource: 'com.example.checkout',
      id: 'e4a1b2c3-d4e5-f6a7-b8c9-d0e1f2a3b4c5',
      time: '2025-03-14T09:41:07Z',
    });
    expect(ctx.requestId).toBe('req-eb-1');
    expect(ctx.deliveryId).toBe('e4a1b2c3-d4e5-f6a7-b8c9-d0e1f2a3b4c5');
  });

  it('throws a failure so Lambda retries the async invocation; a terminal one is acked on request', async () => {
    const failing = handler({ input: Order, logSink: () => undefined }, () => {
      throw new RetryableError('UPSTREAM_DOWN', 'Billing is unavailable');
    });
    const error = await rejection(failing.aws(fixture('eventbridge-custom-event.json'), lambdaContext()));
    expect(error).toMatchObject({ code: 'UPSTREAM_DOWN', retryable: true });
    // A 5xx message is not exposed unless the error says so.
    expect(error.message).not.toContain('Billing');
    const exposed = handler({ input: Order, logSink: () => undefined }, () => {
      throw new RetryableError('UPSTREAM_DOWN', 'Billing is unavailable', { expose: true });
    });
    const shown = await rejection(exposed.aws(fixture('eventbridge-custom-event.json'), lambdaContext()));
    expect(shown.message).toBe('UPSTREAM_DOWN: Billing is unavailable');

    const bad = { ...fixture('eventbridge-custom-event.json'), detail: { orderId: 'o-1', quantity: 'lots' } };
    const strict = handler({ input: Order, logSink: () => undefined }, () => 'never');
    const invalid = await rejection(strict.aws(bad, lambdaContext()));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    expect(invalid.message).not.toContain('lots');
    const lenient = handler({ input: Order, terminalErrors: 'ack', logSink: () => undefined }, () => 'never');
    await expect(lenient.aws(bad, lambdaContext())).resolves.toBeUndefined();
  });
});

describe('direct invocation', () => {
  it('passes the event itself as input (detected from the context, no explicit entry)', async () => {
    const seen: Context[] = [];
    const main = handler({ input: Order }, (input, ctx) => {
      seen.push(ctx);
      return { total: input.quantity * 2 };
    });
    await expect(main({ orderId: 'o-8008', quantity: 4 }, lambdaContext(30_000, 'req-direct-1'))).resolves.toEqual({ total: 8 });
    const ctx = seen[0]!;
    expect(ctx.provider).toBe('aws');
    expect(ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke' });
    expect(ctx.requestId).toBe('req-direct-1');
    expect(ctx.deliveryId).toBeUndefined();
  });

  it('throws a stackless typed error without the payload or the cause', async () => {
    const log = logs();
    const main = handler({ input: Order, logSink: log.sink }, () => {
      throw new TypeError('Cannot read properties of undefined (reading "password=hunter2")');
    });
    const error = await rejection(main.aws({ orderId: 'o-9009', quantity: 1 }, lambdaContext()));
    expect(error).toMatchObject({ code: 'INTERNAL', retryable: true, name: 'INTERNAL' });
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error)).not.toContain('o-9009');
    expect(log.lines.join('\n')).not.toMatch(/\\n\s+at\s/);

    const invalid = await rejection(main.aws({ orderId: 'o-9009', quantity: 'x' }, lambdaContext()));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    expect(invalid.message).not.toContain('o-9009');
  });
});

describe('deadline', () => {
  // On a fake clock (test/support/clock.ts): the answer comes at the deadline less the margin, to
  // the millisecond, however loaded the machine — 800 ms before Lambda would stop the invocation.
  beforeEach(useFakeClock);
  afterEach(useRealClock);

  it('answers a slow direct invoke with a retryable DEADLINE_EXCEEDED before the platform would, and aborts ctx.signal', async () => {
    let signal: AbortSignal | undefined;
    const main = handler({ logSink: () => undefined, deadlineMarginMs: 800 }, async (_input, ctx) => {
      signal = ctx.signal;
      await sleep(60_000);
      return 'too late';
    });
    const context = lambdaContext(1_000);
    const call = watch(main.aws({ job: 'rebuild-index' }, context));
    await advance(199);
    expect(call.settled).toBe(false);
    expect(signal?.aborted).toBe(false);
    await advance(1);
    expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(signal?.aborted).toBe(true);
    // Lambda would kill the invocation at the deadline; the wrapper answered 800 ms (the margin) before it.
    expect(context.deadlineMs - call.at!).toBe(800);
  });

  it('reports only the slow message of an SQS batch as failed', async () => {
    const batch = fixture('sqs-standard-batch.json');
    batch.Records[1].body = JSON.stringify({ orderId: 'slow', quantity: 1 });
    const signals: AbortSignal[] = [];
    const main = handler({ input: Order, logSink: () => undefined, deadlineMarginMs: 800 }, async (input, ctx) => {
      signals.push(ctx.signal);
      if (input.orderId === 'slow') await sleep(60_000);
      return 'done';
    });
    const context = lambdaContext(1_000);
    const call = watch(main.aws(batch, context));
    await advance(199);
    expect(call.settled).toBe(false);
    await advance(1);
    expect(context.deadlineMs - call.at!).toBe(800);
    expect(call.value).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[1].messageId }] });
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('answers a slow HTTP request with a 504 problem', async () => {
    const main = handler({ logSink: () => undefined, deadlineMarginMs: 800 }, async () => {
      await sleep(60_000);
    });
    const context = lambdaContext(1_000);
    const call = watch(main.aws(fixture('apigw-v2-post.json'), context));
    await advance(199);
    expect(call.settled).toBe(false);
    await advance(1);
    expect(context.deadlineMs - call.at!).toBe(800);
    const res = call.value as Json;
    expect(res.statusCode).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'DEADLINE_EXCEEDED', status: 504 });
  });

  it('fails at once when less time is left than the margin, without starting the function', async () => {
    let started = false;
    const main = handler({ logSink: () => undefined, deadlineMarginMs: 500 }, async () => {
      started = true;
      await sleep(60_000);
    });
    const error = await rejection(main.aws({}, lambdaContext(200)));
    expect(error.code).toBe('DEADLINE_EXCEEDED');
    expect(started).toBe(false);
  });
});
