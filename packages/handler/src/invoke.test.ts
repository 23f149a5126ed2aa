import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { currentContext, handler, httpError, RetryableError, TerminalError, type Plugin } from './index.js';
import { runBatch } from './invoke.js';
import { queueMessage, testDefinition, testFrame } from '../test/support/batch.js';
import { advance, useFakeClock, useRealClock, watch } from '../test/support/clock.js';

const silent = () => undefined;

function recorder() {
  const calls: string[] = [];
  const plugin = (name: string, extra: Partial<Plugin> = {}): Plugin => ({
    name,
    before: () => void calls.push(`${name}.before`),
    after: () => void calls.push(`${name}.after`),
    onError: (_ctx, err) => void calls.push(`${name}.onError:${err.code}`),
    finally: (_ctx, outcome) => void calls.push(`${name}.finally:${outcome.ok ? 'ok' : outcome.error.code}`),
    ...extra,
  });
  return { calls, plugin };
}

describe('plugin pipeline', () => {
  it('runs before in order and after/finally in reverse around the function', async () => {
    const { calls, plugin } = recorder();
    const main = handler({ use: [plugin('a'), plugin('b')], logSink: silent }, async () => {
      calls.push('fn');
      return 1;
    });
    await expect(main.invoke({})).resolves.toBe(1);
    expect(calls).toEqual(['a.before', 'b.before', 'fn', 'b.after', 'a.after', 'b.finally:ok', 'a.finally:ok']);
  });

  it('lets a plugin answer early: the function and inner plugins do not run', async () => {
    const { calls, plugin } = recorder();
    const cache = plugin('cache', { before: () => ({ answer: 'cached' }) });
    const main = handler({ use: [plugin('outer'), cache, plugin('inner')], logSink: silent }, async () => {
      calls.push('fn');
      return 'fresh';
    });
    await expect(main.invoke({})).resolves.toBe('cached');
    expect(calls).toEqual(['outer.before', 'outer.after', 'inner.finally:ok', 'cache.finally:ok', 'outer.finally:ok']);
  });

  it('lets after replace the result and onError recover', async () => {
    const wrap: Plugin = { name: 'wrap', after: (_ctx, result) => ({ answer: { wrapped: result } }) };
    const main = handler({ use: [wrap], logSink: silent }, async () => 'x');
    await expect(main.invoke({})).resolves.toEqual({ wrapped: 'x' });

    const fallback: Plugin = { name: 'fallback', onError: (_ctx, err) => ({ answer: `recovered from ${err.code}` }) };
    const failing = handler({ use: [fallback], logSink: silent }, async () => {
      throw new TerminalError('OUT_OF_STOCK', 'No stock');
    });
    await expect(failing.invoke({})).resolves.toBe('recovered from OUT_OF_STOCK');
  });

  it('runs onError and finally in reverse when the function throws, and hides unknown errors', async () => {
    const { calls, plugin } = recorder();
    const main = handler({ use: [plugin('a'), plugin('b')], logSink: silent }, async () => {
      throw new Error('database password is hunter2');
    });
    const error = (await main.invoke({}).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('hunter2');
    expect(error.stack ?? '').not.toMatch(/\n\s+at /);
    expect(calls).toEqual(['a.before', 'b.before', 'b.onError:INTERNAL', 'a.onError:INTERNAL', 'b.finally:INTERNAL', 'a.finally:INTERNAL']);
  });

  it('logs an unexpected failure with its class and code, never its message', async () => {
    const lines: string[] = [];
    const main = handler({ logSink: (l) => lines.push(l), logLevel: 'debug' }, async () => {
      throw Object.assign(new Error('E11000 duplicate key { email: "ann@example.com" } password=hunter2'), { code: 11000 });
    });
    await main.invoke({}).catch(() => undefined);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', code: 'INTERNAL', cause: 'Error', causeCode: 11000 });
    expect(lines[0]).not.toMatch(/hunter2|ann@example/);
  });

  it('merges what extend returns onto a typed ctx', async () => {
    const counter: Plugin<{ counter: { next(): number } }> = {
      name: 'counter',
      extend: () => {
        let n = 0;
        return { counter: { next: () => ++n } };
      },
    };
    const main = handler({ use: [counter], logSink: silent }, async (_input, ctx) => ctx.counter.next() + ctx.counter.next());
    await expect(main.invoke({})).resolves.toBe(3);
  });

  it('keeps the outcome when a finally hook throws, and logs it', async () => {
    const lines: string[] = [];
    const bad: Plugin = {
      name: 'bad',
      finally: () => {
        throw new Error('boom');
      },
    };
    const main = handler({ use: [bad], logSink: (l) => lines.push(l), logLevel: 'warn' }, async () => 'ok');
    await expect(main.invoke({})).resolves.toBe('ok');
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('plugin finally hook failed');
  });
});

describe('validation', () => {
  it('names each bad field with what was expected', async () => {
    const main = handler(
      { input: z.object({ sku: z.string(), qty: z.number().int().positive(), tags: z.array(z.string()) }), logSink: silent },
      async (input) => input,
    );
    const error = (await main.invoke({ sku: 1, qty: -1, tags: ['a', 2] }).catch((e: unknown) => e)) as {
      code: string;
      retryable: boolean;
      errors: Array<{ field: string; expected?: string }>;
    };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.errors.map((e) => e.field).sort()).toEqual(['qty', 'sku', 'tags.1']);
    expect(error.errors.find((e) => e.field === 'sku')?.expected).toBe('string');
  });

  it('passes the parsed value (defaults, transforms) to the function', async () => {
    const main = handler({ input: z.object({ n: z.coerce.number(), mode: z.string().default('fast') }), logSink: silent }, async (input) => input);
    await expect(main.invoke({ n: '5' })).resolves.toEqual({ n: 5, mode: 'fast' });
  });
});

