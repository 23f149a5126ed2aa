/**
 * More replays of peer idempotency bug reports (see peer-bug-replays.test.ts), on Redis, Redis
 * Cluster and FerretDB through the Lambda adapter.
 */
import { randomUUID } from 'node:crypto';
import { handler, TerminalError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(BACKENDS)('peer bug replays (3) on %s', (name) => {
  const backend = useBackend(name);

  const make = (fn: (input: any) => unknown, extra: Partial<IdempotencyOptions> = {}) =>
    handler({ name: `peer3-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, init: Parameters<typeof httpEvent>[0]): Promise<LambdaHttp> => (await main.aws(httpEvent(init), lambdaContext())) as LambdaHttp;

  it('DynamoDB-TTL-style stale reads (flask-session#240, apollo-server-cache-dynamodb#7): a completed record past its ttlMs is not honoured — the same key with another payload runs instead of a 422, and its own answer then replays', async () => {
    let runs = 0;
    const main = make((input: { amount: number }) => ({ run: ++runs, amount: input.amount }), { ttlMs: 1_500, localCache: true });
    const key = randomUUID();
    expect(JSON.parse((await call(main, { key, body: { amount: 1 } })).body)).toEqual({ run: 1, amount: 1 });
    expect((await call(main, { key, body: { amount: 2 } })).statusCode).toBe(422);
    await sleep(2_000);
    expect(JSON.parse((await call(main, { key, body: { amount: 2 } })).body)).toEqual({ run: 2, amount: 2 });
    expect(JSON.parse((await call(main, { key, body: { amount: 2 } })).body)).toEqual({ run: 2, amount: 2 });
    expect(runs).toBe(2);
  });

  it('falsy answers (0, false, "", null) are stored answers: a duplicate replays them instead of running again', async () => {
    for (const value of [0, false, '', null]) {
      let runs = 0;
      const main = make(() => {
        runs++;
        return value;
      });
      const input = { id: randomUUID() };
      expect(await main.invoke(input)).toStrictEqual(value);
      expect(await main.invoke(input)).toStrictEqual(value);
      expect(runs).toBe(1);
    }
  });

  it('a cached terminal error is forgotten with its ttlMs too: the same request then runs again', async () => {
    let runs = 0;
    const main = make(
      () => {
        runs++;
        if (runs === 1) throw new TerminalError('CARD_DECLINED', 'Card declined', { status: 402 });
        return { ok: true };
      },
      { ttlMs: 1_500, cacheErrors: true },
    );
    const key = randomUUID();
    const first = await call(main, { key, body: { amount: 1 } });
    expect(first.statusCode).toBe(402);
    const replay = await call(main, { key, body: { amount: 1 } });
    expect(replay.statusCode).toBe(402);
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toBe(1);
    await sleep(2_000);
    expect(JSON.parse((await call(main, { key, body: { amount: 1 } })).body)).toEqual({ ok: true });
    expect(runs).toBe(2);
  });
});
