/**
 * `use: [idempotency(...), errorPage]`, where `errorPage.onError` renders every error as an answer
 * (a common catch-all), and a joined write finds the request already applied by an earlier
 * attempt: `RequestAlreadyAppliedError` (`IDEMPOTENCY_REQUEST_APPLIED`, carrying the answer that
 * attempt recorded). That error means "done", not "failed": without `errorPage`, idempotency's
 * `onError` completes the record with that answer and replays it ("a caller never sees this
 * error"). Since the onion change (59f4846c) `errorPage` recovers first and the answer flows out
 * through idempotency's `after`, which released the record as for any recovered failure: the
 * caller got the rendered 409, and every retry ran the function again only to meet the same
 * error — the record never completed. Now `after` treats it as `onError` does.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { handler, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, RequestAlreadyAppliedError } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

const errorPage: Plugin = { name: 'error-page', onError: (_ctx, error) => ({ answer: { error: error.code } }) };

describe('an inner catch-all onError recovering from IDEMPOTENCY_REQUEST_APPLIED (real Redis)', () => {
  const backend = useBackend('redis');

  it('completes the record with the recorded answer and replays it; a retry does not run the function', async () => {
    let runs = 0;
    const recorded = JSON.stringify({ k: 'v', v: { run: 'first attempt' } });
    const key = `applied-${randomUUID()}`;
    const fn = handler({ logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, key: () => key, localCache: false }), errorPage] }, () => {
      runs++;
      throw new RequestAlreadyAppliedError(recorded);
    });
    // Before: { error: 'IDEMPOTENCY_REQUEST_APPLIED' }, the record released.
    expect(await fn.invoke({})).toEqual({ run: 'first attempt' });
    expect(await fn.invoke({})).toEqual({ run: 'first attempt' });
    expect(runs).toBe(1);
  });

  it('toMiddy(): the same under middy (the error page a steadyfn plugin inside idempotency)', async () => {
    let runs = 0;
    const recorded = JSON.stringify({ k: 'v', v: { statusCode: 201, body: 'first attempt' } });
    const main = middy(
      steadyHandler(async () => {
        runs++;
        throw new RequestAlreadyAppliedError(recorded);
      }),
    )
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `pay-${randomUUID().slice(0, 8)}`, logSink: silentSink() }))
      .use(toMiddy(errorPage));
    const key = randomUUID();
    expect(await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).toMatchObject({ statusCode: 201, body: 'first attempt' });
    expect(await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).toMatchObject({ statusCode: 201, body: 'first attempt' });
    expect(runs).toBe(1);
  });

  it('other recovered failures are still released, not stored: the retry runs the function', async () => {
    let runs = 0;
    const key = `failed-${randomUUID()}`;
    const fn = handler({ logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, key: () => key, localCache: false }), errorPage] }, () => {
      if (++runs === 1) throw new Error('transient');
      return { ok: runs };
    });
    expect(await fn.invoke({})).toEqual({ error: 'INTERNAL' });
    expect(await fn.invoke({})).toEqual({ ok: 2 });
    expect(await fn.invoke({})).toEqual({ ok: 2 });
  });
});
