/**
 * What callers see, through the real Lambda adapter (API Gateway HTTP API events) and the
 * direct entry, on each real store.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TerminalError, RetryableError, handler, httpResult } from '@steadyfn/handler';
import { idempotency, scopeOf, storeKey, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, counting, deferred, eventually, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: boolean };

describe.each(BACKENDS)('idempotent HTTP function on %s', (name) => {
  const backend = useBackend(name);

  const make = (fn: (input: any) => unknown, extra: Partial<IdempotencyOptions> = {}) =>
    handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, init: Parameters<typeof httpEvent>[0]): Promise<LambdaHttp> =>
    (await main.aws(httpEvent(init), lambdaContext())) as LambdaHttp;

  it('replays the identical response, marked Idempotency-Replayed, without running again', async () => {
    let runs = 0;
    const main = make((input) => {
      runs++;
      return httpResult({ status: 201, headers: { 'x-order-id': `ord-${runs}`, location: '/orders/1' }, body: { id: `ord-${runs}`, qty: input.qty } });
    });
    const key = randomUUID();
    const first = await call(main, { key, body: { qty: 3 } });
    const second = await call(main, { key, body: { qty: 3 } });
    expect(runs).toBe(1);
    expect(first.statusCode).toBe(201);
    expect(first.headers['Idempotency-Replayed']).toBeUndefined();
    expect(second.headers['Idempotency-Replayed']).toBe('true');
    const { ['Idempotency-Replayed']: _marker, ...replayedHeaders } = second.headers;
    expect({ ...second, headers: replayedHeaders }).toEqual(first);
    expect(JSON.parse(second.body)).toEqual({ id: 'ord-1', qty: 3 });
  });

  it('replays binary and empty responses byte for byte', async () => {
    let runs = 0;
    const bin = make(() => {
      runs++;
      return httpResult({ status: 200, headers: { 'content-type': 'image/png' }, body: new Uint8Array([0, 255, 1, 128]) });
    });
    const key = randomUUID();
    const a = await call(bin, { key, body: {} });
    const b = await call(bin, { key, body: {} });
    expect(a.isBase64Encoded).toBe(true);
    expect(b.body).toBe(a.body);
    expect(b.isBase64Encoded).toBe(true);
    const empty = make(() => {
      runs++;
      return undefined;
    });
    const k2 = randomUUID();
    const c = await call(empty, { key: k2, body: {} });
    const d = await call(empty, { key: k2, body: {} });
    expect(c.statusCode).toBe(204);
    expect(d.statusCode).toBe(204);
    expect(d.body).toBe('');
    expect(d.headers['content-type']).toBeUndefined();
    expect(runs).toBe(2);
  });

  it('a concurrent duplicate gets 409 problem+json with Retry-After; after the first finishes it replays', async () => {
    const gate = deferred();
    let runs = 0;
    const main = make(async () => {
      runs++;
      await gate.promise;
      return { ok: true };
    });
    const key = randomUUID();
    const first = call(main, { key, body: { a: 1 } });
    await eventually(() => runs === 1);
    const twin = await call(main, { key, body: { a: 1 } });
    expect(twin.statusCode).toBe(409);
    expect(twin.headers['content-type']).toBe('application/problem+json');
    // The time left on the first one's lease (its deadline, 30 s after its start), in whole seconds.
    expect(twin.headers['Retry-After']).toMatch(/^[1-5]$/);
    expect(JSON.parse(twin.body)).toMatchObject({ status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' });
    gate.resolve();
    expect((await first).statusCode).toBe(200);
    const later = await call(main, { key, body: { a: 1 } });
    expect(later.statusCode).toBe(200);
    expect(later.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toBe(1);
  });

  it("with onConcurrent: 'wait' the duplicate waits for the first and replays its result", async () => {
    const gate = deferred();
    let runs = 0;
    const main = make(
      async () => {
        runs++;
        await gate.promise;
        return { n: runs };
      },
      { onConcurrent: 'wait' },
    );
    const key = randomUUID();
    const first = call(main, { key, body: {} });
    await eventually(() => runs === 1);
    const twin = call(main, { key, body: {} });
    setTimeout(() => gate.resolve(), 100);
    const [a, b] = await Promise.all([first, twin]);
    expect(runs).toBe(1);
    expect(b.statusCode).toBe(200);
    expect(b.body).toBe(a.body);
    expect(b.headers['Idempotency-Replayed']).toBe('true');
  });

  it('the same key with a different payload, method or path is 422', async () => {
    let runs = 0;
    const main = make(() => ++runs);
    const key = randomUUID();
    expect((await call(main, { key, body: { qty: 1 } })).statusCode).toBe(200);
    for (const init of [{ body: { qty: 2 } }, { body: { qty: 1 }, path: '/other' }, { body: { qty: 1 }, method: 'PUT' }]) {
      const res = await call(main, { key, ...init });
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
    }
    expect(runs).toBe(1);
  });

  it("key: 'header' without the header is 400; a malformed header is 400 in every mode", async () => {
    let runs = 0;
    const strict = make(() => ++runs, { key: 'header' });
    const missing = await call(strict, { body: { a: 1 } });
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(missing.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING', errors: [{ field: 'headers.idempotency-key' }] });
    const auto = make(() => ++runs);
    for (const bad of ['"unterminated', '"a"b', 'x'.repeat(256), 'bell\u0007', '""']) {
      const res = await call(auto, { key: bad, body: {} });
      expect(res.statusCode, bad).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    }
    expect(runs).toBe(0);
    // A structured-field string and the same key bare are one key.
    const k = randomUUID();
    await call(auto, { key: `"${k}"`, body: {} });
    expect((await call(auto, { key: k, body: {} })).headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toBe(1);
  });

  it('without cacheErrors a failure releases the key, so the retry runs', async () => {
    let runs = 0;
    const main = make(() => {
      runs++;
      if (runs === 1) throw new TerminalError('OUT_OF_STOCK', 'No stock');
      return { ok: runs };
    });
    const key = randomUUID();
    expect((await call(main, { key, body: {} })).statusCode).toBe(422);
    const retry = await call(main, { key, body: {} });
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['Idempotency-Replayed']).toBeUndefined();
    expect(runs).toBe(2);
  });

  it('with cacheErrors a terminal failure is stored and replayed; a retryable one is still released', async () => {
    let runs = 0;
    const main = make(
      (input) => {
        runs++;
        if (input.kind === 'terminal') throw new TerminalError('OUT_OF_STOCK', 'No stock');
        if (runs === 2) throw new RetryableError('BUSY', 'Try later');
        return { ok: true };
      },
      { cacheErrors: true },
    );
    const key = randomUUID();
    const first = await call(main, { key, body: { kind: 'terminal' } });
    const replayed = await call(main, { key, body: { kind: 'terminal' } });
    expect(first.statusCode).toBe(422);
    expect(replayed.statusCode).toBe(422);
    expect(replayed.body).toBe(first.body);
    expect(replayed.headers['content-type']).toBe('application/problem+json');
    expect(replayed.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toBe(1);
    const k2 = randomUUID();
    expect((await call(main, { key: k2, body: { kind: 'flaky' } })).statusCode).toBe(503);
    expect((await call(main, { key: k2, body: { kind: 'flaky' } })).statusCode).toBe(200);
    expect(runs).toBe(3);
  });

  it('a completed record is forgotten after its TTL, locally and in the store', async () => {
    let runs = 0;
    // Long enough for the replay and the read below to come inside it on a loaded machine
    // (300 ms was not always: the record could be gone before it was read).
    const main = make(() => ++runs, { ttlMs: 3_000, localCache: true });
    const key = randomUUID();
    await call(main, { key, body: {} });
    expect((await call(main, { key, body: {} })).headers['Idempotency-Replayed']).toBe('true');
    const recordKey = storeKey(scopeOf('orders'), { kind: 'header', value: key });
    expect(await backend.store.get(recordKey)).toMatchObject({ status: 'completed' });
    await eventually(async () => (await backend.store.get(recordKey)) === undefined, 15_000);
    const after = await call(main, { key, body: {} });
    expect(after.headers['Idempotency-Replayed']).toBeUndefined();
    expect(runs).toBe(2);
  });

  it('a warm replay from the local cache makes no store call', async () => {
    const store = counting(backend.store);
    let runs = 0;
    const main = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000 })] }, () => ({ n: ++runs }));
    const key = randomUUID();
    const first = await call(main, { key, body: {} });
    expect(store.calls).toEqual({ claim: 1, complete: 1 });
    const before = store.total();
    const second = await call(main, { key, body: {} });
    expect(store.total() - before).toBe(0);
    expect(second.body).toBe(first.body);
    expect(second.headers['Idempotency-Replayed']).toBe('true');
    // The local cache checks the payload too.
    expect((await call(main, { key, body: { other: true } })).statusCode).toBe(422);
    expect(store.total() - before).toBe(0);
    expect(runs).toBe(1);
  });

  it('non-HTTP results replay as values; the delivery id is the key, never the request id', async () => {
    let runs = 0;
    const main = make(() => ({ n: ++runs }));
    const deliveryId = randomUUID();
    const a = await main.invoke({ x: 1 }, { deliveryId, requestId: randomUUID() });
    const b = await main.invoke({ x: 1 }, { deliveryId, requestId: randomUUID() });
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({ n: 1 });
    expect(runs).toBe(1);
  });
});
