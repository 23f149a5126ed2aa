/**
 * s53-fxr (review rvm3): with `use: [idempotency, decorate]`, a `decorate.after` that answered a
 * value the provider cannot send (`new Map()`: 500 `INVALID_HTTP_RESULT`) had that 500 stored as
 * the key's answer until `ttlMs`, as if the function's own result had been refused: after the
 * plugin was fixed, every retry still got the stored 500. The refusal is stored only when the
 * function's own result could not be rendered (`functionReturned(ctx).rendered === false`); a
 * later plugin's refused answer is that plugin's failure: the function's result is stored and a
 * retry replays it. HTTP API v2 event, real Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { REPLAYED_HEADER, idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type Answer = { statusCode: number; body: string; headers: Record<string, string> };

describe('a later plugin answers a value the provider refuses (redis)', () => {
  const backend = useBackend('redis');
  const plugin = () => idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false });

  it("decorate.after answers new Map(): not stored as the key's answer; the retry replays the function's result", async () => {
    let effects = 0;
    const decorate: Plugin & { broken: boolean } = {
      name: 'decorate',
      broken: true,
      after: () => (decorate.broken ? { answer: new Map([['a', 1]]) } : undefined),
    };
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), decorate] }, () => httpResult({ status: 201, body: { charged: ++effects } }));
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as Answer;
    expect([first.statusCode, JSON.parse(first.body).code]).toEqual([500, 'INVALID_HTTP_RESULT']);
    decorate.broken = false;
    const again = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as Answer;
    expect([again.statusCode, JSON.parse(again.body), again.headers[REPLAYED_HEADER]]).toEqual([201, { charged: 1 }, 'true']);
    expect(effects).toBe(1);
  });

  it("control: the function's own result refused (new Map()) is still stored: the retry gets the same 500 without running it", async () => {
    let runs = 0;
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin()] }, () => {
      runs++;
      return new Map([['a', 1]]);
    });
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as Answer;
    expect([first.statusCode, JSON.parse(first.body).code]).toEqual([500, 'INVALID_HTTP_RESULT']);
    const again = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as Answer;
    expect([again.statusCode, JSON.parse(again.body).code, again.headers[REPLAYED_HEADER]]).toEqual([500, 'INVALID_HTTP_RESULT', 'true']);
    expect(runs).toBe(1);
  });
});
