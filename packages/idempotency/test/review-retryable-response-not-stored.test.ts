/**
 * A 5xx, 429 or 408 response the function RETURNS (not throws) is a retryable failure, as a
 * thrown retryable error is: never stored as a completed answer, so a retry runs the function
 * again instead of getting the failure replayed (`Idempotency-Replayed: true`) until `ttlMs`
 * ends. Peer reports: LabsCrypt/remitlend#1329, useautumn/autumn#1851, ietf-wg-httpapi/idempotency#41.
 * Only a `cacheErrors` function that opts in (for the `IDEMPOTENCY_RESPONSE_RETRYABLE` it is
 * shown) stores one. On every real backend: Redis, the Redis Cluster and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, httpResult, type Plugin, type SteadyError } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { idempotency, pendingCompletion, type IdempotencyOptions, type PendingCompletion } from '../src/index.js';
import { BACKENDS, counting, httpEvent, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

type Res = { statusCode: number; headers?: Record<string, string>; body?: string };

const replayedOf = (res: Res): string | undefined => res.headers?.['idempotency-replayed'] ?? res.headers?.['Idempotency-Replayed'];

describe.each(BACKENDS)('a returned 5xx/429/408 response (%s)', (name) => {
  const backend = useBackend(name);

  /** A function that answers `status` on its first run and 200 after; how often it ran. */
  function flaky(status: number, extra: Partial<IdempotencyOptions> = {}) {
    const runs = { count: 0 };
    const main = handler({ name: `orders-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, async () => {
      runs.count++;
      if (runs.count === 1) return httpResult({ status, headers: { 'retry-after': '1' }, body: { error: 'payment provider unavailable, retry' } });
      return { charged: true };
    });
    return { main, runs };
  }

  async function twice(main: ReturnType<typeof flaky>['main']): Promise<[Res, Res]> {
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Res;
    const retry = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Res;
    return [first, retry];
  }

  it.each([503, 500, 502, 504, 429, 408])('handler(): httpResult status %i is not replayed to the retry', async (status) => {
    const { main, runs } = flaky(status);
    const [first, retry] = await twice(main);
    expect(first.statusCode).toBe(status);
    expect({ status: retry.statusCode, replayed: replayedOf(retry), runs: runs.count }).toEqual({ status: 200, replayed: undefined, runs: 2 });
  });

  it.each([true, false])('cacheErrors: %s does not store it either (a retryable failure)', async (cacheErrors) => {
    const { main, runs } = flaky(503, { cacheErrors });
    const [, retry] = await twice(main);
    expect({ status: retry.statusCode, runs: runs.count }).toEqual({ status: 200, runs: 2 });
  });

  it('a cacheErrors function that opts in stores it; it is shown the response as IDEMPOTENCY_RESPONSE_RETRYABLE', async () => {
    const seen: Array<Pick<SteadyError, 'code' | 'status' | 'retryable'>> = [];
    const { main, runs } = flaky(503, { cacheErrors: (e) => (seen.push({ code: e.code, status: e.status, retryable: e.retryable }), e.status === 503) });
    const [first, retry] = await twice(main);
    expect(seen).toEqual([{ code: 'IDEMPOTENCY_RESPONSE_RETRYABLE', status: 503, retryable: true }]);
    expect({ status: retry.statusCode, replayed: replayedOf(retry), body: retry.body, runs: runs.count }).toEqual({ status: 503, replayed: 'true', body: first.body, runs: 1 });
  });

  it('a cacheErrors function that declines (or throws) releases it', async () => {
    for (const cacheErrors of [() => false, () => { throw new Error('no'); }]) {
      const { main, runs } = flaky(429, { cacheErrors });
      const [, retry] = await twice(main);
      expect({ status: retry.statusCode, runs: runs.count }).toEqual({ status: 200, runs: 2 });
    }
  });

  it('a 4xx the caller must fix (409, 422) and a 2xx are still stored and replayed', async () => {
    for (const status of [201, 409, 422]) {
      const { main, runs } = flaky(status);
      const [first, retry] = await twice(main);
      expect({ status: retry.statusCode, replayed: replayedOf(retry), body: retry.body, runs: runs.count }).toEqual({ status, replayed: 'true', body: first.body, runs: 1 });
    }
  });

  it('pendingCompletion offers no completion for it to another write (the plugin releases it)', async () => {
    const offered: Array<PendingCompletion | undefined> = [];
    const write: Plugin = { name: 'joining-write', after: (ctx, result) => void offered.push(pendingCompletion(ctx, result)) };
    let runs = 0;
    const main = handler({ name: `orders-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), write] }, async () =>
      ++runs === 1 ? httpResult({ status: 502, body: { error: 'upstream' } }) : { charged: true },
    );
    const key = randomUUID();
    await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext());
    const retry = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as Res;
    expect({ offered: offered.map((o) => o === undefined), status: retry.statusCode, runs }).toEqual({ offered: [true, false], status: 200, runs: 2 });
  });

  it('a queue function returning { statusCode: 503 } (a plain value, stored and replayed there) has its completion joined to another write', async () => {
    // Same rule as the plugin's own `after` (releasesResponse): a plain `{ statusCode }` is a response on HTTP only.
    const store = counting(backend.store);
    const offered: Array<PendingCompletion | undefined> = [];
    const write: Plugin = {
      name: 'joining-write',
      async after(ctx, result) {
        const completion = pendingCompletion(ctx, result);
        offered.push(completion);
        if (completion?.lease && (await completion.lease.store.settle(completion.lease.settle))) completion.joined();
      },
    };
    let runs = 0;
    const main = handler({ name: `orders-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false }), write] }, async () => ({ statusCode: 503, run: ++runs }));
    const event = { Records: [sqsRecord(randomUUID(), { a: 1 })] };
    expect(await main.aws(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(offered[0]?.answer).toBe(JSON.stringify({ k: 'v', v: { statusCode: 503, run: 1 } }));
    // Completed by the joined write alone, then replayed to the redelivery.
    expect({ complete: store.calls.complete ?? 0, completeMany: store.calls.completeMany ?? 0 }).toEqual({ complete: 0, completeMany: 0 });
    expect(await main.aws(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toBe(1);
  });

  it('middy: a raw { statusCode: 503 } from steadyHandler is not replayed to the retry', async () => {
    let runs = 0;
    const fn = middy()
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })))
      .handler(steadyHandler(async () => (++runs === 1 ? { statusCode: 503, headers: { 'retry-after': '1' }, body: 'later' } : { statusCode: 201, body: 'ok' })));
    const key = randomUUID();
    expect(((await fn(httpEvent({ key, body: { a: 1 } }) as never, lambdaContext() as never)) as Res).statusCode).toBe(503);
    const retry = (await fn(httpEvent({ key, body: { a: 1 } }) as never, lambdaContext() as never)) as Res;
    expect({ status: retry.statusCode, runs }).toEqual({ status: 201, runs: 2 });
  });

  it('middy: a cacheErrors function that opts in stores the raw { statusCode: 503 } and replays it', async () => {
    let runs = 0;
    const fn = middy()
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, cacheErrors: (e) => e.code === 'IDEMPOTENCY_RESPONSE_RETRYABLE' })))
      .handler(steadyHandler(async () => (++runs === 1 ? { statusCode: 503, body: 'later' } : { statusCode: 201, body: 'ok' })));
    const key = randomUUID();
    await fn(httpEvent({ key, body: { a: 1 } }) as never, lambdaContext() as never);
    const retry = (await fn(httpEvent({ key, body: { a: 1 } }) as never, lambdaContext() as never)) as Res;
    expect({ status: retry.statusCode, runs }).toEqual({ status: 503, runs: 1 });
  });
});
