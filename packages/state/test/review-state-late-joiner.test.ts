/**
 * Review: a shared revalidation's time limit came from the invocation that started it. A later
 * invocation with less time left that joined it waited for it until its own deadline and got
 * `DEADLINE_EXCEEDED` — although the staleness contract (within `staleIfErrorMs`) lets it be
 * served the last good state, and the starter alone would have been, at half its remaining time.
 *
 * Now each invocation is bounded by its own deadline: a joiner the last good state can stand in
 * for stops waiting at half the time it has left and is served that state (with the warning),
 * while the revalidation goes on for the invocation that started it.
 */
import { describe, expect, it } from 'vitest';
import { defineState } from '../src/index.js';
import { gatedSource, logLines, manualClock } from './support.js';

describe('two concurrent invocations with different deadlines share one revalidation', () => {
  it('the joiner with less time left is served the last good state (within staleIfErrorMs) instead of DEADLINE_EXCEEDED; the starter gets the new state', async () => {
    const gated = gatedSource();
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({ sources: { config: gated.source }, maxAgeMs: 1_000, staleIfErrorMs: 600_000, now: clock.now, logger: log.logger });
    const good = await cache.get();
    expect(good).toEqual({ config: { version: 1 } });

    clock.advance(5_000);
    gated.close();
    // The starter has 60 s left (its revalidation is bounded by timeoutMs, 10 s); the joiner 400 ms.
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    const joiner = cache.get({ deadline: Date.now() + 400 });
    const joined = await joiner.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    expect(joined).toEqual({ value: good });
    expect((joined as { value: unknown }).value).toBe(good);
    expect(log.entries().find((l) => l.msg === 'serving the last good state: reload failed')).toMatchObject({ level: 'warn' });

    // The revalidation was not stopped by the joiner leaving: the starter gets the new state.
    gated.release(2);
    expect(await starter).toEqual({ config: { version: 2 } });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('without staleIfErrorMs the joiner has nothing it may be served: DEADLINE_EXCEEDED at its own deadline, and the starter is unaffected', async () => {
    const gated = gatedSource();
    const clock = manualClock();
    const cache = defineState({ sources: { config: gated.source }, maxAgeMs: 1_000, now: clock.now, logger: logLines().logger });
    await cache.get();
    clock.advance(5_000);
    gated.close();
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    await expect(cache.get({ deadline: Date.now() + 100 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    gated.release(3);
    expect(await starter).toEqual({ config: { version: 3 } });
  });
});
