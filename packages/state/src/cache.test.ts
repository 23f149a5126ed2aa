/**
 * The cache's contract as pure logic: in-memory sources (fakes are fine here: no store is
 * involved) and a hand-moved clock. The real stores are exercised in state.integration.test.ts.
 */
import { createLogger, handler } from '@steadyfn/handler';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { manualClock, logLines } from '../test/support.js';
import { defineState, StateError, type StateSource } from './index.js';

/** A value in memory with a version; counts loads and revalidations; can fail or hold its answer. */
function memory<T>(initial: T) {
  let value = initial;
  let version = 1;
  const calls = { load: 0, revalidate: 0 };
  const signals: AbortSignal[] = [];
  let failure: Error | undefined;
  let hold: Promise<void> | undefined;
  const source: StateSource<T> = {
    description: 'memory',
    async load(signal) {
      calls.load++;
      signals.push(signal);
      if (hold) await hold;
      if (failure) throw failure;
      return { value: structuredClone(value), version };
    },
    async revalidate(known, signal) {
      calls.revalidate++;
      signals.push(signal);
      if (hold) await hold;
      if (failure) throw failure;
      return known.version === version ? 'unchanged' : { value: structuredClone(value), version };
    },
  };
  return {
    source,
    calls,
    signals,
    set(next: T) {
      value = next;
      version++;
    },
    fail(error: Error | undefined) {
      failure = error;
    },
    /** Holds every call until the returned function is called. */
    holdCalls(): () => void {
      let release!: () => void;
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

const quiet = createLogger({}, () => undefined);

describe('defineState: load', () => {
  it('starts every source before any finishes, and validates the whole state with one schema', async () => {
    const order: string[] = [];
    const tracked = (name: string, value: unknown): StateSource => ({
      async load() {
        order.push(`start:${name}`);
        await new Promise((r) => setImmediate(r));
        order.push(`end:${name}`);
        return { value };
      },
    });
    const cache = defineState({
      sources: { a: tracked('a', { n: '1' }), b: tracked('b', [1, 2]), c: tracked('c', 'x'), d: tracked('d', true) },
      schema: z.object({ a: z.object({ n: z.coerce.number() }), b: z.array(z.number()), c: z.string(), d: z.boolean() }),
      logger: quiet,
    });
    const state = await cache.get();
    expect(state).toEqual({ a: { n: 1 }, b: [1, 2], c: 'x', d: true });
    expect(order.slice(0, 4).sort()).toEqual(['start:a', 'start:b', 'start:c', 'start:d']);
  });

  it('freezes the state all the way down', async () => {
    const cache = defineState({ sources: { cfg: memory({ nested: { list: [{ x: 1 }] } }).source }, logger: quiet });
    const state = await cache.get();
    expect(Object.isFrozen(state)).toBe(true);
    expect(Object.isFrozen(state.cfg.nested.list[0])).toBe(true);
    expect(() => {
      (state.cfg.nested.list[0] as { x: number }).x = 2;
    }).toThrow(TypeError);
  });

  it('aggregates every failure: each failed source and each invalid path, by name', async () => {
    const broken = memory({});
    broken.fail(new Error('connection refused'));
    const cache = defineState({
      sources: { flags: memory({ maxItems: 'lots' }).source, secrets: broken.source, limits: memory({ rps: 10 }).source },
      schema: z.object({ flags: z.object({ maxItems: z.number() }), secrets: z.object({ key: z.string() }), limits: z.object({ rps: z.number().max(5) }) }),
      logger: quiet,
    });
    const error = await cache.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    const stateError = error as StateError;
    expect(stateError.code).toBe('STATE_UNAVAILABLE');
    expect(stateError.retryable).toBe(true);
    expect(stateError.expose).toBe(false);
    // The failed source is named once, for its load failure, not again for its missing value.
    expect(stateError.failures).toEqual([
      { source: 'secrets', kind: 'load', field: 'secrets', message: 'memory: Error' },
      expect.objectContaining({ source: 'flags', kind: 'invalid', field: 'flags.maxItems', expected: 'number' }),
      expect.objectContaining({ source: 'limits', kind: 'invalid', field: 'limits.rps', expected: 'number <= 5' }),
    ]);
    expect(stateError.message).toContain('flags.maxItems');
    // Nothing of the state is exposed to HTTP callers.
    expect(stateError.issues).toBeUndefined();
  });

  it('says STATE_INVALID when every source loaded but the schema refused', async () => {
    const cache = defineState({ sources: { n: memory('x').source }, schema: z.object({ n: z.number() }), logger: quiet });
    // Retryable on purpose (see StateError): terminal, `terminalErrors: 'ack'` would drop every message while the state is bad.
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_INVALID', retryable: true, failures: [{ source: 'n', field: 'n', kind: 'invalid' }] });
  });

  it('validates with a schema that has async refinements and transforms, on every load', async () => {
    // Each check runs once per load: a synchronous try first (cheaper for zod) would call the
    // async refinement and drop its promise — a rejection nobody handles.
    const clock = manualClock();
    const m = memory({ limit: 3 });
    let checks = 0;
    const cache = defineState({
      sources: { cfg: m.source },
      schema: z.object({
        cfg: z.object({
          limit: z.number().refine(async (n) => {
            checks++;
            await new Promise((r) => setImmediate(r));
            return n <= 5;
          }, 'at most 5'),
        }).transform(async (cfg) => ({ ...cfg, doubled: cfg.limit * 2 })),
      }),
      maxAgeMs: 1_000,
      now: clock.now,
      logger: quiet,
    });
    expect(await cache.get()).toEqual({ cfg: { limit: 3, doubled: 6 } });
    m.set({ limit: 9 });
    clock.advance(1_000);
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_INVALID', failures: [{ source: 'cfg', field: 'cfg.limit', kind: 'invalid', message: 'at most 5' }] });
    m.set({ limit: 4 });
    clock.advance(1_000);
    expect(await cache.get()).toEqual({ cfg: { limit: 4, doubled: 8 } });
    expect(checks).toBe(3);
  });

  const invalid = (field: string) => expect.objectContaining({ name: 'ConfigurationError', code: 'CONFIG_INVALID', retryable: false, field });

  it('rejects bad options with a ConfigurationError naming the option', () => {
    expect(() => defineState({ sources: {} })).toThrow(invalid('sources'));
    expect(() => defineState({ sources: { a: memory(1).source }, maxAgeMs: -1 })).toThrow(invalid('maxAgeMs'));
    expect(() => defineState({ sources: { a: memory(1).source }, maxAgeMs: -1 })).toThrow('defineState(): option "maxAgeMs" must be a number of milliseconds ≥ 0 (or Infinity); got -1');
    expect(() => defineState({ sources: { a: memory(1).source }, timeoutMs: 0 })).toThrow(invalid('timeoutMs'));
    expect(() => defineState({ sources: { a: {} as StateSource } })).toThrow(invalid('sources.a'));
  });

  it('still takes the durations under their names before …Ms (deprecated), but not both', async () => {
    const clock = manualClock();
    const m = memory(1);
    const cache = defineState({ sources: { m: m.source }, maxAge: 1_000, now: clock.now, logger: quiet });
    await cache.get();
    clock.advance(999);
    await cache.get();
    expect(m.calls).toEqual({ load: 1, revalidate: 0 });
    clock.advance(1);
    await cache.get();
    expect(m.calls).toEqual({ load: 1, revalidate: 1 });
    expect(() => defineState({ sources: { m: m.source }, maxAge: 1_000, maxAgeMs: 1_000 })).toThrow(invalid('maxAge'));
    expect(() => defineState({ sources: { m: m.source }, staleIfError: -5 })).toThrow(invalid('staleIfError'));
  });
});

describe('defineState: concurrency', () => {
  it('lets concurrent callers share one in-flight load', async () => {
    const m = memory({ v: 1 });
    const release = m.holdCalls();
    const cache = defineState({ sources: { m: m.source }, logger: quiet });
    const waiting = [cache.get(), cache.get(), cache.get()];
    release();
    const states = await Promise.all(waiting);
    expect(m.calls.load).toBe(1);
    expect(states[0]).toBe(states[1]);
    expect(states[1]).toBe(states[2]);
  });
});

describe('defineState: staleness contract', () => {
  const setup = (opts: { staleIfErrorMs?: number; retryAfterErrorMs?: number } = {}) => {
    const clock = manualClock();
    const m = memory({ v: 1 });
    const log = logLines();
    const cache = defineState({ sources: { m: m.source }, maxAgeMs: 1_000, now: clock.now, logger: log.logger, ...opts });
    return { clock, m, cache, log };
  };

  it('asks no source while younger than maxAge', async () => {
    const { clock, m, cache } = setup();
    const first = await cache.get();
    clock.advance(999);
    expect(await cache.get()).toBe(first);
    expect(m.calls).toEqual({ load: 1, revalidate: 0 });
    expect(cache.status().fresh).toBe(true);
  });

  it('revalidates once maxAge has passed; unchanged keeps the same state and restarts maxAge', async () => {
    const { clock, m, cache } = setup();
    const first = await cache.get();
    clock.advance(1_000);
    expect(cache.status().fresh).toBe(false);
    expect(await cache.get()).toBe(first);
    expect(m.calls).toEqual({ load: 1, revalidate: 1 });
    clock.advance(999);
    await cache.get();
    expect(m.calls).toEqual({ load: 1, revalidate: 1 });
  });

  it('replaces the state when a source changed', async () => {
    const { clock, m, cache } = setup();
    await cache.get();
    m.set({ v: 2 });
    expect(await cache.get()).toEqual({ m: { v: 1 } });
    clock.advance(1_000);
    expect(await cache.get()).toEqual({ m: { v: 2 } });
  });

  it('serves the last good state with a warning within staleIfError, then fails', async () => {
    const { clock, m, cache, log } = setup({ staleIfErrorMs: 5_000, retryAfterErrorMs: 0 });
    const good = await cache.get();
    m.fail(new Error('store down'));
    clock.advance(1_000);
    expect(await cache.get()).toBe(good);
    const warning = log.entries().find((e) => e.level === 'warn');
    expect(warning).toMatchObject({ msg: 'serving the last good state: reload failed', code: 'STATE_UNAVAILABLE', ageMs: 1_000, staleForMs: 0 });
    // The source's failure is named by class and code, never by its message (issue 9, item 10).
    expect(warning?.failures).toEqual([{ field: 'm', message: 'memory: Error' }]);
    expect(JSON.stringify(warning)).not.toContain('store down');
    expect(cache.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE' });
    clock.advance(4_999); // age 5 999 < maxAge + staleIfError
    expect(await cache.get()).toBe(good);
    clock.advance(1); // age 6 000: too old to serve
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    m.fail(undefined);
    expect(await cache.get()).toBe(good); // loaded in full: the same version and value keep the same object
    expect(cache.status()).toMatchObject({ fresh: true, lastError: undefined });
  });

  it('serves stale data when the new data is invalid, too', async () => {
    const clock = manualClock();
    const m = memory({ n: 1 });
    const cache = defineState({ sources: { m: m.source }, schema: z.object({ m: z.object({ n: z.number() }) }), maxAgeMs: 10, staleIfErrorMs: 100, now: clock.now, logger: quiet });
    const good = await cache.get();
    m.set({ n: 'broken' as unknown as number });
    clock.advance(10);
    expect(await cache.get()).toBe(good);
    expect(cache.status().lastError).toMatchObject({ code: 'STATE_INVALID' });
  });

  it('after a failure, waits retryAfterError before asking the store again', async () => {
    const { clock, m, cache } = setup({ staleIfErrorMs: 60_000, retryAfterErrorMs: 500 });
    await cache.get();
    m.fail(new Error('down'));
    clock.advance(1_000);
    await cache.get();
    const asked = (): number => m.calls.load + m.calls.revalidate;
    expect(asked()).toBe(2); // the first load, the failed revalidation
    clock.advance(499);
    await cache.get();
    expect(asked()).toBe(2);
    clock.advance(1);
    await cache.get();
    // After a failure the version kept proves nothing: the source is loaded in full.
    expect(m.calls).toEqual({ load: 2, revalidate: 1 });
  });

  it('throws on a failed cold load (there is no last good state)', async () => {
    const m = memory(1);
    m.fail(new Error('nope'));
    const cache = defineState({ sources: { m: m.source }, staleIfErrorMs: 60_000, logger: quiet });
    await expect(cache.get()).rejects.toBeInstanceOf(StateError);
    m.fail(undefined);
    await expect(cache.get()).resolves.toEqual({ m: 1 });
  });

  it('reloads in full sources without a version, and keeps unchanged ones', async () => {
    const clock = manualClock();
    const versioned = memory('a');
    let loads = 0;
    const plain: StateSource<number> = { load: async () => ({ value: ++loads }) };
    const cache = defineState({ sources: { versioned: versioned.source, plain }, maxAgeMs: 10, now: clock.now, logger: quiet });
    expect(await cache.get()).toEqual({ versioned: 'a', plain: 1 });
    clock.advance(10);
    expect(await cache.get()).toEqual({ versioned: 'a', plain: 2 });
    expect(versioned.calls).toEqual({ load: 1, revalidate: 1 });
  });

  it('invalidate() drops the state: the next get loads in full', async () => {
    const { m, cache } = setup();
    await cache.get();
    cache.invalidate();
    expect(cache.status().loaded).toBe(false);
    await cache.get();
    expect(m.calls).toEqual({ load: 2, revalidate: 0 });
  });
});

describe('defineState: nothing left running', () => {
  it('leaves no timer pending after a load, a revalidation, a failure or an abandoned load', async () => {
    // Every timer set while the cache works must be cleared or have fired by the time get() settles.
    const pending = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = realSet(() => {
        pending.delete(handle);
        fn(...args);
      }, ms);
      pending.add(handle);
      return handle;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((handle) => {
      pending.delete(handle);
      realClear(handle);
    });
    try {
      const clock = manualClock();
      const m = memory(1);
      const cache = defineState({ sources: { m: m.source }, maxAgeMs: 10, staleIfErrorMs: 100, retryAfterErrorMs: 0, now: clock.now, logger: quiet });
      await cache.get({ deadline: Date.now() + 60_000, signal: new AbortController().signal });
      clock.advance(10);
      await cache.get({ deadline: Date.now() + 60_000 });
      m.fail(new Error('down'));
      clock.advance(10);
      await cache.get({ deadline: Date.now() + 60_000 });
      m.holdCalls();
      clock.advance(10);
      const controller = new AbortController();
      const abandoned = cache.get({ signal: controller.signal, deadline: Date.now() + 60_000 });
      controller.abort(new Error('gone'));
      await expect(abandoned).rejects.toThrow('gone');
      await new Promise((r) => setImmediate(r));
      expect(setSpy).toHaveBeenCalled();
      expect(pending.size).toBe(0);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });
});

describe('defineState: deadlines', () => {
  it('stops waiting when the invocation signal aborts, and stops the load when nobody waits', async () => {
    const m = memory(1);
    m.holdCalls();
    const cache = defineState({ sources: { m: m.source }, logger: quiet });
    const controller = new AbortController();
    const pending = cache.get({ signal: controller.signal });
    controller.abort(new Error('deadline'));
    await expect(pending).rejects.toThrow('deadline');
    expect(m.signals[0]!.aborted).toBe(true);
  });

  it('keeps the load going while another invocation still waits for it', async () => {
    const m = memory(1);
    const release = m.holdCalls();
    const cache = defineState({ sources: { m: m.source }, logger: quiet });
    const impatient = new AbortController();
    const first = cache.get({ signal: impatient.signal });
    const second = cache.get();
    impatient.abort(new Error('gave up'));
    await expect(first).rejects.toThrow('gave up');
    expect(m.signals[0]!.aborted).toBe(false);
    release();
    await expect(second).resolves.toEqual({ m: 1 });
  });

  it('rejects with DEADLINE_EXCEEDED once ctx.deadline has passed, starting no load', async () => {
    const m = memory(1);
    m.holdCalls();
    const cache = defineState({ sources: { m: m.source }, logger: quiet });
    await expect(cache.get({ deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(m.signals).toEqual([]);
  });

  it('bounds a load by timeoutMs, naming the sources that did not answer', async () => {
    const slow = memory(1);
    slow.holdCalls();
    const cache = defineState({ sources: { slow: slow.source, fast: memory(2).source }, timeoutMs: 1, logger: quiet });
    const error = (await cache.get().catch((e: unknown) => e)) as StateError;
    expect(error.code).toBe('STATE_UNAVAILABLE');
    expect(error.failures).toEqual([expect.objectContaining({ source: 'slow', message: expect.stringContaining('timed out after 1 ms') })]);
  });

  it('through the handler: a deadline that passes during the load answers DEADLINE_EXCEEDED', async () => {
    const m = memory(1);
    m.holdCalls();
    const cache = defineState({ sources: { m: m.source }, logger: quiet });
    const { state } = await import('./plugin.js');
    const main = handler({ use: [state(cache)], deadlineMarginMs: 0, logSink: () => undefined }, async (_input, ctx) => ctx.state.m);
    // 1 s: at 200 ms a pause of that long before the plugin started the load (a loaded machine)
    // answered DEADLINE_EXCEEDED without loading, and there was no signal to check.
    await expect(main.invoke({}, { deadline: Date.now() + 1_000 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(m.signals[0]!.aborted).toBe(true);
  });
});

describe('stale-state warnings never carry a source error message (issue 9, item 10)', () => {
  it('a custom source whose fetch URL holds user:pass@ is named by class and code only', async () => {
    const { custom } = await import('./index.js');
    let fail = false;
    const source = custom({
      load: async () => {
        if (fail) throw Object.assign(new TypeError('fetch failed: GET https://user:pass@flags.example.com/v1 ECONNRESET'), { code: 'ECONNRESET' });
        return { on: true };
      },
      description: 'feature flags',
    });
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({ sources: { flags: source }, maxAgeMs: 1_000, staleIfErrorMs: 60_000, retryAfterErrorMs: 0, now: clock.now, logger: log.logger });
    await cache.get();
    fail = true;
    clock.advance(2_000);
    expect(await cache.get()).toEqual({ flags: { on: true } });
    const warning = log.entries().find((e) => e.msg === 'serving the last good state: reload failed');
    expect(warning?.failures).toEqual([{ field: 'flags', message: 'feature flags: TypeError ECONNRESET' }]);
    expect(JSON.stringify(log.entries())).not.toMatch(/user:pass|pass@|fetch failed/);
    expect(JSON.stringify(cache.status())).not.toMatch(/user:pass|pass@|fetch failed/);
  });
});
