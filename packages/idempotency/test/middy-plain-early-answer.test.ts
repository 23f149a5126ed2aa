/**
 * Under middy, a plain middy middleware listed after `toMiddy(idempotency(…))` that ends the
 * request itself — its `before` answers early (a maintenance 503), its `onError` recovers from
 * the handler's failure (an HTTP error handler) — made middy skip every steadyfn hook left: the
 * claim idempotency made in `before` stayed held, and every retry got `IDEMPOTENCY_IN_PROGRESS`
 * until the lease ended. With `middyPlugin()` (middy's `requestEnd`), idempotency's `finally`
 * releases the record: the other middleware's answer is never stored, and a retry runs the
 * handler. On the real Redis and the real `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { middyPlugin, steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, useBackend } from './support.js';

describe('idempotency under middy: a plain middleware’s own answer releases the claim (redis)', () => {
  const backend = useBackend('redis');

  /** Orders on middy with idempotency outermost; `inner` is the plain middleware after it. `lines`: the JSON log lines. */
  function orders(inner: object, fail: { now: boolean }) {
    const lines: Array<Record<string, unknown>> = [];
    const counter = { runs: 0 };
    const main = middy(
      steadyHandler(async () => {
        counter.runs++;
        if (fail.now) throw new Error('payment provider down');
        return { statusCode: 201, body: 'created' };
      }),
      middyPlugin(),
    )
      .use(
        toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), {
          name: `orders-${randomUUID().slice(0, 8)}`,
          logLevel: 'warn',
          logSink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
        }),
      )
      .use(inner);
    return { main, counter, lines };
  }

  it('a plain before answering early (maintenance): released, not stored; the retry runs the handler', async () => {
    const state = { maintenance: true };
    const maintenance = { before: async () => (state.maintenance ? { statusCode: 503, body: 'down for maintenance' } : undefined) };
    const { main, counter, lines } = orders(maintenance, { now: false });
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 503, body: 'down for maintenance' });
    expect(counter.runs).toBe(0);
    // Released by idempotency's finally, as its log says: its after and onError were skipped.
    expect(lines.filter((line) => line.code === 'IDEMPOTENCY_SETTLED_LATE')).toEqual([expect.objectContaining({ level: 'warn', ok: true })]);
    state.maintenance = false;
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 201, body: 'created' });
    expect(counter.runs).toBe(1);
  });

  it('a plain onError recovering from the handler’s failure: released; the retry runs the handler again', async () => {
    const fail = { now: true };
    const errorHandler = { onError: async () => ({ statusCode: 502, body: 'try again' }) };
    const { main, counter } = orders(errorHandler, fail);
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 502, body: 'try again' });
    fail.now = false;
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 201, body: 'created' });
    expect(counter.runs).toBe(2);
  });

  it.each([
    ['its default response (a thrown TimeoutError)', {}],
    ['a timeoutEarlyResponse that answers 202', { timeoutEarlyResponse: () => ({ statusCode: 202, body: 'accepted' }) }],
  ])("middy's early timeout while the handler runs, %s: neither stored nor released — the record is left to its lease", async (_name, response) => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const main = middy(
      steadyHandler(async () => {
        runs++;
        await hold;
        return { statusCode: 201, body: 'created' };
      }),
      middyPlugin({ timeoutEarlyInMillis: 29_990, ...response }),
    ).use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `orders-${randomUUID().slice(0, 8)}` }));
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    // middy answers 10 ms in (29_990 ms before the end of a 30 s invocation), the handler still running.
    await main(event, lambdaContext() as never).catch((error: unknown) => expect(error).toMatchObject({ name: 'TimeoutError' }));
    // A retry meanwhile neither replays middy's answer nor runs the handler beside the first run.
    await expect(main(event, lambdaContext() as never)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(runs).toBe(1);
    release();
  });
});
