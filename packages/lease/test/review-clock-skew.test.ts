/**
 * The function's clock is skewed by minutes from the store's (a frozen instance thawed with a
 * stale clock, a host without NTP). Leases are judged by the store's clock, and every
 * `expiresAt` is on this process's clock, so a skew changes neither who may claim nor how long
 * the answer says a record lives.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually, key, openBackend, token, type Backend } from './support/backends.js';

const SKEWS = [-5 * 60_000, 5 * 60_000];

describe.each(['redis', 'cluster', 'mongodb'] as const)('a function clock skewed from the store\'s, on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(async () => {
    await backend?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const skewBy = (ms: number): void => {
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
  };

  it.each(SKEWS)('skew %i ms: a done record ends after keepMs by the store\'s clock, and the next claim takes the key', async (skew) => {
    const k = key();
    const owner = token();
    // Claimed and settled with a true clock; the next invocation runs on a skewed one.
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'done', keepMs: 1500 })).toBe(true);
    skewBy(skew);
    const store = backend.another();
    const early = await store.claim({ key: k, owner: token(), leaseMs: 60_000 });
    expect(early.claimed).toBe(false);
    if (early.claimed) return;
    expect(early.record.state).toBe('done');
    // expiresAt is on this (skewed) process's clock: about 1.5 s from its now.
    expect(Math.abs(early.record.expiresAt - (Date.now() + 1500))).toBeLessThan(1000);
    const read = await store.get(k);
    expect(Math.abs(read!.expiresAt - early.record.expiresAt)).toBeLessThan(1000);
    await eventually(async () => (await store.get(k)) === undefined, 5000);
    const next = await store.claim({ key: k, owner: token(), leaseMs: 60_000 });
    expect(next.claimed).toBe(true);
    if (next.claimed) expect(next.fence).toBeGreaterThan(claim.fence);
  });

  it.each(SKEWS)('skew %i ms: a done record whose keep time ended by the store\'s clock is claimed at once', async (skew) => {
    const k = key();
    const owner = token();
    const claim = await backend.store.claim({ key: k, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'done', keepMs: 500 })).toBe(true);
    await eventually(async () => (await backend.store.get(k)) === undefined, 5000);
    skewBy(skew);
    const next = await backend.another().claim({ key: k, owner: token(), leaseMs: 60_000 });
    expect(next).toMatchObject({ claimed: true, fence: claim.fence + 2 });
  });

  it.each(SKEWS)('skew %i ms: a held lease lives leaseMs by the store\'s clock, whoever\'s clock is off', async (skew) => {
    const k = key();
    skewBy(skew);
    const store = backend.another();
    const first = await store.claim({ key: k, owner: token(), leaseMs: 1500 });
    expect(first.claimed).toBe(true);
    if (!first.claimed) return;
    expect(Math.abs(first.expiresAt - (Date.now() + 1500))).toBeLessThan(1000);
    const rival = await store.claim({ key: k, owner: token(), leaseMs: 1500 });
    expect(rival.claimed).toBe(false);
    if (!rival.claimed) expect(Math.abs(rival.record.expiresAt - first.expiresAt)).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 2500));
    const takeover = await store.claim({ key: k, owner: token(), leaseMs: 1500 });
    expect(takeover.claimed).toBe(true);
  });

  it.each(SKEWS)('the function\'s clock steps by %i ms between calls (NTP correcting it): a held lease is still held, for as long', async (step) => {
    const k = key();
    const store = backend.another();
    const holder = token();
    const first = await store.claim({ key: k, owner: holder, leaseMs: 30_000 });
    expect(first.claimed).toBe(true);
    skewBy(step);
    const rival = await store.claim({ key: k, owner: token(), leaseMs: 30_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: holder } });
    if (!rival.claimed) expect(Math.abs(rival.record.expiresAt - (Date.now() + 30_000))).toBeLessThan(2000);
    expect(await store.get(k)).toMatchObject({ state: 'held', owner: holder });
  });

  it('the function\'s clock steps back after the store learnt the server\'s: a done record that ended is still claimed at once', async () => {
    const k = key();
    const owner = token();
    const store = backend.another();
    const claim = await store.claim({ key: k, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await store.settle({ key: k, owner, fence: claim.fence, data: 'done', keepMs: 500 })).toBe(true);
    // A claim the store decides by script (Redis: the key is done), so it knows the server's clock now.
    expect(await store.claim({ key: k, owner: token(), leaseMs: 60_000 })).toMatchObject({ claimed: false });
    await eventually(async () => (await store.get(k)) === undefined, 5000);
    skewBy(-5 * 60_000);
    expect(await store.claim({ key: k, owner: token(), leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: claim.fence + 2 });
  });
});
