/**
 * Review: with `use: [idempotency({ cacheErrors: true }), auth]`, a later plugin's `before` that
 * throws (a 401 `TerminalError`) after idempotency claimed the key had its failure stored as the
 * completed record: the caller, its token fixed, was answered 401 again until `ttlMs` ended,
 * and the function never ran. Likewise a later plugin's early answer was stored as the
 * function's result. The core now tells hooks whether the function was called
 * (`functionStarted(ctx)`), and idempotency releases — never stores — what the function did not
 * produce. On Redis, Redis Cluster and FerretDB; under middy on Redis.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { TerminalError, handler, httpResult, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, scopeOf, storeKey } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

/** An auth plugin that refuses every request (401, terminal) until `fixed`. */
function auth(): Plugin & { fixed: boolean } {
  const plugin = {
    name: 'auth',
    fixed: false,
    before() {
      if (!plugin.fixed) throw new TerminalError('UNAUTHENTICATED', 'the token is not valid', { status: 401 });
    },
  };
  return plugin;
}

describe.each(BACKENDS)('review: a later plugin’s failure before the function is never stored (%s)', (name) => {
  const backend = useBackend(name);

  it('a later before throwing 401 with cacheErrors: true: released; the retry with auth fixed runs the function', async () => {
    const gate = auth();
    const fn = `orders-${randomUUID()}`;
    let runs = 0;
    const main = handler({ name: fn, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, cacheErrors: true }), gate] }, () => {
      runs++;
      return { orderId: 'o-1' };
    });
    const key = randomUUID();
    const event = httpEvent({ key, body: { sku: 'lamp' } });
    const first = (await main.aws(event, lambdaContext())) as { statusCode: number };
    expect(first.statusCode).toBe(401);
    expect(runs).toBe(0);
    expect(await backend.store.get(storeKey(scopeOf(fn), { kind: 'header', value: key }))).toBeUndefined();
    gate.fixed = true;
    const again = (await main.aws(event, lambdaContext())) as { statusCode: number; body: string };
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ orderId: 'o-1' });
    expect(runs).toBe(1);
  });

  it('a later before answering early (maintenance 503): not stored as the function’s result', async () => {
    let maintenance = true;
    const gate: Plugin = { name: 'maintenance', before: () => (maintenance ? { answer: httpResult({ status: 503, body: 'down for maintenance' }) } : undefined) };
    let runs = 0;
    const main = handler({ name: `orders-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), gate] }, () => {
      runs++;
      return httpResult({ status: 201, body: 'created' });
    });
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    expect(await main.aws(event, lambdaContext())).toMatchObject({ statusCode: 503 });
    maintenance = false;
    expect(await main.aws(event, lambdaContext())).toMatchObject({ statusCode: 201, body: 'created' });
    expect(runs).toBe(1);
  });
});

describe('review: a later middy middleware’s failure before the handler is never stored (redis)', () => {
  const backend = useBackend('redis');
  const handlers = {
    'a plain middy handler': (run: () => unknown) => async () => run(),
    'steadyHandler(fn)': (run: () => unknown) => steadyHandler(async () => run()),
  };
  it.each(Object.keys(handlers) as Array<keyof typeof handlers>)('%s: released; the retry with auth fixed runs the handler', async (kind) => {
    const gate = auth();
    let runs = 0;
    const main = middy(
      handlers[kind](() => {
        runs++;
        return { statusCode: 201, body: 'created' };
      }),
    )
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, cacheErrors: true }), { name: `orders-${randomUUID().slice(0, 8)}` }))
      .use(toMiddy(gate));
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    await expect(main(event, lambdaContext() as never)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    gate.fixed = true;
    await expect(main(event, lambdaContext() as never)).resolves.toEqual({ statusCode: 201, body: 'created' });
    expect(runs).toBe(1);
  });
});

describe('review: under middy, a later wrap that answers without calling next() is never stored (redis)', () => {
  const backend = useBackend('redis');
  it('steadyHandler(fn): released; the retry, the wrap letting it through, runs the handler', async () => {
    let maintenance = true;
    const skip: Plugin = { name: 'maintenance', wrap: async (_ctx, next) => (maintenance ? { statusCode: 503, body: 'down for maintenance' } : next()) };
    let runs = 0;
    const main = middy(steadyHandler(async () => (runs++, { statusCode: 201, body: 'created' })))
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `orders-${randomUUID().slice(0, 8)}` }))
      .use(toMiddy(skip));
    const event = httpEvent({ key: randomUUID(), body: { sku: 'lamp' } });
    await expect(main(event, lambdaContext() as never)).resolves.toMatchObject({ statusCode: 503 });
    maintenance = false;
    await expect(main(event, lambdaContext() as never)).resolves.toMatchObject({ statusCode: 201, body: 'created' });
    expect(runs).toBe(1);
  });
});
