/**
 * Reads are not operations to do once. A function serving GET and POST behind one
 * `idempotency()` used to store its GET answers under the input hash and replay them for
 * `ttlMs` (a day of stale balances), and `key: 'header'` answered a GET without the header 400.
 * Safe methods (RFC 9110 §9.2.1) now pass through untouched; Stripe ignores its
 * `Idempotency-Key` on GET the same way. Through the real Lambda adapter on each real store.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, counting, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };

describe.each(BACKENDS)('safe HTTP methods on %s', (name) => {
  const backend = useBackend(name);

  function balanceApi(extra: Partial<IdempotencyOptions> = {}) {
    const store = counting(backend.store);
    let balance = 0;
    const main = handler({ name: `safe-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 86_400_000, localCache: false, ...extra })] }, () => ({ balance: ++balance }));
    const call = async (method: string, key?: string): Promise<LambdaHttp> =>
      (await main.aws(httpEvent({ method, path: '/balance', ...(key === undefined ? {} : { key }) }), lambdaContext())) as LambdaHttp;
    return { store, call };
  }

  it.each(['GET', 'HEAD', 'OPTIONS'])('%s runs every time, stores nothing and replays nothing', async (method) => {
    const { store, call } = balanceApi();
    const first = await call(method);
    const second = await call(method);
    if (method === 'HEAD') {
      // A HEAD answer carries no content (RFC 9110 §9.3.2): its two runs show in the GET after them.
      expect([first.body ?? '', second.body ?? '']).toEqual(['', '']);
      expect(JSON.parse((await call('GET')).body)).toEqual({ balance: 3 });
    } else {
      expect(JSON.parse(first.body)).toEqual({ balance: 1 });
      expect(JSON.parse(second.body)).toEqual({ balance: 2 });
    }
    expect(second.headers['Idempotency-Replayed']).toBeUndefined();
    expect(store.total()).toBe(0);
  });

  it("a GET with key: 'header' needs no Idempotency-Key, and one sent is ignored", async () => {
    const { store, call } = balanceApi({ key: 'header' });
    expect((await call('GET')).statusCode).toBe(200);
    const key = randomUUID();
    await call('GET', key);
    const again = await call('GET', key);
    expect(JSON.parse(again.body)).toEqual({ balance: 3 });
    expect(store.total()).toBe(0);
  });

  it('a POST beside them is still done once and replayed', async () => {
    const { call } = balanceApi();
    const first = await call('POST');
    const again = await call('POST');
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    expect(again.body).toBe(first.body);
  });
});
