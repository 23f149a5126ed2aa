/**
 * Review probes of today's cheaper per-invocation path (lazy ctx.signal, the linked-list deadline
 * watch, the function called without an async frame when no plugin wraps it, `finally` hooks run
 * synchronously until one returns a promise): the same answers, logs and aborts as before, at the
 * edges. Every wait is for an event (a deadline firing, a promise settling); nothing asserts a duration.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger sink keeping each line's message, level and code (no times or ids). */
function lines() {
  const seen: Array<{ level: unknown; msg: unknown; code: unknown; plugin: unknown }> = [];
  return {
    seen,
    logSink: (line: string) => {
      const l = JSON.parse(line) as Record<string, unknown>;
      seen.push({ level: l.level, msg: l.msg ?? l.message, code: l.code, plugin: l.plugin });
    },
  };
}

async function outcome(p: Promise<unknown>) {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    const e = err as { code?: unknown; retryable?: unknown; status?: unknown };
    return { ok: false, code: e.code, retryable: e.retryable };
  }
}

describe('finally hooks: sync throws, rejections and thenables', () => {
  it('run in reverse; a sync throw, a rejected promise, a rejecting thenable and a throwing `then` getter are each logged and leave the outcome as it was', async () => {
    const order: string[] = [];
    const log = lines();
    // Hooks typed to return void or a promise return other things here, as untyped JavaScript can.
    const hook = (name: string, result: () => unknown): Plugin => ({ name, finally: () => (order.push(name), result()) as Promise<void> });
    const main = handler(
      {
        logSink: log.logSink,
        logLevel: 'debug',
        use: [
          hook('first', () => undefined),
          // A thenable (not a promise) that resolves later.
          hook('thenable-ok', () => ({ then: (resolve: (v: unknown) => void) => setTimeout(() => resolve('done'), 1) })),
          hook('thenable-rejects', () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new Error('nope')) })),
          // An object whose `then` cannot even be read (a strict proxy, a getter that throws).
          hook('then-getter-throws', () => ({
            get then(): never {
              throw new Error('no then here');
            },
          })),
          hook('rejects', () => Promise.reject(new Error('async failure'))),
          hook('throws', () => {
            throw new Error('sync failure');
          }),
        ],
      },
      () => 'answer',
    );
    expect(await outcome(main.invoke({}))).toEqual({ ok: true, value: 'answer' });
    expect(order).toEqual(['throws', 'rejects', 'then-getter-throws', 'thenable-rejects', 'thenable-ok', 'first']);
    const failed = log.seen.filter((l) => l.msg === 'plugin finally hook failed').map((l) => l.plugin);
    expect(failed).toEqual(['throws', 'rejects', 'then-getter-throws', 'thenable-rejects']);
    // The invocation ended: a second one on the same instance runs the same way.
    expect(await outcome(main.invoke({}))).toEqual({ ok: true, value: 'answer' });
  });
});

describe('with and without a wrap hook: the same answers and logs', () => {
  const passThrough: Plugin = { name: 'pass', wrap: (_ctx, next) => next() };
  const noop: Plugin = { name: 'noop', before: () => undefined };
  const cases: Array<[string, () => unknown]> = [
    ['a value', () => ({ n: 1 })],
    ['a sync throw', () => {
      throw new Error('boom');
    }],
    ['a rejected promise', () => Promise.reject(new Error('boom'))],
    ['a resolving non-promise thenable', () => ({ then: (resolve: (v: unknown) => void) => resolve({ n: 2 }) })],
    ['a rejecting non-promise thenable', () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new Error('boom')) })],
    ['a thenable whose then throws', () => ({
      then: () => {
        throw new Error('boom');
      },
    })],
    ['a steady error thrown sync', () => {
      throw Object.assign(new Error('x'), { code: 'X' });
    }],
  ];
  it.each(cases)('%s', async (_label, fn) => {
    const runs = [];
    for (const use of [[], [noop], [passThrough], [noop, passThrough]]) {
      const log = lines();
      const main = handler({ use, logSink: log.logSink, logLevel: 'debug' }, fn);
      runs.push({ result: await outcome(main.invoke({})), logs: log.seen });
    }
    // Each failure is logged once, as the invocation's own; a value logs nothing at all.
    expect(runs[0]!.logs.length).toBe(runs[0]!.result.ok ? 0 : 1);
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  });
});