describe('deadline', () => {
  // These two on a fake clock (test/support/clock.ts): each deadline is met to the millisecond, however loaded the machine.
  it('aborts ctx.signal and answers DEADLINE_EXCEEDED before the deadline', async () => {
    useFakeClock();
    try {
      let aborted = false;
      const main = handler({ deadlineMarginMs: 50, logSink: silent }, async (_input, ctx) => {
        ctx.signal.addEventListener('abort', () => (aborted = true));
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        return 'too late';
      });
      const started = Date.now();
      const call = watch(main.invoke({}, { deadline: started + 200 }));
      await advance(149);
      expect(call.settled).toBe(false);
      expect(aborted).toBe(false);
      await advance(1);
      const error = call.error as { code: string; retryable: boolean };
      expect(error.code).toBe('DEADLINE_EXCEEDED');
      expect(error.retryable).toBe(true);
      expect(aborted).toBe(true);
      expect(call.at! - started).toBe(150);
    } finally {
      await useRealClock();
    }
  });

  it('expires overlapping invocations with different deadlines each at its own time', async () => {
    useFakeClock();
    try {
      const slow = handler({ deadlineMarginMs: 0, logSink: silent }, async (input: unknown) => {
        await new Promise((resolve) => setTimeout(resolve, (input as { ms: number }).ms));
        return 'done';
      });
      const now = Date.now();
      // A later deadline first, then an earlier one (re-arms the watch), then one that finishes in time.
      const late = watch(slow.invoke({ ms: 2_000 }, { deadline: now + 400 }));
      const early = watch(slow.invoke({ ms: 2_000 }, { deadline: now + 150 }));
      const quick = watch(slow.invoke({ ms: 10 }, { deadline: now + 1_000 }));
      await advance(1_000);
      expect([early.error, early.at! - now]).toEqual([expect.objectContaining({ code: 'DEADLINE_EXCEEDED' }), 150]);
      expect([late.error, late.at! - now]).toEqual([expect.objectContaining({ code: 'DEADLINE_EXCEEDED' }), 400]);
      expect([quick.value, quick.at! - now]).toEqual(['done', 10]);
    } finally {
      await useRealClock();
    }
  });

  it('handles a deadline beyond the longest Node timer without firing early', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const main = handler({ logSink: silent }, async (_input, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return ctx.signal.aborted;
      });
      await expect(main.invoke({}, { deadline: Date.now() + 40 * 24 * 3600_000 })).resolves.toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reports remaining time from the deadline', async () => {
    useFakeClock();
    try {
      const main = handler({ logSink: silent }, async (_input, ctx) => {
        const atStart = ctx.remainingMs();
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        return { atStart, remaining: ctx.remainingMs(), deadline: ctx.deadline };
      });
      const deadline = Date.now() + 10_000;
      const call = watch(main.invoke({}, { deadline }));
      await advance(2_500);
      expect(call.value).toEqual({ atStart: 10_000, remaining: 7_500, deadline });
    } finally {
      await useRealClock();
    }
  });

});

