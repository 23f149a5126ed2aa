/**
 * `next()` in a `wrap` returns a promise that rejects with what the function threw, or with
 * `DEADLINE_EXCEEDED` (the `Next` contract). Under middy (`steadyHandler`) it threw instead,
 * synchronously, when the handler threw before returning a promise or the deadline had passed —
 * so a wrap written `next().finally(() => span.end())` never ran its cleanup there (a span left
 * open, a lock kept), though the same plugin did under `handler()`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';

const silent = { logSink: () => undefined };

function spanPlugin(seen: string[]): Plugin {
  return {
    name: 'span',
    // Not async on purpose: it relies on next() returning a promise.
    wrap: (_ctx, next) => {
      seen.push('start');
      return next().finally(() => seen.push('end'));
    },
  };
}

const lambdaContext = (remainingMs: number) => ({ awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => remainingMs });

describe("a wrap relying on next()'s promise", () => {
  it('under handler(): a handler that throws synchronously still ends the span', async () => {
    const seen: string[] = [];
    const main = handler({ use: [spanPlugin(seen)], ...silent }, () => {
      throw new Error('sync boom');
    });
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(seen).toEqual(['start', 'end']);
  });

  it('under middy: the same (the error reaches middy as thrown)', async () => {
    const seen: string[] = [];
    const main = middy(
      steadyHandler(() => {
        throw new Error('sync boom');
      }),
    ).use(toMiddy(spanPlugin(seen), silent));
    await expect(main({}, lambdaContext(30_000) as never)).rejects.toThrow('sync boom');
    expect(seen).toEqual(['start', 'end']);
  });

  it('under middy: a wrap that calls next() once the deadline has passed gets DEADLINE_EXCEEDED as a rejection; the handler never starts; the span ends', async () => {
    const seen: string[] = [];
    let ran = false;
    const blocking: Plugin = {
      name: 'span',
      wrap: (_ctx, next) => {
        seen.push('start');
        // Synchronous work that outlasts the deadline (no timer can fire meanwhile).
        const until = Date.now() + 60;
        while (Date.now() < until);
        return next().finally(() => seen.push('end'));
      },
    };
    const main = middy(
      steadyHandler(async () => {
        ran = true;
        return { statusCode: 200, body: 'ok' };
      }),
    ).use(toMiddy(blocking, { ...silent, deadlineMarginMs: 150 }));
    // Our deadline: 50 ms from now; middy's own timeout (5 ms before the end) much later.
    await expect(main({}, lambdaContext(200) as never)).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(ran).toBe(false);
    expect(seen).toEqual(['start', 'end']);
  });
});
