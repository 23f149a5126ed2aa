/**
 * Review, replaying pathosDev/actor-ts#609 ("Idempotency request fingerprint omits the query
 * string, so the 'same key, different request' 422 guard silently passes") and theam/facility#187
 * ("POST idempotency ignores query parameters that change request behavior": a `?dry=1`
 * validation followed by the live request was replayed, the write never made). A POST whose
 * body is its input keeps its query parameters out of `ctx.input`, and the fingerprint (and the
 * input key) hashed only the method, the path and that input: `POST /transfers?to=alice` and
 * `?to=mallory` with one body and one `Idempotency-Key` were one request — the second replayed
 * alice's answer, its own transfer never made, instead of the documented 422. Without a key
 * (`'auto'` falls back to the input hash) the second was answered alice's replay too.
 *
 * Then (review `rvi`): a request WITHOUT a query was fingerprinted as versions before the query
 * counted fingerprinted every request, and a request with one accepts that form as its legacy
 * fingerprint — so `POST /orders` followed by `POST /orders?to=mallory` under one key replayed
 * the first answer (the second transfer never made) instead of the 422. Every HTTP request now
 * has a fingerprint with its query (an empty one included). On every real store.
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult, type Context } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { canonicalHash, idempotency, scopeOf, storeKey } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

/** An API Gateway HTTP API (v2) POST with a query string. */
function withQuery(query: string, init: Parameters<typeof httpEvent>[0]): Record<string, unknown> {
  return { ...httpEvent(init), rawQueryString: query };
}

type Answer = { statusCode: number; headers?: Record<string, string>; body: string };

