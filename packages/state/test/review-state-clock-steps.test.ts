/**
 * Review: the staleness contract when the wall clock steps back (an NTP correction, a VM
 * restored from a snapshot, a hand-set clock). The age of a state was `now − confirmedAt`; after
 * a step back it was negative, so the state counted as fresh — served from memory without asking
 * any store — for as long as the step plus `maxAgeMs` (an hour's step: an hour of data the stores
 * were never asked about), and `status().fresh` said true. A negative age is an unknown age now:
 * the state is revalidated, and a failed reload is not answered with data of unknown age.
 */
import { describe, expect, it } from 'vitest';
import { custom, defineState } from '../src/index.js';
import { logLines, manualClock } from './support.js';

const HOUR = 3_600_000;

function counted(clock: ReturnType<typeof manualClock>, staleIfErrorMs = 0) {
  const calls = { version: 0, load: 0 };
  let version = 1;
  let down = false;
  const cache = defineState({
    sources: {
      config: custom({
        version: () => {
          calls.version++;
          if (down) throw new Error('down');
          return version;
        },
        load: () => {
          calls.load++;
          return { version };
        },
      }),
    },
    maxAgeMs: 1_000,
    staleIfErrorMs,
    now: clock.now,
    logger: logLines().logger,
  });
  return {
    cache,
    calls,
    bump: () => void version++,
    setDown: (value: boolean) => void (down = value),
  };
}

describe('a clock that steps back', () => {
  it('makes the state stale: the next get() asks the store, and status() does not call it fresh', async () => {
    const clock = manualClock(10 * HOUR);
    const s = counted(clock);
    expect(await s.cache.get()).toEqual({ config: { version: 1 } });
    s.bump();
    clock.advance(-HOUR);
    expect(s.cache.status().fresh).toBe(false);
    expect(await s.cache.get()).toEqual({ config: { version: 2 } });
    // Confirmed again on the new clock: fresh from here, as usual.
    expect(s.cache.status().fresh).toBe(true);
    const before = { ...s.calls };
    clock.advance(500);
    await s.cache.get();
    expect(s.calls).toEqual(before);
  });

  it('does not serve the last good state when its age is unknown and the reload fails', async () => {
    const clock = manualClock(10 * HOUR);
    const s = counted(clock, 60_000);
    await s.cache.get();
    s.setDown(true);
    clock.advance(-HOUR);
    await expect(s.cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
  });

  it('a small step forward is only an early revalidation', async () => {
    const clock = manualClock(10 * HOUR);
    const s = counted(clock, 60_000);
    await s.cache.get();
    s.setDown(true);
    clock.advance(5_000);
    // Within maxAgeMs + staleIfErrorMs: the last good state, as for any failed reload.
    expect(await s.cache.get()).toEqual({ config: { version: 1 } });
  });
});
