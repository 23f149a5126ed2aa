/**
 * Review (rvi): with `use: [idempotency(...), audit]`, an inner plugin whose `after` threw once
 * the function had returned (its effects done) made idempotency's `onError` release the record,
 * so the retry ran the function's effects again — for a retryable and a terminal failure alike
 * (peer: aws-powertools/powertools-lambda-typescript#5675, which saves the success as soon as the
 * function returns). The record is now completed with the function's result (`functionReturned`
 * of `@steadyfn/handler`); this caller still gets the error, a retry replays the result. A write
 * that took the completion (`pendingCompletion`) and failed still releases it. On Redis, Redis
 * Cluster and FerretDB; under middy on Redis.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { SteadyError, handler, httpResult, type Plugin } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { REPLAYED_HEADER, idempotency, pendingCompletion } from '../src/index.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

/** An audit plugin whose `after` fails (retryable or not) until `down` is false. */
function audit(retryable: boolean, extra: Partial<Plugin> = {}): Plugin & { down: boolean } {
  const plugin = {
    name: 'audit',
    down: true,
    after() {
      if (plugin.down) throw new SteadyError('AUDIT_FAILED', 'audit sink down', { status: retryable ? 503 : 500, retryable });
      return undefined;
    },
    ...extra,
  };
  return plugin;
}

const codeOf = (e: unknown): unknown => (e as { code?: unknown }).code;

describe.each(BACKENDS)('review: a plugin failing after the function returned does not re-run it (%s)', (name) => {
  const backend = useBackend(name);
  const plugin = () => idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false });

  it.each([true, false])('an inner after that throws (retryable %s): the caller gets the error, the retry replays the result', async (retryable) => {
    let effects = 0;
    const inner = audit(retryable);
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), inner] }, async () => {
      effects++;
      return { charged: effects };
    });
    const deliveryId = randomUUID();
    expect(await main.invoke({ amount: 5 }, { deliveryId, requestId: randomUUID() }).catch(codeOf)).toBe('AUDIT_FAILED');
    inner.down = false;
    expect(await main.invoke({ amount: 5 }, { deliveryId, requestId: randomUUID() })).toEqual({ charged: 1 });
    expect(effects).toBe(1);
  });

  it('an inner wrap that throws after next() resolved: completed with the result', async () => {
    let effects = 0;
    let down = true;
    const inner: Plugin = {
      name: 'tracer',
      async wrap(_ctx, next) {
        const value = await next();
        if (down) throw new SteadyError('TRACE_FAILED', 'span export failed', { status: 503, retryable: true });
        return value;
      },
    };
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), inner] }, () => ({ charged: ++effects }));
    const deliveryId = randomUUID();
    expect(await main.invoke({ amount: 5 }, { deliveryId }).catch(codeOf)).toBe('TRACE_FAILED');
    down = false;
    expect(await main.invoke({ amount: 5 }, { deliveryId })).toEqual({ charged: 1 });
    expect(effects).toBe(1);
  });

  it('an inner after that throws and its own onError answers a fallback: completed with the result', async () => {
    let effects = 0;
    const inner = audit(true, { onError: () => ({ answer: { fallback: true } }) });
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), inner] }, () => ({ charged: ++effects }));
    const deliveryId = randomUUID();
    expect(await main.invoke({ amount: 5 }, { deliveryId })).toEqual({ fallback: true });
    expect(await main.invoke({ amount: 5 }, { deliveryId })).toEqual({ charged: 1 });
    expect(effects).toBe(1);
  });

  it('HTTP: the retry replays the response the function returned, marked as a replay', async () => {
    let effects = 0;
    const inner = audit(false);
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), inner] }, () => httpResult({ status: 201, body: { charged: ++effects } }));
    const key = randomUUID();
    const first = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as { statusCode: number; body: string };
    expect([first.statusCode, JSON.parse(first.body).code]).toEqual([500, 'AUDIT_FAILED']);
    inner.down = false;
    const again = (await main.aws(httpEvent({ key, body: { amount: 5 } }), lambdaContext())) as { statusCode: number; body: string; headers: Record<string, string> };
    expect([again.statusCode, JSON.parse(again.body), again.headers[REPLAYED_HEADER]]).toEqual([201, { charged: 1 }, 'true']);
    expect(effects).toBe(1);
  });

  it('the function throwing is still released: the retry runs it', async () => {
    let runs = 0;
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), audit(false)] }, () => {
      runs++;
      if (runs === 1) throw new SteadyError('CARD_DECLINED', 'declined', { status: 402, retryable: false });
      return { charged: runs };
    });
    const deliveryId = randomUUID();
    expect(await main.invoke({}, { deliveryId }).catch(codeOf)).toBe('CARD_DECLINED');
    expect(await main.invoke({}, { deliveryId }).catch(codeOf)).toBe('AUDIT_FAILED');
    expect(runs).toBe(2);
  });

  it('a write that took the completion (pendingCompletion) and failed: released, the retry runs the function', async () => {
    let effects = 0;
    let down = true;
    const writer: Plugin = {
      name: 'outbox-writer',
      after(ctx, result) {
        expect(pendingCompletion(ctx, result)).toBeDefined();
        // The atomic write of the effects and the completion fails: nothing was written.
        if (down) throw new SteadyError('WRITE_FAILED', 'the write failed', { status: 503, retryable: true });
        return undefined;
      },
    };
    const main = handler({ name: `charge-${randomUUID()}`, logSink: silentSink(), use: [plugin(), writer] }, () => ({ charged: ++effects }));
    const deliveryId = randomUUID();
    expect(await main.invoke({}, { deliveryId }).catch(codeOf)).toBe('WRITE_FAILED');
    down = false;
    expect(await main.invoke({}, { deliveryId })).toEqual({ charged: 2 });
    expect(effects).toBe(2);
  });
});

describe('review: under middy, a toMiddy plugin failing after the handler returned (redis)', () => {
  const backend = useBackend('redis');

  it('completed with the handler’s response: the retry replays it', async () => {
    let effects = 0;
    const inner = audit(true);
    const main = middy()
      .use(toMiddy(idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false }), { name: `charge-${randomUUID()}`, logSink: silentSink() }))
      .use(toMiddy(inner))
      .handler(steadyHandler(async () => ({ statusCode: 200, body: JSON.stringify({ charged: ++effects }) })));
    const key = randomUUID();
    await expect(main(httpEvent({ key, body: { amount: 5 } }), lambdaContext() as never)).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    inner.down = false;
    const again = (await main(httpEvent({ key, body: { amount: 5 } }), lambdaContext() as never)) as { statusCode: number; body: string };
    expect([again.statusCode, JSON.parse(again.body)]).toEqual([200, { charged: 1 }]);
    expect(effects).toBe(1);
  });
});
