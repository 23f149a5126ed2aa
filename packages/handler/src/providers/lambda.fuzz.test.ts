/**
 * Fuzz: whatever event Lambda (or a caller of Invoke) hands over — arbitrary JSON, events
 * shaped like each trigger with random contents, or the documented fixtures with random
 * mutations — and whatever the function returns or throws, `main.aws(event, context)` either
 * resolves (HTTP-shaped events always with a sendable status code response) or rejects with a
 * typed public error: a string `code`, a boolean `retryable`, and a stack of one line.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, httpError, httpResult, RetryableError, TerminalError, type LambdaContext } from '../index.js';
import { classifyLambdaEvent } from './lambda-events.js';
import { expectPublicError, mutate, mutation } from '../../test/support/fuzz.js';
import { expectBytesArrived, type SeenBody } from '../../test/support/bytes.js';

type Json = unknown;

const fixturesDir = new URL('../../test/fixtures/aws/', import.meta.url);
const fixtures = readdirSync(fixturesDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, doc: JSON.parse(readFileSync(new URL(name, fixturesDir), 'utf8')) as Json }));

const HTTP_KINDS = new Set(['apigw-v1', 'apigw-v2', 'function-url', 'alb']);
/** Only ever inside an unexpected error the function throws: it must never come out. */
const SECRET = 'sk_live_7Hq2fuzz';

function lambdaContext(remaining: number): LambdaContext {
  return {
    awsRequestId: randomUUID(),
    functionName: 'fuzz-fn',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fuzz-fn',
    getRemainingTimeInMillis: () => remaining,
  };
}

/** Every path to a value inside a JSON document. */

/** A fixture with one to three random replacements or removals anywhere in it. */
const mutatedFixture = fc.constantFrom(...fixtures).chain(({ doc }) =>
  fc.array(mutation(doc), { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((acc, m) => mutate(acc, m.path, m.replacement, m.remove), doc)),
);

const EVENT_KEYS = [
  'Records', 'requestContext', 'httpMethod', 'path', 'version', 'rawPath', 'rawQueryString', 'cookies', 'headers',
  'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters', 'body', 'isBase64Encoded',
  'detail-type', 'source', 'detail', 'id', 'time', 'resources', 'constructor', 'toString', '__proto__',
];
const anyJson = fc.jsonValue({ maxDepth: 3 });
const looseObject = fc.dictionary(fc.constantFrom(...EVENT_KEYS), anyJson, { maxKeys: 8 });

/** Objects that classify as one trigger, with everything else random. */
const shapedEvent = fc.oneof(
  fc.tuple(looseObject, anyJson).map(([o, elb]) => ({ ...o, requestContext: { elb } })),
  fc.tuple(looseObject, anyJson, fc.constantFrom('x.execute-api.eu-west-1.amazonaws.com', 'x.lambda-url.eu-west-1.on.aws', 42)).map(([o, http, domainName]) => ({
    ...o,
    version: '2.0',
    requestContext: { http: typeof http === 'object' && http !== null && !Array.isArray(http) ? http : { method: http }, domainName },
  })),
  fc.tuple(looseObject, fc.string(), anyJson).map(([o, httpMethod, identity]) => ({ ...o, httpMethod, requestContext: { identity } })),
  fc.tuple(fc.array(fc.oneof(anyJson, fc.record({ messageId: fc.oneof(fc.uuid(), anyJson), body: fc.oneof(fc.json(), fc.string(), anyJson), eventSource: fc.constant('aws:sqs'), eventSourceARN: fc.constantFrom('arn:aws:sqs:eu-west-1:1:q', 'arn:aws:sqs:eu-west-1:1:q.fifo'), attributes: anyJson }, { requiredKeys: ['eventSource'] })), { maxLength: 5 })).map(([Records]) => ({ Records })),
  fc.tuple(looseObject, fc.constantFrom('Scheduled Event', 'OrderPlaced'), fc.constantFrom('aws.events', 'aws.scheduler', 'com.example'), anyJson).map(([o, dt, source, detail]) => ({ ...o, 'detail-type': dt, source, detail })),
);

const event = fc.oneof(anyJson, looseObject, shapedEvent, mutatedFixture).map((e) => (e === undefined ? undefined : (JSON.parse(JSON.stringify(e)) as Json)));

const Order = z.object({ orderId: z.string(), quantity: z.coerce.number().int().positive() });

type Behaviour =
  | { kind: 'echo' }
  | { kind: 'value'; value: Json }
  | { kind: 'http'; status: number; headers: Record<string, string>; body: Json }
  | { kind: 'throwUnknown' }
  | { kind: 'throwTyped'; which: 'terminal' | 'retryable' | 'http'; status: number }
  | { kind: 'throwValue'; value: Json };

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.constant({ kind: 'echo' as const }),
  anyJson.map((value) => ({ kind: 'value' as const, value })),
  fc.record({ kind: fc.constant('http' as const), status: fc.integer({ min: 0, max: 999 }), headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), body: anyJson }),
  fc.constant({ kind: 'throwUnknown' as const }),
  fc.record({ kind: fc.constant('throwTyped' as const), which: fc.constantFrom('terminal' as const, 'retryable' as const, 'http' as const), status: fc.integer({ min: 0, max: 999 }) }),
  anyJson.map((value) => ({ kind: 'throwValue' as const, value })),
);

