/**
 * Review (D1): the invocation that started a shared revalidation set its time limit for everyone
 * waiting on it. A starter with 20 ms left limited the load to 10 ms; a joiner with 30 s left was
 * served the old state with a false "reload failed" warning, `lastError` was set, and for
 * `retryAfterErrorMs` every invocation was served the old state without asking the stores.
 *
 * Now the shared load runs as long as the waiter with the most time wants it (never past
 * `timeoutMs`); the starter leaves at its own limit like any joiner, served the last good state;
 * a failure is recorded only when the load itself fails or reaches its limit.
 * Pure cache logic: a custom source with a slow version and load is enough.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { custom, defineState } from '../src/index.js';
import { inWindow, sleepUntil } from '../../../test/support/window.js';
import { logLines } from './support.js';

function slowSource(delayMs: number) {
  const store = { version: 1, loads: 0 };
  const source = custom({
    load: async () => {
      store.loads++;
      await sleep(delayMs);
      return { v: store.version };
    },
    version: async () => {
      await sleep(delayMs);
      return store.version;
    },
  });
  return { store, source };
}

const warnings = (log: ReturnType<typeof logLines>) => log.entries().filter((l) => l.msg === 'serving the last good state: reload failed');

describe('a shared revalidation started by an invocation with almost no time left', () => {
  it('is not cut short for a joiner with time: the joiner gets the new state, the starter the last good one, and no failure is recorded', async () => {
    // The window: the shared load (a version and a load of `ms / 2` each). The starter must leave
    // (at half its 20 ms) inside it; a starter a loaded machine delays past it proves nothing:
    // run again with a slower load.
    await inWindow([120, 480, 1_920], async (window) => {
      const { store, source } = slowSource(window.ms / 2);
      const log = logLines();
      const cache = defineState({ sources: { cfg: source }, maxAgeMs: 50, staleIfErrorMs: 600_000, logger: log.logger });
      expect(await cache.get()).toEqual({ cfg: { v: 1 } });
      store.version = 2;
      await sleepUntil(Date.now() + 50); // past maxAgeMs: the next get revalidates

      const order: string[] = [];
      const started = Date.now();
      const [a, b] = await Promise.all([
        cache.get({ deadline: Date.now() + 20 }).then((value) => (order.push('a'), { value, at: Date.now() - started })),
        cache.get({ deadline: Date.now() + 30_000 }).then((value) => (order.push('b'), { value, at: Date.now() - started })),
      ]);
      // The starter leaves at its own limit, served the last good state, before the load finishes
      // for the joiner: first, and inside the load's time.
      window.holds(started, () => {
        expect(order).toEqual(['a', 'b']);
        expect(a.at).toBeLessThan(window.ms);
      }, { endedAt: started + a.at });
      expect(a.value).toEqual({ cfg: { v: 1 } });
      expect(b.value).toEqual({ cfg: { v: 2 } });
      expect(cache.status().lastError).toBeUndefined();
      // One warning, the starter's own: it left; the reload did not fail.
      expect(warnings(log)).toEqual([expect.objectContaining({ failures: [expect.objectContaining({ message: expect.stringContaining("this invocation's own limit") })] })]);

      const c = await cache.get({ deadline: Date.now() + 30_000 });
      expect(c).toEqual({ cfg: { v: 2 } });
      expect(cache.status().lastError).toBeUndefined();
    });
  }, 20_000);

  it('a joiner with more time holds the load past the starter’s limit; a store that hangs still fails it at that longer limit, recorded', async () => {
    // The window: the joiner's deadline (its limit, and the load's, is half of it). Steps that a
    // loaded machine delays past their part of it prove nothing: run again with a longer deadline.
    await inWindow([400, 1_600, 6_400], async (window) => {
      let hang = false;
      const log = logLines();
      const cache = defineState({
        sources: { cfg: custom({ load: async () => ({ v: 1 }), version: () => (hang ? new Promise<never>(() => undefined) : 1) }) },
        maxAgeMs: 50,
        staleIfErrorMs: 600_000,
        logger: log.logger,
      });
      await cache.get();
      hang = true;
      await sleepUntil(Date.now() + 50); // past maxAgeMs: the next get revalidates
      const limitMs = window.ms / 2;
      const order: string[] = [];
      const started = Date.now();
      const [a, b] = await Promise.all([
        cache.get({ deadline: Date.now() + 20 }).then((value) => (order.push('a'), { value, at: Date.now() - started })),
        cache.get({ deadline: Date.now() + window.ms }).then((value) => (order.push('b'), { value, at: Date.now() - started })),
      ]);
      expect(a.value).toEqual({ cfg: { v: 1 } });
      // The starter leaves first, inside the joiner's limit.
      window.holds(started, () => {
        expect(order).toEqual(['a', 'b']);
        expect(a.at).toBeLessThan(limitMs);
      }, { endedAt: started + a.at, windowMs: limitMs });
      // The joiner's own limit (half its deadline) is the load's: the load fails there, recorded —
      // not before it (timers may fire a few ms early), and not at the deadline.
      expect(b.value).toEqual({ cfg: { v: 1 } });
      expect(b.at).toBeGreaterThanOrEqual(limitMs - 10);
      window.holds(started, () => expect(b.at).toBeLessThan(window.ms), { endedAt: started + b.at });
      expect(cache.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ message: expect.stringContaining('no answer within') })] });
    });
  }, 30_000);
});
