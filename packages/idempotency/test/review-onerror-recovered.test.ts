/**
 * `use: [idempotency(...), fallback]`, the function throws, `fallback.onError` answers (middyjs/middy#671,
 * #1048 replayed): the core stopped at the first `{ answer }`, so idempotency got neither `onError` nor
 * `after` and its record stayed in progress until its lease ended — every retry a 409
 * IDEMPOTENCY_IN_PROGRESS. Now the recovered answer flows out through idempotency's `after`, which
 * releases (never stores) it; and a record still held at `finally` (its after and onError skipped) is
 * settled there.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { handler, httpResult, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { idempotency, memoryStore, type IdempotencyStore } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

const fallback: Plugin = {
  name: 'fallback',
  onError: (_ctx, error) => (error.code === 'INTERNAL' ? { answer: httpResult({ status: 503, body: { retry: true } }) } : undefined),
};

/** A function that fails on its first run only. */
function flaky(): { runs: number; fn: () => Promise<{ ok: true }> } {
  const counter = { runs: 0, fn: async () => {
    if (++counter.runs === 1) throw new Error('transient');
    return { ok: true as const };
  } };
  return counter;
}

describe('an inner onError recovery', () => {
  it('releases the idempotency record: the retry runs the function (memoryStore)', async () => {
    const f = flaky();
    const main = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000, localCache: false }), fallback] }, f.fn);
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as { statusCode: number };
    const retry = (await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())) as { statusCode: number };
    expect(first.statusCode).toBe(503);
    // Before: 409 IDEMPOTENCY_IN_PROGRESS until the lease ended.
    expect(retry.statusCode).toBe(200);
    expect(f.runs).toBe(2);
  });
});

describe('on real Redis', () => {
  const backend = useBackend('redis');
  const store = (): IdempotencyStore => backend.store;

  it('handler(): the recovered 503 is not stored; the retry runs and its result replays', async () => {
    const f = flaky();
    const main = handler({ name: `orders-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store: store(), ttlMs: 60_000, localCache: false }), fallback] }, f.fn);
    const key = randomUUID();
    expect(await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())).toMatchObject({ statusCode: 503 });
    expect(await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())).toMatchObject({ statusCode: 200 });
    expect(await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())).toMatchObject({ statusCode: 200 });
    expect(f.runs).toBe(2);
  });

  it('toMiddy(): the same under middy (the fallback a steadyfn plugin inside idempotency)', async () => {
    const f = flaky();
    const main = middy(steadyHandler(async () => ({ statusCode: 201, body: JSON.stringify(await f.fn()) })))
      .use(toMiddy(idempotency({ store: store(), ttlMs: 60_000, localCache: false }), { name: `pay-${randomUUID().slice(0, 8)}`, logSink: silentSink() }))
      .use(toMiddy(fallback));
    const key = randomUUID();
    expect(await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).toMatchObject({ statusCode: 503 });
    // Before: rejected with IDEMPOTENCY_IN_PROGRESS (409).
    expect(await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).toMatchObject({ statusCode: 201 });
    expect(f.runs).toBe(2);
  });

  // Defence in depth: a chain that skips both after and onError (here: the plugin with them removed,
  // as middy's own onError chain or another plugin's bug would) no longer strands the record.
  const withoutSettleHooks = (plugin: Plugin<any, any>): Plugin<any, any> => ({ ...plugin, after: undefined, onError: undefined });

  it('handler(): a record whose after and onError never ran is released in finally', async () => {
    const f = flaky();
    const logs: string[] = [];
    const main = handler({ name: `orders-${randomUUID().slice(0, 8)}`, logSink: (line) => void logs.push(line), logLevel: 'warn', use: [withoutSettleHooks(idempotency({ store: store(), ttlMs: 60_000, localCache: false }))] }, f.fn);
    const key = randomUUID();
    expect(await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())).toMatchObject({ statusCode: 500 });
    // Before: 409 IDEMPOTENCY_IN_PROGRESS until the lease ended.
    expect(await main.aws(httpEvent({ key, body: { a: 1 } }), lambdaContext())).toMatchObject({ statusCode: 200 });
    expect(logs.join('\n')).toContain('settled in finally');
  });

  it('toMiddy(): the same under middy', async () => {
    const f = flaky();
    const main = middy(steadyHandler(async () => ({ statusCode: 201, body: JSON.stringify(await f.fn()) }))).use(
      toMiddy(withoutSettleHooks(idempotency({ store: store(), ttlMs: 60_000, localCache: false })), { name: `pay-${randomUUID().slice(0, 8)}`, logSink: silentSink() }),
    );
    const key = randomUUID();
    await expect(main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).rejects.toThrow('transient');
    expect(await main(httpEvent({ key, body: { a: 1 } }), lambdaContext() as never)).toMatchObject({ statusCode: 201 });
  });
});