describe.each(BACKENDS)('review: the query string is part of the request an idempotency key stands for (%s)', (name) => {
  const backend = useBackend(name);

  const transfers = (name = `transfers-${randomUUID()}`) => {
    const made: string[] = [];
    const main = handler(
      { name, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] },
      async (_input, ctx) => {
        const to = ctx.trigger.kind === 'http' ? ctx.trigger.request.query.to : undefined;
        made.push(to ?? '?');
        return httpResult({ status: 201, body: { to } });
      },
    );
    return { main, made };
  };

  it('one Idempotency-Key, one body, another query: 422 IDEMPOTENCY_KEY_REUSED, not the first one\'s replay', async () => {
    const { main, made } = transfers();
    const key = randomUUID();
    const first = (await main.aws(withQuery('to=alice', { key, body: { amount: 100 } }), lambdaContext())) as { statusCode: number; body: string };
    expect(first.statusCode).toBe(201);
    const second = (await main.aws(withQuery('to=mallory', { key, body: { amount: 100 } }), lambdaContext())) as { statusCode: number; body: string };
    expect(second.statusCode).toBe(422);
    expect(JSON.parse(second.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(made).toEqual(['alice']);
    // The same request again is still a replay.
    const retry = (await main.aws(withQuery('to=alice', { key, body: { amount: 100 } }), lambdaContext())) as { statusCode: number; headers?: Record<string, string>; body: string };
    expect(retry.statusCode).toBe(201);
    expect(JSON.parse(retry.body)).toEqual({ to: 'alice' });
    expect(made).toEqual(['alice']);
  });

  it('a record an earlier version wrote (its fingerprint without the query) still replays for the same key, for its ttlMs', async () => {
    const name = `transfers-${randomUUID()}`;
    const { main, made } = transfers(name);
    const key = randomUUID();
    await legacyRecord(name, key, ['POST', '/orders', { amount: 100 }], { to: 'alice' });
    const retry = (await main.aws(withQuery('to=alice', { key, body: { amount: 100 } }), lambdaContext())) as Answer;
    expect(retry.statusCode).toBe(201);
    expect(JSON.parse(retry.body)).toEqual({ to: 'alice' });
    expect(made).toEqual([]);
  });

  it('without a key (the input hash): two queries are two requests, each run once and replayed', async () => {
    const { main, made } = transfers();
    const ask = async (query: string) => JSON.parse(((await main.aws(withQuery(query, { body: { amount: 100 } }), lambdaContext())) as { body: string }).body) as unknown;
    expect(await ask('to=alice&note=x')).toEqual({ to: 'alice' });
    expect(await ask('to=mallory&note=x')).toEqual({ to: 'mallory' });
    expect(await ask('note=x&to=alice')).toEqual({ to: 'alice' });
    expect(made).toEqual(['alice', 'mallory']);
  });
  /** A function that answers 201 with the query it saw, counting its runs; `key` and the local cache as given. */
  const echo = (options: { key?: (ctx: Context) => string | undefined; localCache?: boolean } = {}, name = `echo-${randomUUID()}`) => {
    const runs: string[] = [];
    const main = handler(
      { name, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: options.localCache ?? false, ...(options.key ? { key: options.key } : {}) })] },
      async (_input, ctx) => {
        const q = ctx.trigger.kind === 'http' ? JSON.stringify(ctx.trigger.request.query) : '';
        runs.push(q);
        return httpResult({ status: 201, body: { q } });
      },
    );
    return { main, runs };
  };

  it('one Idempotency-Key: a request without a query, then one with a query, is 422 IDEMPOTENCY_KEY_REUSED (it replayed the first)', async () => {
    const { main, runs } = echo();
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as Answer;
    expect(first.statusCode).toBe(201);
    const second = (await main.aws(withQuery('to=mallory', { key, body: { amount: 100 } }), lambdaContext())) as Answer;
    expect(second.headers?.['Idempotency-Replayed']).toBeUndefined();
    expect(second.statusCode).toBe(422);
    expect(JSON.parse(second.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(runs).toEqual(['{}']);
    // The first request again still replays; and the other order is refused as well.
    const retry = (await main.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as Answer;
    expect([retry.statusCode, retry.headers?.['Idempotency-Replayed']]).toEqual([201, 'true']);
    const other = randomUUID();
    expect(((await main.aws(withQuery('to=alice', { key: other, body: { amount: 100 } }), lambdaContext())) as Answer).statusCode).toBe(201);
    expect(((await main.aws(httpEvent({ key: other, body: { amount: 100 } }), lambdaContext())) as Answer).statusCode).toBe(422);
    expect(runs).toEqual(['{}', '{"to":"alice"}']);
  });

  it('a custom key with the default local cache: POST /payouts, then POST /payouts?currency=EUR with the same ref, is 422', async () => {
    const { main, runs } = echo({ key: (ctx) => (ctx.input as { ref?: string }).ref, localCache: true });
    const ref = randomUUID();
    const payout = (query: string) => main.aws({ ...httpEvent({ path: '/payouts', body: { ref, amount: 100 } }), rawQueryString: query }, lambdaContext()) as Promise<Answer>;
    expect((await payout('')).statusCode).toBe(201);
    const second = await payout('currency=EUR');
    expect(second.statusCode).toBe(422);
    expect(JSON.parse(second.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect((await payout('')).headers?.['Idempotency-Replayed']).toBe('true');
    expect(runs).toEqual(['{}']);
  });

  it('a record an earlier version wrote for a request without a query (method, path and input) still replays that request, for its ttlMs', async () => {
    const name = `echo-${randomUUID()}`;
    const { main, runs } = echo({}, name);
    const key = randomUUID();
    await legacyRecord(name, key, ['POST', '/orders', { amount: 100 }], { q: '{}' });
    const retry = (await main.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as Answer;
    expect([retry.statusCode, retry.headers?.['Idempotency-Replayed']]).toEqual([201, 'true']);
    expect(runs).toEqual([]);
  });

  /** Writes a completed record as a version before the query counted did: fingerprint `canonicalHash(parts)`. */
  const legacyRecord = async (fn: string, key: string, parts: unknown[], body: unknown): Promise<void> => {
    const record = storeKey(scopeOf(fn), { kind: 'header', value: key });
    const owner = randomUUID();
    const legacy = canonicalHash(parts);
    expect(await backend.store.claim({ key: record, owner, fingerprint: legacy, leaseUntil: Date.now() + 10_000 })).toMatchObject({ claimed: true });
    const answer = JSON.stringify({ k: 'h', s: 201, h: { 'content-type': 'application/json' }, b: JSON.stringify(body) });
    expect(await backend.store.complete({ key: record, owner, fingerprint: legacy, result: answer, expiresAt: Date.now() + 60_000 })).toBe(true);
  };
});
