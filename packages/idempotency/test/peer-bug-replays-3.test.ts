/**
 * More replays of peer idempotency bug reports (see peer-bug-replays.test.ts), on Redis, Redis
 * Cluster and FerretDB through the Lambda adapter.
 *
 * The TTL tests assert a record is honoured while its `ttlMs` lasts and forgotten after it, with
 * no wall-clock margin: a "still there" check that failed after the TTL had provably passed runs
 * the case again with a longer TTL (`inWindow`), and the wait for the end is exact — until the
 * TTL counted from when the completion was written — then polls the store until the record is
 * gone (never more than 10 s: a TTL not applied fails).
 */
import { randomUUID } from 'node:crypto';
import { handler, TerminalError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { inWindow, sleepUntil } from '../../../test/support/window.js';
import { idempotency, scopeOf, storeKey, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, eventually, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };
/** The TTLs a case is tried with, shortest first: a longer one only when the machine was too slow for the last. */
const TTLS_MS = [1_500, 3_000, 6_000, 12_000];

describe.each(BACKENDS)('peer bug replays (3) on %s', (name) => {
  const backend = useBackend(name);

  let fnName = '';
  const make = (fn: (input: any) => unknown, extra: Partial<IdempotencyOptions> = {}) =>
    handler({ name: (fnName = `peer3-${randomUUID()}`), logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, init: Parameters<typeof httpEvent>[0]): Promise<LambdaHttp> => (await main.aws(httpEvent(init), lambdaContext())) as LambdaHttp;
  /** The store key of the last made handler's requests with Idempotency-Key `key`. */
  const recordKey = (key: string) => storeKey(scopeOf(fnName), { kind: 'header', value: key });
  /**
   * Waits until the record of `key`, completed before `completedBy` (epoch ms) with `ttlMs`, is
   * past its TTL: exactly until then, then until the store no longer has it (10 s at most).
   */
  const untilExpired = async (key: string, completedBy: number, ttlMs: number) => {
    await sleepUntil(completedBy + ttlMs);
    await eventually(async () => (await backend.store.get(recordKey(key))) === undefined, 10_000);
  };

  it('DynamoDB-TTL-style stale reads (flask-session#240, apollo-server-cache-dynamodb#7): a completed record past its ttlMs is not honoured — the same key with another payload runs instead of a 422, and its own answer then replays', async () => {
    await inWindow(TTLS_MS, async (ttl) => {
      let runs = 0;
      const main = make((input: { amount: number }) => ({ run: ++runs, amount: input.amount }), { ttlMs: ttl.ms, localCache: true });
      const key = randomUUID();
      const firstSent = Date.now();
      expect(JSON.parse((await call(main, { key, body: { amount: 1 } })).body)).toEqual({ run: 1, amount: 1 });
      const firstDone = Date.now();
      const conflict = await call(main, { key, body: { amount: 2 } });
      const stored = await backend.store.get(recordKey(key));
      ttl.holds(firstSent, () => {
        expect(conflict.statusCode).toBe(422);
        expect(stored).toMatchObject({ status: 'completed' });
      });
      await untilExpired(key, firstDone, ttl.ms);
      const secondSent = Date.now();
      expect(JSON.parse((await call(main, { key, body: { amount: 2 } })).body)).toEqual({ run: 2, amount: 2 });
      const replay = await call(main, { key, body: { amount: 2 } });
      ttl.holds(secondSent, () => expect(JSON.parse(replay.body)).toEqual({ run: 2, amount: 2 }));
      expect(runs).toBe(2);
    });
  }, 60_000);

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
    await inWindow(TTLS_MS, async (ttl) => {
      let runs = 0;
      const main = make(
        () => {
          runs++;
          if (runs === 1) throw new TerminalError('CARD_DECLINED', 'Card declined', { status: 402 });
          return { ok: true };
        },
        { ttlMs: ttl.ms, cacheErrors: true },
      );
      const key = randomUUID();
      const firstSent = Date.now();
      const first = await call(main, { key, body: { amount: 1 } });
      expect(first.statusCode).toBe(402);
      const firstDone = Date.now();
      const replay = await call(main, { key, body: { amount: 1 } });
      ttl.holds(firstSent, () => {
        expect(replay.statusCode).toBe(402);
        expect(replay.headers['Idempotency-Replayed']).toBe('true');
        expect(runs).toBe(1);
      });
      await untilExpired(key, firstDone, ttl.ms);
      expect(JSON.parse((await call(main, { key, body: { amount: 1 } })).body)).toEqual({ ok: true });
      expect(runs).toBe(2);
    });
  }, 60_000);
});