describe('per-invocation context', () => {
  it('keeps concurrent invocations apart (AsyncLocalStorage)', async () => {
    const main = handler({ logSink: silent }, async (input: unknown) => {
      const id = (input as { id: string }).id;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      const seen = currentContext()?.requestId;
      await new Promise((resolve) => setImmediate(resolve));
      return { id, seen, again: currentContext()?.requestId };
    });
    const results = (await Promise.all(Array.from({ length: 50 }, (_, i) => main.invoke({ id: `r${i}` }, { requestId: `r${i}` })))) as Array<{ id: string; seen: string; again: string }>;
    for (const r of results) {
      expect(r.seen).toBe(r.id);
      expect(r.again).toBe(r.id);
    }
    expect(currentContext()).toBeUndefined();
  });
});

describe('batches', () => {
  const def = testDefinition;
  const frame = testFrame;
  const inv = (n: number) => queueMessage(n);

  it('ordered: stops at the first failure and reports every later message as not processed', async () => {
    const ran: number[] = [];
    const outcomes = await runBatch(
      def(async (n: number) => {
        ran.push(n);
        if (n === 1) throw new RetryableError('BUSY', 'busy');
        return n;
      }),
      frame,
      [0, 1, 2, 3].map(inv),
      true,
    );
    expect(ran).toEqual([0, 1]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'BUSY', 'NOT_PROCESSED', 'NOT_PROCESSED']);
  });

  it('gives beforeBatch each message’s validated input, and validates each message once', async () => {
    let parses = 0;
    const schema = {
      safeParseAsync: async (value: unknown) => {
        parses++;
        return typeof value === 'number' && value !== 1
          ? { success: true as const, data: value * 10 }
          : { success: false as const, error: { issues: [{ path: [], message: 'bad', code: 'custom' }] } };
      },
    };
    const inputs: unknown[] = [];
    const batchy: Plugin = { name: 'batchy', beforeBatch: (ctxs) => void inputs.push(...ctxs.map((c) => c.input)) };
    const outcomes = await runBatch({ ...def(async (n: number) => n + 1, [batchy]), input: schema }, frame, [0, 1, 2].map(inv), false);
    expect(inputs).toEqual([0, undefined, 20]);
    expect(parses).toBe(3);
    expect(outcomes.map((o) => (o.ok ? o.value : o.error.code))).toEqual([1, 'VALIDATION_FAILED', 21]);
  });

  it('calls beforeBatch once with every ctx, and fails the whole batch if it throws', async () => {
    const seen: string[][] = [];
    const batchy: Plugin = { name: 'batchy', beforeBatch: (ctxs) => void seen.push(ctxs.map((c) => c.deliveryId ?? '')) };
    const ok = await runBatch(def(async (n: number) => n, [batchy]), frame, [0, 1, 2].map(inv), false);
    expect(seen).toEqual([['m0', 'm1', 'm2']]);
    expect(ok.every((o) => o.ok)).toBe(true);

    const broken: Plugin = {
      name: 'broken',
      beforeBatch: () => {
        throw httpError(503, 'STORE_DOWN', 'store down');
      },
    };
    let ran = 0;
    const failed = await runBatch(def(async () => void ran++, [broken]), frame, [0, 1].map(inv), false);
    expect(ran).toBe(0);
    expect(failed.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['STORE_DOWN', 'STORE_DOWN']);
  });
});
