/** The lease rules, on the memory store with a hand-moved clock. */
import { describe, expect, it } from 'vitest';
import { isInProcessLeaseStore, memoryLeaseStore } from './memory.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('memory lease store', () => {
  it('ends a lease exactly at leaseMs and hands the key over with the next fence', async () => {
    const c = clock();
    const store = memoryLeaseStore({ now: c.now, retainMs: 10_000 });
    expect(await store.claim({ key: 'k', owner: 'a', leaseMs: 100 })).toEqual({ claimed: true, fence: 1, expiresAt: 1_000_100 });
    c.advance(99);
    expect(await store.claim({ key: 'k', owner: 'b', leaseMs: 100 })).toMatchObject({ claimed: false, record: { owner: 'a', expiresAt: 1_000_100 } });
    c.advance(1);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.claim({ key: 'k', owner: 'b', leaseMs: 100 })).toMatchObject({ claimed: true, fence: 2 });
    expect(await store.settle({ key: 'k', owner: 'a', fence: 1 })).toBe(false);
  });

  it('remembers the generation for retainMs after the record ends, then starts again at 1', async () => {
    const c = clock();
    const store = memoryLeaseStore({ now: c.now, retainMs: 1000 });
    const first = await store.claim({ key: 'k', owner: 'a', leaseMs: 100 });
    expect(first).toMatchObject({ fence: 1 });
    await store.settle({ key: 'k', owner: 'a', fence: 1, data: 'x', keepMs: 100 });
    c.advance(100 + 999);
    expect(await store.claim({ key: 'k', owner: 'b', leaseMs: 100 })).toMatchObject({ claimed: true, fence: 3 });
    c.advance(100 + 1000);
    expect(await store.claim({ key: 'k', owner: 'c', leaseMs: 100 })).toMatchObject({ claimed: true, fence: 1 });
  });

  it('beyond maxRecords forgets the oldest records no longer live, never a live lease or done record', async () => {
    const c = clock();
    const store = memoryLeaseStore({ now: c.now, maxRecords: 2 });
    for (const key of ['a', 'b', 'c']) await store.claim({ key, owner: 'o', leaseMs: 10_000 });
    // All live: nothing forgotten, so nobody else takes 'a' while its holder runs.
    expect(await store.get('a')).toMatchObject({ state: 'held', owner: 'o', fence: 1 });
    expect(await store.claim({ key: 'a', owner: 'p', leaseMs: 10_000 })).toMatchObject({ claimed: false, record: { owner: 'o' } });
    await store.settle({ key: 'b', owner: 'o', fence: 1, data: 'r', keepMs: 60_000 });
    c.advance(10_000);
    // 'a' and 'c' ended, 'b' is done for a minute: the oldest ended ones go, the done record stays.
    await store.claim({ key: 'd', owner: 'o', leaseMs: 10_000 });
    expect(await store.get('b')).toMatchObject({ state: 'done', data: 'r' });
    expect(await store.claim({ key: 'a', owner: 'p', leaseMs: 10_000 })).toMatchObject({ claimed: true, fence: 1 });
  });

  it('is branded in-process (kept by a spread wrapper); nothing else is', () => {
    expect(isInProcessLeaseStore(memoryLeaseStore())).toBe(true);
    expect(isInProcessLeaseStore({ ...memoryLeaseStore() })).toBe(true);
    expect(isInProcessLeaseStore({ claim: memoryLeaseStore().claim })).toBe(false);
    expect(isInProcessLeaseStore(null)).toBe(false);
    expect(isInProcessLeaseStore('memoryLeaseStore')).toBe(false);
  });

  it('checks its options', () => {
    expect(() => memoryLeaseStore({ retainMs: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'retainMs' }));
    expect(() => memoryLeaseStore({ maxRecords: 0 })).toThrow(expect.objectContaining({ field: 'maxRecords' }));
  });
});
