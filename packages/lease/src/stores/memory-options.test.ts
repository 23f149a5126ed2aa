/**
 * The memory store's options are checked like the other factories': `memoryLeaseStore({ now: 5 })`
 * was accepted and every call then threw a TypeError, and `memoryLeaseStore(null)` threw one with
 * no code. Both are now `CONFIG_INVALID` naming the field and what was expected, at construction.
 */
import { describe, expect, it } from 'vitest';
import { memoryLeaseStore } from './memory.js';

const thrown = (make: () => unknown): unknown => {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('memoryLeaseStore options', () => {
  it.each([
    ['now', { now: 5 }, 'a function returning epoch milliseconds'],
    ['now', { now: 'Date.now' }, 'a function returning epoch milliseconds'],
    ['options', null, 'an object'],
    ['options', 'fast', 'an object'],
  ])('%s = %j is CONFIG_INVALID naming the field and what was expected', (field, options, expected) => {
    const error = thrown(() => memoryLeaseStore(options as never));
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field, issues: [{ field, expected }] });
  });

  it('a function clock and no options at all are accepted', async () => {
    expect(await memoryLeaseStore({ now: () => 1_000 }).claim({ key: 'k', owner: 'a', leaseMs: 10 })).toEqual({ claimed: true, fence: 1, expiresAt: 1_010 });
    expect(await memoryLeaseStore().get('k')).toBeUndefined();
    expect(await memoryLeaseStore(undefined).get('k')).toBeUndefined();
  });
});
