/**
 * The function's clock is skewed by minutes from the store's (a frozen instance thawed with a
 * stale clock, a host without NTP). Leases are judged by the store's clock, and every
 * `expiresAt` is on this process's clock, so a skew changes neither who may claim nor how long
 * the answer says a record lives.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventually, key, token, useBackend } from './support/backends.js';

const SKEWS = [-5 * 60_000, 5 * 60_000];
/**
 * How long a done record is kept, or a lease held, where a test needs a second call to find it
 * still there: long enough for a loaded machine (FerretDB answers in up to ~1 s there), short
 * enough to wait out.
 */
const LIVE_MS = 3_000;

describe.each(['redis', 'cluster', 'mongodb'] as const)('a function clock skewed from the store\'s, on %s', (name) => {
  const backend = useBackend(name);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** What the store answered last and what the server holds for `k` (value, PTTL): said when a wait times out. */
  const seenOnServer = async (k: string, last: unknown): Promise<string> => {
    const raw = backend.redis === undefined ? undefined : await Promise.all([backend.redis.get(`${backend.prefix}${k}`), backend.redis.pttl(`${backend.prefix}${k}`)]);
    return JSON.stringify({ get: last, raw, now: Date.now() });
  };

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
    const settling = Date.now();
    expect(await backend.store.settle({ key: k, owner, fence: claim.fence, data: 'done', keepMs: LIVE_MS })).toBe(true);
    skewBy(skew);
    const store = backend.another();
    const early = await store.claim({ key: k, owner: token(), leaseMs: 60_000 });
    expect(early.claimed).toBe(false);
    if (early.claimed) return;
    expect(early.record.state).toBe('done');
    // expiresAt is on this (skewed) process's clock: keepMs after the settle, on it. (Bounded by
    // when the settle was sent and when this answer came, not by a fixed 1 s that a slow round
    // trip on a loaded machine could use up.)
    expect(early.record.expiresAt).toBeGreaterThan(settling + skew + LIVE_MS - 1000);
    expect(early.record.expiresAt).toBeLessThan(Date.now() + LIVE_MS + 1000);
    const read = await store.get(k);
    expect(Math.abs(read!.expiresAt - early.record.expiresAt)).toBeLessThan(1000);
    let last: unknown;
    await eventually(async () => (last = await store.get(k)) === undefined, LIVE_MS + 20_000, 25, () => seenOnServer(k, last));
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
    const claiming = Date.now();
    const first = await store.claim({ key: k, owner: token(), leaseMs: LIVE_MS });
    expect(first.claimed).toBe(true);
    if (!first.claimed) return;
    // leaseMs from the claim, on this (skewed) process's clock.
    expect(first.expiresAt).toBeGreaterThan(claiming + LIVE_MS - 1000);
    expect(first.expiresAt).toBeLessThan(Date.now() + LIVE_MS + 1000);
    const rival = await store.claim({ key: k, owner: token(), leaseMs: LIVE_MS });
    expect(rival.claimed).toBe(false);
    if (!rival.claimed) expect(Math.abs(rival.record.expiresAt - first.expiresAt)).toBeLessThan(1000);
    // Ended by the store's clock a whole leaseMs after the claim returned, on the skewed clock as well.
    await new Promise((r) => setTimeout(r, LIVE_MS + 1000));
    const takeover = await store.claim({ key: k, owner: token(), leaseMs: LIVE_MS });
    expect(takeover.claimed).toBe(true);
  });

  it.each(SKEWS)('the function\'s clock steps by %i ms between calls (NTP correcting it): a held lease is still held, for as long', async (step) => {
    const k = key();
    const store = backend.another();
    const holder = token();
    const claiming = Date.now();
    const first = await store.claim({ key: k, owner: holder, leaseMs: 30_000 });
    expect(first.claimed).toBe(true);
    skewBy(step);
    const rival = await store.claim({ key: k, owner: token(), leaseMs: 30_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: holder } });
    // 30 s from the claim, on the stepped clock: between the claim's sending and now (each ± 1 s),
    // not a fixed 2 s from now that two slow round trips could use up.
    if (!rival.claimed) {
      expect(rival.record.expiresAt).toBeGreaterThan(claiming + step + 30_000 - 1000);
      expect(rival.record.expiresAt).toBeLessThan(Date.now() + 30_000 + 1000);
    }
    expect(await store.get(k)).toMatchObject({ state: 'held', owner: holder });
  });

  it('the function\'s clock steps back after the store learnt the server\'s: a done record that ended is still claimed at once', async () => {
    const k = key();
    const owner = token();
    const store = backend.another();
    const claim = await store.claim({ key: k, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await store.settle({ key: k, owner, fence: claim.fence, data: 'done', keepMs: LIVE_MS })).toBe(true);
    // A claim the store decides by script (Redis: the key is done), so it knows the server's clock now.
    expect(await store.claim({ key: k, owner: token(), leaseMs: 60_000 })).toMatchObject({ claimed: false });
    await eventually(async () => (await store.get(k)) === undefined, LIVE_MS + 10_000);
    skewBy(-5 * 60_000);
    expect(await store.claim({ key: k, owner: token(), leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: claim.fence + 2 });
  });
});
