/**
 * A joined write finds the request already applied by an earlier attempt
 * (`RequestAlreadyAppliedError`, carrying the answer that attempt recorded): the caller is a
 * retry and gets that attempt's answer — a duplicate's answer. Under middy the recorded Lambda
 * proxy result (a plain `v` record) used to go back without `Idempotency-Replayed: true`, in
 * `onError` and in `after` (an inner catch-all onError recovered first), unlike every other
 * replay under middy and like no replay under `handler()`. Real `@middy/core`, real Redis.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, REPLAYED_HEADER, RequestAlreadyAppliedError } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

const errorPage: Plugin = { name: 'error-page', onError: (_ctx, error) => ({ answer: { statusCode: 500, body: error.code } }) };

describe('middy: the earlier attempt’s answer (IDEMPOTENCY_REQUEST_APPLIED) is marked as a replay (redis)', () => {
  const backend = useBackend('redis');

  it.each([
    ['onError', []],
    ['after, an inner catch-all onError recovering first', [errorPage]],
  ])('%s: the recorded proxy result with Idempotency-Replayed: true, and the same on a retry', async (_path, inner) => {
    let runs = 0;
    const recorded = JSON.stringify({ k: 'v', v: { statusCode: 201, headers: { 'content-type': 'text/plain' }, body: 'first attempt' } });
    let main = middy(
      steadyHandler(async () => {
        runs++;
        throw new RequestAlreadyAppliedError(recorded);
      }),
    ).use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `ap-${randomUUID().slice(0, 8)}`, logSink: silentSink() }));
    for (const plugin of inner as Plugin[]) main = main.use(toMiddy(plugin));
    const key = randomUUID();
    const first = await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never);
    const retry = await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never);
    const marked = { statusCode: 201, headers: { 'content-type': 'text/plain', [REPLAYED_HEADER]: 'true' }, body: 'first attempt' };
    expect({ first, retry, runs }).toEqual({ first: marked, retry: marked, runs: 1 });
  });
});
