/**
 * The idempotency plugin as a middy middleware (`toMiddy`) on the real `@middy/core`, with a
 * real Powertools middleware (`injectLambdaContext`) in the same chain, against the real Redis
 * started by `services.sh`: a duplicate replays and the handler does not run again.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { eventually, lambdaContext, openBackend, type Backend } from './support.js';

let backend: Backend;
beforeAll(async () => {
  backend = await openBackend('redis');
});
afterAll(async () => backend?.close());

const logger = new Logger({ serviceName: 'orders', logLevel: 'ERROR' });

function httpEvent(key: string, body: unknown): Record<string, unknown> {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '203.0.113.9' }, requestId: 'r', domainName: 'api.example.com' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

function sqsEvent(messageId: string, body: unknown): Record<string, unknown> {
  return {
    Records: [
      {
        messageId,
        receiptHandle: randomUUID(),
        body: JSON.stringify(body),
        attributes: { ApproximateReceiveCount: '1' },
        messageAttributes: {},
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
      },
    ],
  };
}

/** An order-creating function on middy, with steadyfn's idempotency on Redis; `runs` counts handler calls. */
function ordersFunction(options: { hold?: Promise<void> } = {}) {
  const counter = { runs: 0 };
  const main = middy(
    steadyHandler(async (event: { body?: string }) => {
      counter.runs++;
      await options.hold;
      return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId: `o-${counter.runs}`, echo: event.body ?? null }) };
    }),
  )
    .use(injectLambdaContext(logger))
    .use(toMiddy(idempotency({ store: backend.store, ttlMs: 60_000, localCache: false }), { name: `orders-${randomUUID().slice(0, 8)}` }));
  return { main, counter };
}

describe('idempotency on middy (Redis)', () => {
  it('a duplicate HTTP request replays the stored response; the handler runs once', async () => {
    const { main, counter } = ordersFunction();
    const key = randomUUID();
    const first = await main(httpEvent(key, { sku: 'lamp' }), lambdaContext() as never);
    const again = await main(httpEvent(key, { sku: 'lamp' }), lambdaContext() as never);
    expect(counter.runs).toBe(1);
    expect(first).toMatchObject({ statusCode: 201 });
    // Read from Redis (no local cache): the stored proxy result, marked as a replay.
    expect(again).toEqual({ ...(first as object), headers: { 'content-type': 'application/json', 'Idempotency-Replayed': 'true' } });
    // The record is in Redis under the store's prefix.
    expect((await backend.redis!.keys(`${backend.prefix}*`)).length).toBeGreaterThan(0);
  });

  it('a redelivered SQS message (same message id) replays; another message runs', async () => {
    const { main, counter } = ordersFunction();
    const id = randomUUID();
    const first = await main(sqsEvent(id, { orderId: 'o-9' }), lambdaContext() as never);
    const redelivered = await main(sqsEvent(id, { orderId: 'o-9' }), lambdaContext() as never);
    await main(sqsEvent(randomUUID(), { orderId: 'o-9' }), lambdaContext() as never);
    expect(redelivered).toEqual(first);
    expect(counter.runs).toBe(2);
  });

  it('a duplicate while the first still runs is thrown as IDEMPOTENCY_IN_PROGRESS (409, retryable)', async () => {
    // The first runs until the duplicate has been answered: not 300 ms, started 100 ms before the
    // duplicate — a loaded machine could have the duplicate claim first, or come after the first ended.
    let release!: () => void;
    const { main, counter } = ordersFunction({ hold: new Promise<void>((resolve) => (release = resolve)) });
    const key = randomUUID();
    const firstCall = main(httpEvent(key, { sku: 'lamp' }), lambdaContext() as never);
    await eventually(() => counter.runs === 1);
    await expect(main(httpEvent(key, { sku: 'lamp' }), lambdaContext() as never)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS', status: 409, retryable: true });
    release();
    await firstCall;
    expect(counter.runs).toBe(1);
  });

  it('a failed handler releases the record, so the retry runs; the same key with another body is 422', async () => {
    let fail = true;
    const main = middy(
      steadyHandler(async () => {
        if (fail) throw new Error('payment provider down');
        return { statusCode: 201, body: 'ok' };
      }),
    ).use(toMiddy(idempotency({ store: backend.store, ttlMs: 60_000, localCache: false }), { name: `pay-${randomUUID().slice(0, 8)}` }));
    const key = randomUUID();
    await expect(main(httpEvent(key, { amount: 5 }), lambdaContext() as never)).rejects.toThrow('payment provider down');
    fail = false;
    await expect(main(httpEvent(key, { amount: 5 }), lambdaContext() as never)).resolves.toEqual({ statusCode: 201, body: 'ok' });
    await expect(main(httpEvent(key, { amount: 6 }), lambdaContext() as never)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
  });
});
