/**
 * More replays of bug reports filed against peer lock libraries (node-redlock, redlock-rb,
 * RedLock.net), run against @steadyfn/lease on the real stores (Redis, Redis Cluster, FerretDB,
 * moto and gofakes3). Each `it` names the report and what went wrong there; the assertion is
 * what a user of this package needs instead. (peer-bug-replays.test.ts holds the first set.)
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REAL_BACKENDS, useBackend } from './support/backends.js';

describe.each(REAL_BACKENDS)('peer lock bug replays (2) on %s', (name) => {
  const backend = useBackend(name);

  it('node-redlock#103 ("lock.extend not well documented": extend returns a new lock, and code that kept extending the old one failed "most of the time, but not all the time") — here a renewal answers the new fence, every later renewal and the settle work with it, and the superseded fence is refused every time, never now and then', async () => {
    const key = `peer2:renew-chain:${randomUUID()}`;
    const owner = randomUUID();
    const claim = await backend.store.claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    const fences = [claim.fence];
    for (let i = 0; i < 3; i++) {
      const renewed = await backend.another().renew({ key, owner, fence: fences.at(-1)!, leaseMs: 60_000 });
      expect(renewed.renewed).toBe(true);
      if (renewed.renewed) fences.push(renewed.fence);
    }
    expect([...fences].sort((a, b) => a - b)).toEqual(fences);
    expect(new Set(fences).size).toBe(fences.length);
    // The first handle, kept by mistake: refused, and it leaves the lease as the last renewal made it.
    expect(await backend.store.renew({ key, owner, fence: fences[0]!, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.settle({ key, owner, fence: fences[1]! })).toBe(false);
    expect(await backend.store.get(key)).toMatchObject({ state: 'held', owner, fence: fences.at(-1) });
    expect(await backend.store.settle({ key, owner, fence: fences.at(-1)! })).toBe(true);
    expect(await backend.store.get(key)).toBeUndefined();
  });

  it('redlock-rb#36 and RedLock.net#93 ("first instance still think that isAquired == true"), after a release: extending a lock that is no longer there re-created it — here renewing a released lease is refused, the key stays free, and the next claim gets a higher fence', async () => {
    const key = `peer2:renew-released:${randomUUID()}`;
    const owner = randomUUID();
    const claim = await backend.store.claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key, owner, fence: claim.fence })).toBe(true);
    expect(await backend.another().renew({ key, owner, fence: claim.fence, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.get(key)).toBeUndefined();
    const next = await backend.another().claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    expect(next.claimed).toBe(true);
    if (next.claimed) expect(next.fence).toBeGreaterThan(claim.fence);
  });

  it('redlock-rb#36 after completion: a holder that marked its key done and then "extended" it turned the result back into a held lock — here renewing a done key is refused and the result is kept', async () => {
    const key = `peer2:renew-done:${randomUUID()}`;
    const owner = randomUUID();
    const claim = await backend.store.claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await backend.store.settle({ key, owner, fence: claim.fence, data: 'result-1', keepMs: 60_000 })).toBe(true);
    expect(await backend.another().renew({ key, owner, fence: claim.fence, leaseMs: 60_000 })).toEqual({ renewed: false });
    expect(await backend.store.get(key)).toMatchObject({ state: 'done', data: 'result-1' });
    const again = await backend.another().claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    expect(again.claimed).toBe(false);
  });
});