describe('ctx.signal, read here or there', () => {
  /** A plugin that keeps ctx.signal from a hook, and what it saw. */
  const keeper = (hook: 'before' | 'finally') => {
    const kept: { signal?: AbortSignal } = {};
    const plugin: Plugin = { name: `keep-${hook}`, [hook]: (ctx: { signal: AbortSignal }) => void (kept.signal = ctx.signal) };
    return { kept, plugin };
  };

  it('read only in before, kept, checked after the deadline: aborted with DEADLINE_EXCEEDED, the same signal the function saw', async () => {
    const { kept, plugin } = keeper('before');
    let inFn: AbortSignal | undefined;
    const main = handler({ use: [plugin], deadlineMarginMs: 20, logSink: () => undefined }, async (_input, ctx) => {
      inFn = ctx.signal;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return 'late';
    });
    // 1 s: at 150 ms a pause of 130 ms before the before hook (a loaded machine) left nothing kept.
    expect(await outcome(main.invoke({}, { deadline: Date.now() + 1_000 }))).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED' });
    expect(inFn).toBe(kept.signal);
    expect(kept.signal?.aborted).toBe(true);
    expect((kept.signal?.reason as { code?: string }).code).toBe('DEADLINE_EXCEEDED');
  });

  it('read only in finally of an invocation that ran out: already aborted with DEADLINE_EXCEEDED', async () => {
    const { kept, plugin } = keeper('finally');
    const main = handler({ use: [plugin], deadlineMarginMs: 100, logSink: () => undefined }, () => sleep(2_000));
    expect(await outcome(main.invoke({}, { deadline: Date.now() + 150 }))).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED' });
    expect(kept.signal?.aborted).toBe(true);
    expect((kept.signal?.reason as { code?: string }).code).toBe('DEADLINE_EXCEEDED');
  });

  it('first read after the invocation ended, before its bound: like one read during it, not aborted when the bound passes (the ended invocation is no longer watched); read past the bound, aborted', async () => {
    let saved: { signal: AbortSignal } | undefined;
    const keep: Plugin = { name: 'keep-ctx', before: (ctx) => void (saved = ctx) };
    const main = handler({ use: [keep], deadlineMarginMs: 10, logSink: () => undefined }, (_input, ctx) => ({ during: ctx.signal }));
    // Room for two invocations and their awaits before the bound, however loaded the machine (at
    // 200 ms a pause of 190 ms anywhere in them read the signal past the bound).
    const deadline = Date.now() + 1_000;
    const { during } = (await main.invoke({}, { deadline })) as { during: AbortSignal };
    const after = saved!.signal;
    expect(after).toBe(during);
    // A second invocation's ctx, first read only after it ended.
    let saved2: { signal: AbortSignal } | undefined;
    const keep2: Plugin = { name: 'keep-ctx', before: (ctx) => void (saved2 = ctx) };
    const other = handler({ use: [keep2], deadlineMarginMs: 10, logSink: () => undefined }, () => 'ok');
    await other.invoke({}, { deadline });
    const firstReadAfterEnd = saved2!.signal;
    expect(firstReadAfterEnd.aborted).toBe(false);
    // Past the bound, and past the watch's turn for it.
    await sleep(deadline - Date.now() + 50);
    expect([during.aborted, firstReadAfterEnd.aborted]).toEqual([false, false]);
    // Read again now, past the bound: aborted, with DEADLINE_EXCEEDED.
    expect((saved2!.signal.reason as { code?: string } | undefined)?.code).toBe('DEADLINE_EXCEEDED');
  });

  it('a deadline already past at the start: the function never runs, a before hook never runs, DEADLINE_EXCEEDED', async () => {
    const ran: string[] = [];
    const main = handler({ use: [{ name: 'b', before: () => void ran.push('before') }], logSink: () => undefined }, () => void ran.push('fn'));
    const bare = handler({ logSink: () => undefined }, () => void ran.push('bare'));
    expect(await outcome(main.invoke({}, { deadline: Date.now() - 1 }))).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(await outcome(bare.invoke({}, { deadline: Date.now() - 1 }))).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(ran).toEqual([]);
  });
});

