/**
 * Review: a late joiner of a shared revalidation is served the last good state when its own
 * limit (half its remaining time) passes — the fallback of today's late-joiner fix. Whether that
 * state may stand in (within `staleIfErrorMs`) was decided when the invocation joined, not when
 * the state is served: a state that left the window meanwhile was still served, past the
 * staleness contract the starter keeps (it checks the window when its reload fails). Now the
 * window is checked when the fallback would be served; outside it the joiner waits on, as an
 * invocation with nothing it may be served does (`DEADLINE_EXCEEDED` at its own deadline).
 * The clock of the contract is the cache's `now` (a manual clock here), so no test timing.
 */
import { describe, expect, it } from 'vitest';
import { defineState } from '../src/index.js';
import { gatedSource, logLines, manualClock } from './support.js';

describe('a late joiner whose last good state leaves staleIfErrorMs while it waits', () => {
  it('is not served that state (DEADLINE_EXCEEDED at its own deadline); the starter still gets the new state', async () => {
    const gated = gatedSource();
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({ sources: { config: gated.source }, maxAgeMs: 1_000, staleIfErrorMs: 10_000, now: clock.now, logger: log.logger });
    await cache.get();

    // 5 s old: stale, inside the window (1 s + 10 s) when the joiner joins.
    clock.advance(5_000);
    gated.close();
    const starter = cache.get({ deadline: Date.now() + 60_000 });
    await gated.started(2);
    const joiner = cache.get({ deadline: Date.now() + 400 }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // Before the joiner's own limit (half its 400 ms) passes, the state leaves the window.
    clock.advance(20_000);
    const joined = await joiner;
    expect(joined).toMatchObject({ error: { code: 'DEADLINE_EXCEEDED' } });
    expect(log.entries().filter((l) => l.msg === 'serving the last good state: reload failed')).toEqual([]);

    gated.release(2);
    expect(await starter).toEqual({ config: { version: 2 } });
  });
});
