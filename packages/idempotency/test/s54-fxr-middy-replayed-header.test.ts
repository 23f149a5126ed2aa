/**
 * Under middy (`toMiddy`) an HTTP function returns its own Lambda proxy result, stored as a
 * plain value; a duplicate's replay must still carry `Idempotency-Replayed: true`, as the
 * README promises and as `handler().aws` replays do — in `headers`, or in `multiValueHeaders`
 * when the response uses them (ALB multi-value mode, API Gateway REST). Real `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore, REPLAYED_HEADER } from '../src/index.js';
import { httpEvent, lambdaContext, sqsRecord } from './support.js';

/** A middy function answering `response` (a fresh copy each run); `runs` counts handler calls. `localCache: false`: every duplicate reads the store. */
function middyFunction(response: () => Record<string, unknown>, localCache = true) {
  const counter = { runs: 0 };
  const store = memoryStore();
  const main = middy(steadyHandler(async () => (counter.runs++, response()))).use(toMiddy(idempotency({ store, ttlMs: 60_000, localCache }), { name: `m-${randomUUID()}` }));
  return { main: main as unknown as (event: unknown, context: unknown) => Promise<any>, counter, store };
}

/** An ALB event in multi-value headers mode (`multiValueHeaders`, no `headers`). */
function albMultiValueEvent(key: string): Record<string, unknown> {
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/0a1b2c3d' } },
    httpMethod: 'POST',
    path: '/orders',
    multiValueQueryStringParameters: {},
    multiValueHeaders: { 'content-type': ['application/json'], 'idempotency-key': [key], host: ['orders.example.com'] },
    body: JSON.stringify({ sku: 'lamp' }),
    isBase64Encoded: false,
  };
}

describe('middy: a replayed proxy result is marked Idempotency-Replayed: true', () => {
  it.each([
    ['local cache', true],
    ['store', false],
  ])('HTTP API (v2), replayed from the %s: the header is added to `headers`; the first answer has none; the rest is the first answer', async (_from, localCache) => {
    const { main, counter } = middyFunction(() => ({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"orderId":"o-1"}' }), localCache);
    const key = randomUUID();
    const first = await main(httpEvent({ key, body: { sku: 'lamp' } }), lambdaContext());
    const again = await main(httpEvent({ key, body: { sku: 'lamp' } }), lambdaContext());
    const third = await main(httpEvent({ key, body: { sku: 'lamp' } }), lambdaContext());
    expect(counter.runs).toBe(1);
    expect(first.headers?.[REPLAYED_HEADER]).toBeUndefined();
    expect(again).toEqual({ ...first, headers: { ...first.headers, [REPLAYED_HEADER]: 'true' } });
    // The stored value is not changed by a replay: the next one is the same.
    expect(third).toEqual(again);
  });

  it('a proxy result without headers gets a `headers` map with the mark', async () => {
    const { main, counter } = middyFunction(() => ({ statusCode: 202, body: 'queued' }));
    const key = randomUUID();
    await main(httpEvent({ key, body: { n: 1 } }), lambdaContext());
    const again = await main(httpEvent({ key, body: { n: 1 } }), lambdaContext());
    expect(counter.runs).toBe(1);
    expect(again).toEqual({ statusCode: 202, body: 'queued', headers: { [REPLAYED_HEADER]: 'true' } });
  });

  it('ALB multi-value mode: the header is added to `multiValueHeaders` only, replacing a spelling the function set', async () => {
    const { main, counter } = middyFunction(() => ({
      statusCode: 201,
      statusDescription: '201 Created',
      multiValueHeaders: { 'content-type': ['application/json'], 'idempotency-replayed': ['false'], link: ['</a>; rel=a', '</b>; rel=b'] },
      body: '{"orderId":"o-1"}',
      isBase64Encoded: false,
    }));
    const key = randomUUID();
    const first = await main(albMultiValueEvent(key), lambdaContext());
    const again = await main(albMultiValueEvent(key), lambdaContext());
    expect(counter.runs).toBe(1);
    expect(again.headers).toBeUndefined();
    expect(again.multiValueHeaders).toEqual({ 'content-type': ['application/json'], link: ['</a>; rel=a', '</b>; rel=b'], [REPLAYED_HEADER]: ['true'] });
    expect({ ...again, multiValueHeaders: undefined }).toEqual({ ...first, multiValueHeaders: undefined });
  });

  it('a response with both maps (API Gateway REST merges them): the mark is in `multiValueHeaders` only, never twice', async () => {
    const { main } = middyFunction(() => ({ statusCode: 200, headers: { 'content-type': 'text/plain', 'Idempotency-Replayed': 'no' }, multiValueHeaders: { vary: ['accept'] }, body: 'ok' }));
    const key = randomUUID();
    await main(httpEvent({ key, body: { n: 2 } }), lambdaContext());
    const again = await main(httpEvent({ key, body: { n: 2 } }), lambdaContext());
    expect(again.headers).toEqual({ 'content-type': 'text/plain' });
    expect(again.multiValueHeaders).toEqual({ vary: ['accept'], [REPLAYED_HEADER]: ['true'] });
  });

  it('a plain value (not a proxy result): the replay is the first answer as the adapter rendered it, plus the header', async () => {
    for (const value of [{ orderId: 'o-1' }, 'created']) {
      const { main, counter } = middyFunction(() => value as never);
      const key = randomUUID();
      const first = await main(httpEvent({ key, body: { v: value } }), lambdaContext());
      const again = await main(httpEvent({ key, body: { v: value } }), lambdaContext());
      expect(counter.runs).toBe(1);
      expect(first.headers?.[REPLAYED_HEADER]).toBeUndefined();
      expect(again).toEqual({ ...first, headers: { ...first.headers, [REPLAYED_HEADER]: 'true' } });
    }
  });

  it('a numeric statusCode without a proxy result\'s shape is replayed as it is, as the adapter sends it', async () => {
    const { main } = middyFunction(() => ({ statusCode: 200, headers: 'x', body: 1 }));
    const key = randomUUID();
    const first = await main(httpEvent({ key, body: { n: 3 } }), lambdaContext());
    const again = await main(httpEvent({ key, body: { n: 3 } }), lambdaContext());
    expect(again).toEqual(first);
  });

  it('not an HTTP event: a redelivered SQS message replays its proxy-shaped value unchanged', async () => {
    const { main, counter } = middyFunction(() => ({ statusCode: 200, body: 'done' }));
    const record = sqsRecord(randomUUID(), { orderId: 'o-9' });
    const first = await main({ Records: [record] }, lambdaContext());
    const again = await main({ Records: [record] }, lambdaContext());
    expect(counter.runs).toBe(1);
    expect(again).toEqual(first);
    expect(JSON.stringify(again)).not.toContain(REPLAYED_HEADER);
  });
});
