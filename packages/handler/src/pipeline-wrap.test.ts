/**
 * A `next()` kept by a `wrap` and called after that wrap settled, or after the invocation
 * ended, is refused with `WRAP_NEXT_AFTER_END`: the function never runs outside its invocation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler, SteadyError, type Plugin } from './index.js';
import { advance, useFakeClock, useRealClock, watch } from '../test/support/clock.js';

const context = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };

describe('wrap next() after the end', () => {
  it('a next() kept and called after the invocation answered does not run the function', async () => {
    let later: (() => Promise<unknown>) | undefined;
    const sneaky: Plugin = { name: 'sneaky', wrap: async (_ctx, next) => { later = next; return 'early'; } };
    let ran = 0;
    const lines: string[] = [];
    const fn = handler({ use: [sneaky], logSink: (line) => void lines.push(line) }, () => { ran++; return 'fn'; });
    expect(await (fn as any)({}, context)).toBe('early');
    const first = await later!().then(() => undefined, (e: unknown) => e);
    const second = await later!().then(() => undefined, (e: unknown) => e);
    expect(ran).toBe(0);
    for (const refused of [first, second]) {
      expect(refused).toBeInstanceOf(SteadyError);
      expect(refused).toMatchObject({ code: 'WRAP_NEXT_AFTER_END', name: 'ConfigurationError', status: 500 });
    }
    // Logged once, with the code and the plugin only.
    const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.code === 'WRAP_NEXT_AFTER_END');
    expect(logged).toEqual([expect.objectContaining({ level: 'error', plugin: 'sneaky' })]);
  });

  it('an inner async wrap that kept its next() cannot run the function after the invocation', async () => {
    let later: (() => Promise<unknown>) | undefined;
    const outer: Plugin = { name: 'outer', wrap: async (_ctx, next) => next() };
    const inner: Plugin = { name: 'inner', wrap: async (_ctx, next) => { later = next; return next(); } };
    let ran = 0;
    const main = handler({ use: [outer, inner], logSink: () => undefined }, () => ++ran);
    await expect(main.invoke({})).resolves.toBe(1);
    await expect(later!()).rejects.toMatchObject({ code: 'WRAP_NEXT_AFTER_END' });
    expect(ran).toBe(1);
  });

  it('a plain JavaScript wrap that returned a value synchronously cannot run the function later either', async () => {
    let later: (() => Promise<unknown>) | undefined;
    const wrap = (_ctx: unknown, next: () => Promise<unknown>) => { later = next; return 'early'; };
    let ran = 0;
    const main = handler({ use: [{ name: 'sync', wrap: wrap as unknown as Plugin['wrap'] }], logSink: () => undefined }, () => ++ran);
    await expect(main.invoke({})).resolves.toBe('early');
    await expect(later!()).rejects.toMatchObject({ code: 'WRAP_NEXT_AFTER_END' });
    expect(ran).toBe(0);
  });

  it('next() called twice while its wrap runs still runs the function twice', async () => {
    const twice: Plugin = { name: 'twice', wrap: async (_ctx, next) => [await next(), await next()] };
    let ran = 0;
    const main = handler({ use: [twice], logSink: () => undefined }, () => ++ran);
    await expect(main.invoke({})).resolves.toEqual([1, 2]);
  });

  describe('a wrap still running when the deadline ended the invocation', () => {
    beforeEach(useFakeClock);
    afterEach(useRealClock);

    it('its next() is refused once the invocation has answered', async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let refused: unknown;
      const slow: Plugin = { name: 'slow', wrap: async (_ctx, next) => { await gate; return next().catch((e: unknown) => (refused = e)); } };
      let ran = 0;
      const main = handler({ use: [slow], deadlineMarginMs: 50, logSink: () => undefined }, () => ++ran);
      const call = watch(main.invoke({}, { deadline: Date.now() + 300 }));
      await advance(250);
      expect(call.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
      open();
      await advance(0);
      expect(refused).toMatchObject({ code: 'WRAP_NEXT_AFTER_END' });
      expect(ran).toBe(0);
    });
  });
});