function run(b: Behaviour, input: unknown): unknown {
  switch (b.kind) {
    case 'echo':
      return input;
    case 'value':
      return b.value;
    case 'http':
      return httpResult({ status: b.status, headers: b.headers, body: b.body });
    case 'throwUnknown':
      throw new Error(`lost connection (${SECRET})`);
    case 'throwTyped':
      if (b.which === 'terminal') throw new TerminalError('OUT_OF_STOCK', 'Nothing left');
      if (b.which === 'retryable') throw new RetryableError('LOCKED', 'Try later');
      throw httpError(b.status, 'CUSTOM', 'Custom status');
    case 'throwValue':
      throw b.value;
  }
}

function expectHttpResponse(kind: string, res: unknown): void {
  expect(typeof res).toBe('object');
  const r = res as Record<string, unknown>;
  expect(Number.isInteger(r.statusCode)).toBe(true);
  expect(r.statusCode as number).toBeGreaterThanOrEqual(200);
  expect(r.statusCode as number).toBeLessThanOrEqual(599);
  expect(typeof r.body).toBe('string');
  expect(typeof r.isBase64Encoded).toBe('boolean');
  expect(String(r.body)).not.toContain(SECRET);
  const headers = (r.headers ?? r.multiValueHeaders) as Record<string, unknown>;
  expect(typeof headers).toBe('object');
  for (const value of Object.values(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) expect(typeof v).toBe('string');
  }
  if (kind === 'alb') expect(r.statusDescription).toMatch(/^\d{3}( \S.*)?$/);
  // The runtime serialises the response; it must be plain JSON.
  expect(() => JSON.stringify(res)).not.toThrow();
}