describe('the shared deadline watch under many invocations', () => {
  it('invocations with deadlines in shuffled order each abort at their own bound, never before it, with DEADLINE_EXCEEDED; none is lost', async () => {
    const offsets = [240, 60, 180, 20, 300, 120, 40, 260, 100, 200, 80, 160];
    // Every bound is `base` plus its offset out: a function starts only before its bound (less the
    // margin), and one that never starts is DEADLINE_EXCEEDED with no abort to see. With the
    // offsets alone, the nearest bound left 10 ms for the calls before it, which a loaded machine
    // took; the bounds keep their shuffled order and 20 ms spacing.
    const base = 1_000;
    const aborts: Array<{ i: number; early: boolean }> = [];
    const main = handler({ deadlineMarginMs: 10, logSink: () => undefined }, async (input, ctx) => {
      const { i, answerAt } = input as { i: number; answerAt: number };
      const seen = () => aborts.push({ i, early: Date.now() < answerAt });
      // Already aborted when first read (a pause past the bound after the start check): an
      // abort listener added now would never run, and the test would hang instead of failing.
      if (ctx.signal.aborted) return void seen();
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          seen();
          resolve();
        }),
      );
      return 'late';
    });
    const start = Date.now() + base;
    const results = await Promise.all(offsets.map((ms, i) => outcome(main.invoke({ i, answerAt: start + ms - 10 }, { deadline: start + ms }))));
    expect(results.every((r) => r.ok === false && r.code === 'DEADLINE_EXCEEDED')).toBe(true);
    expect(aborts.map((a) => a.i).sort((a, b) => a - b)).toEqual(offsets.map((_, i) => i));
    expect(aborts.filter((a) => a.early)).toEqual([]);
  });

  it('an abort listener that starts other invocations (one already past its deadline, one with a later one) and one whose work settles during the firing: each still answers', async () => {
    const main = handler({ deadlineMarginMs: 10, logSink: () => undefined }, async (input, ctx) => {
      const { wait } = input as { wait?: 'abort' | Promise<unknown> };
      if (wait === 'abort') await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      else if (wait) await wait;
      return 'done';
    });
    let release!: (v: unknown) => void;
    const released = new Promise((resolve) => (release = resolve));
    const started: Array<Promise<unknown>> = [];
    const first = handler({ deadlineMarginMs: 10, logSink: () => undefined }, async (_input, ctx) => {
      ctx.signal.addEventListener('abort', () => {
        // Re-entrant: new entries while the watch is firing, and another invocation's work settling.
        started.push(outcome(main.invoke({ wait: 'abort' }, { deadline: Date.now() - 5 })));
        started.push(outcome(main.invoke({ wait: 'abort' }, { deadline: Date.now() + 120 })));
        started.push(outcome(main.invoke({}, { deadline: Date.now() + 5_000 })));
        release('settled');
      });
      await sleep(5_000);
    });
    const now = Date.now();
    // Its bound is far past first's (at 50 ms): a watch timer that fires late on a loaded machine
    // (here 40 ms was enough) would otherwise expire both in one firing, and this one would answer
    // DEADLINE_EXCEEDED instead of the value released during it.
    const settledDuring = outcome(main.invoke({ wait: released }, { deadline: now + 2_000 }));
    expect(await outcome(first.invoke({}, { deadline: now + 60 }))).toMatchObject({ ok: false, code: 'DEADLINE_EXCEEDED' });
    expect(await Promise.all(started)).toEqual([
      { ok: false, code: 'DEADLINE_EXCEEDED', retryable: true },
      { ok: false, code: 'DEADLINE_EXCEEDED', retryable: true },
      { ok: true, value: 'done' },
    ]);
    expect(await settledDuring).toEqual({ ok: true, value: 'done' });
  });
});
