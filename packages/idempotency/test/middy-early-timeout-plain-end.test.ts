/**
 * middy's early timeout (`timeoutEarlyInMillis`) while `steadyHandler`'s function still runs,
 * answered by a plain middleware listed after `toMiddy(idempotency(…))` — a plain `onError`
 * answering middy's `TimeoutError`, or a plain `after` passing on `timeoutEarlyResponse`'s
 * answer. No steadyfn `after`/`onError` runs; `middyPlugin()`'s `requestEnd` ends the request.
 * It used to release the record, so a retry ran the function beside the one still running.
 * On the real Redis and the real `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { middyPlugin, steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, useBackend } from './support.js';

describe('idempotency under middy: early timeout ended by a plain middleware (redis)', () => {
  const backend = useBackend('redis');

  async function twice(options: object, inner: object) {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const main = middy(
      steadyHandler(async () => {
        runs++;
        await hold;
        return { statusCode: 201, body: 'created' };
      }),
      middyPlugin({ timeoutEarlyInMillis: 29_990, ...options }),
    )
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `o-${randomUUID().slice(0, 8)}` }))
      .use(inner);
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    const first = await main(event, lambdaContext() as never).catch((error: unknown) => error);
    const retry = await main(event, lambdaContext() as never).catch((error: unknown) => error);
    release();
    return { first, retry, runs };
  }

  it("a plain onError answering middy's TimeoutError: the record is left to its lease, the retry does not run", async () => {
    const onTimeout = { onError: async (request: { error?: { name?: string } }) => (request.error?.name === 'TimeoutError' ? { statusCode: 503, body: 'timeout' } : undefined) };
    const got = await twice({}, onTimeout);
    expect(got).toMatchObject({ first: { statusCode: 503 }, retry: { code: 'IDEMPOTENCY_IN_PROGRESS' }, runs: 1 });
  });

  it('timeoutEarlyResponse and a plain after returning a value: the record is left to its lease, the retry does not run', async () => {
    const passOn = { after: async (request: { response: object }) => ({ ...request.response }) };
    const got = await twice({ timeoutEarlyResponse: () => ({ statusCode: 202, body: 'accepted' }) }, passOn);
    expect(got).toMatchObject({ first: { statusCode: 202 }, retry: { code: 'IDEMPOTENCY_IN_PROGRESS' }, runs: 1 });
  });
});

describe('idempotency under middy: a plain after decorating the function’s answer (redis)', () => {
  const backend = useBackend('redis');

  it('the function returned: the record is completed with its result; the retry replays it, the function runs once', async () => {
    let runs = 0;
    const main = middy(
      steadyHandler(async () => (runs++, { statusCode: 201, body: 'created' })),
      middyPlugin(),
    )
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `o-${randomUUID().slice(0, 8)}` }))
      .use({ after: async (request: { response: object }) => ({ ...request.response, headers: { 'x-served-by': 'edge' } }) });
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    const first = await main(event, lambdaContext() as never);
    const retry = await main(event, lambdaContext() as never);
    expect({ first, retry, runs }).toMatchObject({ first: { statusCode: 201, headers: { 'x-served-by': 'edge' } }, retry: { statusCode: 201, body: 'created' }, runs: 1 });
  });
});
