/**
 * Review: `defineState({ timeoutMs: 0 })` was taken (the check asked for "≥ 0") and then quietly
 * raised to 1 ms, so every load that needs a store round trip failed "timed out after 1 ms" —
 * the opposite of what a user writing 0 for "no timeout of its own" meant, and found only at
 * the first invocation. A bound under 1 ms is now refused when the state is defined; a long
 * one (more than 2^31 − 1 ms) is still the way to ask for no bound of its own.
 */
import { describe, expect, it } from 'vitest';
import { custom, defineState } from '../src/index.js';

const source = () => custom({ load: () => new Promise<{ ok: true }>((resolve) => setTimeout(() => resolve({ ok: true }), 5)) });

describe('review: timeoutMs below 1 ms is refused at definition', () => {
  it.each([0, 0.5, -1])('timeoutMs %d: CONFIG_INVALID naming timeoutMs', (timeoutMs) => {
    expect(() => defineState({ sources: { config: source() }, timeoutMs })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'timeoutMs' }),
    );
    expect(() => defineState({ sources: { config: source() }, timeoutMs })).toThrow('option "timeoutMs" must be a number of milliseconds ≥ 1');
  });

  it('timeoutMs 1000 and the longest bounds are still taken and load', async () => {
    for (const timeoutMs of [1_000, Number.MAX_SAFE_INTEGER]) {
      await expect(defineState({ sources: { config: source() }, timeoutMs }).get()).resolves.toEqual({ config: { ok: true } });
    }
  });
});