describe('Lambda adapter (fuzz)', () => {
  const quiet = () => undefined;

  it('resolves or rejects typed for any event, result and clock; HTTP-shaped events always get a status code', async () => {
    await fc.assert(
      fc.asyncProperty(event, behaviour, fc.boolean(), fc.constantFrom(30_000, 30_000, -5, Number.NaN), async (ev, b, validated, remaining) => {
        const main = validated
          ? handler({ input: Order, logSink: quiet }, (input) => run(b, input))
          : handler({ logSink: quiet }, (input) => run(b, input));
        const kind = classifyLambdaEvent(ev);
        let result: unknown;
        let thrown: unknown;
        let rejected = false;
        try {
          result = await main.aws(ev, lambdaContext(remaining));
        } catch (error) {
          rejected = true;
          thrown = error;
        }
        if (HTTP_KINDS.has(kind)) {
          expect(rejected).toBe(false);
          expectHttpResponse(kind, result);
          return;
        }
        // A rejected authorizer caller is the one error whose message must be exactly `Unauthorized` (API Gateway's 401).
        if (rejected && kind === 'authorizer' && (thrown as Error).message === 'Unauthorized') {
          expect(thrown).toMatchObject({ code: 'UNAUTHORIZED', retryable: false, stack: 'Unauthorized' });
          return;
        }
        if (rejected) {
          expectPublicError(thrown, { secret: SECRET });
          return;
        }
        if (kind === 'sqs') {
          const ids = new Set(((ev as { Records: Array<{ messageId?: unknown }> }).Records ?? []).map((r) => r?.messageId));
          const failures = (result as { batchItemFailures: Array<{ itemIdentifier: string }> }).batchItemFailures;
          expect(Array.isArray(failures)).toBe(true);
          for (const f of failures) expect(ids.has(f.itemIdentifier)).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('hands any body bytes sent base64 under a binary type to the function unchanged, on every HTTP event shape', async () => {
    const httpFixtures = fixtures.filter(({ doc }) => HTTP_KINDS.has(classifyLambdaEvent(doc)));
    let seen: SeenBody | undefined;
    const main = handler({ logSink: quiet }, (input, ctx) => {
      seen = { input, rawBytes: ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined };
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...httpFixtures),
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom('application/octet-stream', 'image/png', 'application/pdf', 'application/x-protobuf'),
        async ({ doc }, bytes, type) => {
          const event = structuredClone(doc) as Record<string, any>;
          // Every shape reads `multiValueHeaders` first when present, `headers` otherwise.
          if (event.multiValueHeaders) event.multiValueHeaders = { 'content-type': [type] };
          event.headers = { 'content-type': type };
          event.body = Buffer.from(bytes).toString('base64');
          event.isBase64Encoded = true;
          seen = undefined;
          const res = (await main.aws(event, lambdaContext(30_000))) as { statusCode: number };
          expect(res.statusCode).toBe(204);
          expectBytesArrived(seen, bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers an EventBridge event whose resources hold an object with a non-function toString (found by this fuzz, seed -1434256460)', async () => {
    const tick = JSON.parse(
      '{"version":"0","id":"3d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a","detail-type":"Scheduled Event","source":"aws.scheduler","account":"123456789012",' +
        '"time":"2025-03-14T11:00:00Z","region":"eu-west-1","resources":[{"toString":{}}],"detail":{"window":"hourly"}}',
    );
    const seen: string[] = [];
    const main = handler({ logSink: quiet }, (_input, ctx) => {
      seen.push(String(ctx.deliveryId));
    });
    await expect(main.aws(tick, lambdaContext(30_000))).resolves.toBeUndefined();
    // The same event as an SQS body (a rule with the queue as target) is keyed the same way.
    const sqs = { Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q', body: JSON.stringify(tick), attributes: {} }] };
    await expect(main.aws(sqs, lambdaContext(30_000))).resolves.toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['{"toString":{}}@2025-03-14T11:00:00Z', '{"toString":{}}@2025-03-14T11:00:00Z']);
  });

  it('keeps hostile names in headers, query and SQS attributes as plain data', async () => {
    const raw =
      '{"httpMethod":"GET","path":"/","requestContext":{"identity":{}},' +
      '"headers":{"__proto__":"a","constructor":"b","toString":"c"},' +
      '"queryStringParameters":{"__proto__":"1","constructor":"2","hasOwnProperty":"3"}}';
    const seen: unknown[] = [];
    const main = handler({ logSink: quiet }, (input, ctx) => {
      seen.push(ctx.trigger);
      return input;
    });
    const res = (await main.aws(JSON.parse(raw), lambdaContext(30_000))) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ['__proto__']: '1', constructor: '2', hasOwnProperty: '3' });
    expect(({} as Record<string, unknown>).constructor).toBe(Object);

    const sqs = JSON.parse(
      '{"Records":[{"messageId":"m-1","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q","body":"{}",' +
        '"attributes":{"ApproximateReceiveCount":"2"},"messageAttributes":{"__proto__":{"stringValue":"x","dataType":"String"}}}]}',
    );
    await expect(main.aws(sqs, lambdaContext(30_000))).resolves.toEqual({ batchItemFailures: [] });
    expect(Object.getPrototypeOf((seen[1] as { attributes: object }).attributes)).toBe(Object.prototype);
  });
});
