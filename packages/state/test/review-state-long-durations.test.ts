/**
 * Review: durations past Node's longest timer (2^31 − 1 ms, about 24.8 days). `timeoutMs` refuses
 * `Infinity`, so a user who wants no bound of its own gives a large number
 * (`Number.MAX_SAFE_INTEGER`, `3_000_000_000`); Node fires such a timer after 1 ms, so every load
 * failed at once "timed out after 9007199254740991 ms". Likewise a `ctx.deadline` more than
 * 24.8 days away (an Azure function defined with a long `timeoutMs`, a direct call given a far
 * deadline) answered `DEADLINE_EXCEEDED` at once. A load ends by itself now, as it would with
 * any bound it cannot reach.
 */
import { describe, expect, it } from 'vitest';
import { custom, defineState } from '../src/index.js';

const DAY = 86_400_000;

/** A source that answers on the next turn of the event loop after a short timer. */
const slowish = () =>
  custom({
    load: () => new Promise<{ ok: true }>((resolve) => setTimeout(() => resolve({ ok: true }), 20)),
  });

describe('durations longer than the longest Node timer', () => {
  it.each([2 ** 31, 3_000_000_000, Number.MAX_SAFE_INTEGER])('timeoutMs %d: the load is not timed out at once', async (timeoutMs) => {
    const cache = defineState({ sources: { config: slowish() }, timeoutMs });
    await expect(cache.get()).resolves.toEqual({ config: { ok: true } });
  });

  it('a ctx.deadline 30 days away: the wait is not cut at once', async () => {
    const cache = defineState({ sources: { config: slowish() } });
    await expect(cache.get({ deadline: Date.now() + 30 * DAY })).resolves.toEqual({ config: { ok: true } });
  });
});

/**
 * Review (L1): `timeoutMs: Infinity` was refused ("must be a number of milliseconds ≥ 1; got
 * Infinity") although the README says a timeout past 2^31 − 1 means no bound: Infinity is that
 * bound's plainest spelling, accepted as the other duration options accept it.
 */
describe('timeoutMs: Infinity', () => {
  it('is accepted as no bound of its own: a load is not timed out, with or without a far deadline', async () => {
    const cache = defineState({ sources: { config: slowish() }, timeoutMs: Infinity });
    await expect(cache.get()).resolves.toEqual({ config: { ok: true } });
    await expect(cache.get({ deadline: Date.now() + 30 * DAY })).resolves.toEqual({ config: { ok: true } });
  });

  it('NaN, 0 and -Infinity are still refused, saying Infinity is allowed', () => {
    for (const timeoutMs of [Number.NaN, 0, Number.NEGATIVE_INFINITY]) {
      expect(() => defineState({ sources: { config: slowish() }, timeoutMs })).toThrow('option "timeoutMs" must be a number of milliseconds ≥ 1 (or Infinity)');
    }
  });
});
