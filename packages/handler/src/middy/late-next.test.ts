/**
 * A `next()` a wrap holds past the end of its middy invocation is refused (`WRAP_NEXT_AFTER_END`),
 * as under `handler()`: the function never runs after middy answered — even when the wrap that
 * holds it has not settled yet (an outer wrap answered without waiting), or when middy's own
 * early timeout answered while the wrap still runs. The refusal is logged once.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../index.js';
import { steadyHandler, toMiddy } from '../middy.js';

const lambdaContext = (id: string, remainingMs = 60_000) => ({ awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => remainingMs });

/** A promise and the function that resolves it: a gate the test opens when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** An inner wrap that calls next() only once the gate opens; `held` settles with what it got. */
function holding(opened: Promise<void>): { plugin: Plugin; held: () => Promise<unknown> } {
  let held: Promise<unknown> | undefined;
  const plugin: Plugin = {
    name: 'inner',
    wrap: async (_ctx, next) => {
      held = opened.then(() => next());
      return held;
    },
  };
  return { plugin, held: () => held!.then((value) => value, (error: unknown) => error) };
}

describe('steadyHandler: a next() held past the end of the invocation', () => {
  it('is refused once the invocation answered, though the wrap holding it still runs', async () => {
    const lines: string[] = [];
    const { opened, open } = gate();
    const inner = holding(opened);
    // The outer wrap answers without waiting for its next(): the invocation ends with the inner wrap pending.
    const outer: Plugin = { name: 'outer', wrap: async (_ctx, next) => { void next().catch(() => undefined); return 'early'; } };
    let ran = 0;
    const main = middy(steadyHandler(async () => { ran++; return 'fn'; }))
      .use(toMiddy(outer, { logSink: (line) => lines.push(line) }))
      .use(toMiddy(inner.plugin));
    expect(await main({}, lambdaContext('m1') as never)).toBe('early');
    open();
    expect(await inner.held()).toMatchObject({ code: 'WRAP_NEXT_AFTER_END', name: 'ConfigurationError' });
    expect(ran).toBe(0);
    // Logged once, with the code and the plugin only, as handler() logs it.
    const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.code === 'WRAP_NEXT_AFTER_END');
    expect(logged).toEqual([expect.objectContaining({ level: 'error', msg: 'wrap next() refused', plugin: 'inner' })]);
  });

  it("is refused once middy's early timeout answered, though steadyHandler's promise never settled", async () => {
    const { opened, open } = gate();
    const inner = holding(opened);
    let ran = 0;
    // middy answers 990 ms before the end (10 ms in), long before steadyfn's deadline (900 ms in).
    const main = middy(steadyHandler(async () => { ran++; return 'fn'; }), { timeoutEarlyInMillis: 990 }).use(
      toMiddy(inner.plugin, { logSink: () => undefined, deadlineMarginMs: 100 }),
    );
    await expect(main({}, lambdaContext('m2', 1_000) as never)).rejects.toMatchObject({ name: 'TimeoutError' });
    open();
    expect(await inner.held()).toMatchObject({ code: 'WRAP_NEXT_AFTER_END' });
    expect(ran).toBe(0);
  });

  it('a next() called while the invocation runs still runs the function (twice when called twice)', async () => {
    const twice: Plugin = { name: 'twice', wrap: async (_ctx, next) => [await next(), await next()] };
    let ran = 0;
    const main = middy(steadyHandler(async () => ++ran)).use(toMiddy(twice, { logSink: () => undefined }));
    expect(await main({}, lambdaContext('m3') as never)).toEqual([1, 2]);
  });
});
