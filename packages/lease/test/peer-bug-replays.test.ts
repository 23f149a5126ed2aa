/**
 * Replays of bug reports filed against peer lock libraries (node-redlock, redlock-rb, jedis-lock)
 * and of Martin Kleppmann's critique of lock-by-timeout, run against @steadyfn/lease on the real
 * stores (Redis, Redis Cluster, FerretDB, moto and gofakes3). Each `it` names the report it
 * replays and what went wrong there; the assertion is what a user of this package needs instead.
 * Leases run out by the store's clock: the tests wait for `get` to read nothing, never for a time.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { LeaseStoreUnavailableError, redisLeaseStore } from '../src/index.js';
import { startProxy } from '../../../test/support/proxy.js';
import { eventually, REAL_BACKENDS, useBackend } from './support/backends.js';

/** One lease length for every store: S3 judges by its `Date` header, which has whole seconds. */
const SHORT_MS = 1_500;

describe.each(REAL_BACKENDS)('peer lock bug replays on %s', (name) => {
  const backend = useBackend(name);

  const ranOut = (key: string) => eventually(async () => (await backend.store.get(key)) === undefined, 15_000, 50);

  /** `slow` claims `key` for SHORT_MS and its lease runs out; then `fast` takes it over, through another client. */
  const takenOver = async (key: string) => {
    const slow = randomUUID();
    const first = await backend.store.claim({ key, owner: slow, leaseMs: SHORT_MS });
    if (!first.claimed) throw new Error('not claimed');
    await ranOut(key);
    const fast = randomUUID();
    const second = await backend.another().claim({ key, owner: fast, leaseMs: 60_000 });
    if (!second.claimed) throw new Error('takeover not claimed');
    return { slow, first, fast, second };
  };

  it('node-redlock#313 and #65 (https://github.com/mike-marcacci/node-redlock/issues/313): releasing a lock that already expired hung retrying or threw "Unable to fully release" — here the late release answers, and the key is free with a higher fence', async () => {
    const key = `peer:expired-release:${randomUUID()}`;
    const owner = randomUUID();
    const claim = await backend.store.claim({ key, owner, leaseMs: SHORT_MS });
    if (!claim.claimed) throw new Error('not claimed');
    await ranOut(key);
    // Nobody took it over: the late holder may still settle it (the README's rule), and it answers.
    await expect(backend.store.settle({ key, owner, fence: claim.fence })).resolves.toBe(true);
    const next = await backend.another().claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    expect(next.claimed).toBe(true);
    if (next.claimed) expect(next.fence).toBeGreaterThan(claim.fence);
  });

  it('node-redlock#42 and jedis-lock#2 (https://github.com/abelaska/jedis-lock/issues/2): a holder slower than its lock deleted the lock another client had acquired since — here its release after the takeover is refused and the new holder keeps the key', async () => {
    const key = `peer:stale-release:${randomUUID()}`;
    const { slow, first, fast, second } = await takenOver(key);
    // The slow holder finishes and releases, or marks done: both refused.
    expect(await backend.store.settle({ key, owner: slow, fence: first.fence })).toBe(false);
    expect(await backend.store.settle({ key, owner: slow, fence: first.fence, data: 'late result', keepMs: 60_000 })).toBe(false);
    const record = await backend.store.get(key);
    expect(record).toMatchObject({ state: 'held', owner: fast, fence: second.fence });
    // A third client still finds it held: the lock was not deleted underneath its holder.
    const third = await backend.store.claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    expect(third.claimed).toBe(false);
    if (!third.claimed) expect(third.record).toMatchObject({ state: 'held', owner: fast });
    expect(await backend.another().settle({ key, owner: fast, fence: second.fence })).toBe(true);
  });

  it('redlock-rb#36 (https://github.com/leandromoreira/redlock-rb/issues/36): extending a lock that had expired and been taken by another "worked as if we always had the lock" — here the renewal is refused and the new holder\'s lease is untouched', async () => {
    const key = `peer:extend-expired:${randomUUID()}`;
    const { slow, first, fast, second } = await takenOver(key);
    expect(await backend.store.renew({ key, owner: slow, fence: first.fence, leaseMs: 600_000 })).toEqual({ renewed: false });
    const record = await backend.store.get(key);
    expect(record).toMatchObject({ state: 'held', owner: fast, fence: second.fence });
    // The holder's own lease was not stretched to the stale holder's 10 minutes.
    expect(record!.expiresAt).toBeLessThanOrEqual(second.expiresAt + 2_000);
  });

  it('Kleppmann, "How to do distributed locking" (https://martin.kleppmann.com/2016/02/08/how-to-do-distributed-locking.html): a client paused past its lease (GC, a frozen instance) writes after a takeover — here its fence is lower than the new holder\'s, so a fenced write from it is refused, and so is its settle', async () => {
    const key = `peer:fencing:${randomUUID()}`;
    // The storage service of the article: it accepts a write only with a fence higher than any it has seen.
    let highest = 0;
    const writes: string[] = [];
    const write = (fence: number, value: string): boolean => {
      if (fence <= highest) return false;
      highest = fence;
      writes.push(value);
      return true;
    };
    const paused = randomUUID();
    const a = await backend.store.claim({ key, owner: paused, leaseMs: SHORT_MS });
    if (!a.claimed) throw new Error('not claimed');
    await ranOut(key); // client 1 stops (GC pause); its lease runs out
    const b = await backend.another().claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    if (!b.claimed) throw new Error('takeover not claimed');
    expect(b.fence).toBeGreaterThan(a.fence);
    expect(write(b.fence, 'client 2')).toBe(true);
    expect(write(a.fence, 'client 1, resumed')).toBe(false); // the resumed client's write is refused by its fence
    expect(writes).toEqual(['client 2']);
    expect(await backend.store.settle({ key, owner: paused, fence: a.fence, data: 'client 1 done', keepMs: 60_000 })).toBe(false);
  });

  it('node-redlock#296 (https://github.com/mike-marcacci/node-redlock/issues/296): acquire returned a lock whose expiration was already in the past — here a claim\'s expiresAt is ahead of the moment it returns, and the key reads held until then', async () => {
    const key = `peer:expiration:${randomUUID()}`;
    const claim = await backend.store.claim({ key, owner: randomUUID(), leaseMs: 30_000 });
    const returnedAt = Date.now();
    if (!claim.claimed) throw new Error('not claimed');
    expect(claim.expiresAt).toBeGreaterThan(returnedAt);
    const record = await backend.store.get(key);
    expect(record).toMatchObject({ state: 'held', fence: claim.fence });
    expect(Math.abs(record!.expiresAt - claim.expiresAt)).toBeLessThanOrEqual(1_000);
  });

  it('ShedLock#1411 (https://github.com/lukas-krecan/ShedLock/issues/1411) and liquibase-mongodb PR #582 (https://github.com/liquibase/liquibase-mongodb/pull/582): racing acquirers got a DuplicateKey error, or several of 16 threads all got the lock and another owner could release it — here 16 concurrent claims, on a fresh key and on an expired one, give exactly one holder; the rest get its record, and none can release it', async () => {
    const key = `peer:race:${randomUUID()}`;
    for (const round of ['absent', 'expired'] as const) {
      const owners = Array.from({ length: 16 }, () => randomUUID());
      const results = await Promise.all(owners.map((owner) => backend.another().claim({ key, owner, leaseMs: round === 'absent' ? SHORT_MS : 60_000 })));
      const winners = results.flatMap((r, i) => (r.claimed ? [{ owner: owners[i]!, fence: r.fence }] : []));
      expect(winners, round).toHaveLength(1);
      const winner = winners[0]!;
      for (const r of results) if (!r.claimed) expect(r.record, round).toMatchObject({ state: 'held', owner: winner.owner, fence: winner.fence });
      const loser = owners.find((o) => o !== winner.owner)!;
      expect(await backend.store.settle({ key, owner: loser, fence: winner.fence }), round).toBe(false);
      expect(await backend.store.get(key), round).toMatchObject({ state: 'held', owner: winner.owner });
      if (round === 'absent') await ranOut(key);
    }
  });

  it.each([-5 * 60_000, 5 * 60_000])('redis-lock#30 (https://github.com/errorception/redis-lock/issues/30) and node-redlock#17 (https://github.com/mike-marcacci/node-redlock/issues/17): lock timeouts computed on each server\'s own clock were inconsistent when a clock drifted or jumped (NTP blocked, then corrected) — here a claimant whose clock is %i ms off holds exactly leaseMs by the store\'s clock', async (skew) => {
    const realNow = Date.now.bind(Date);
    const key = `peer:skew:${randomUUID()}`;
    const holder = randomUUID();
    const skewed = backend.another();
    const claim = await (async () => {
      const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
      try {
        return await skewed.claim({ key, owner: holder, leaseMs: 60_000 });
      } finally {
        spy.mockRestore();
      }
    })();
    if (!claim.claimed) throw new Error('not claimed');
    // A rival on a true clock: still held (a writer 5 minutes slow must not write an end already past) ...
    const rival = await backend.store.claim({ key, owner: randomUUID(), leaseMs: 60_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: holder, fence: claim.fence } });
    // ... until about a minute from now on the rival's clock (not five minutes early or late).
    if (!rival.claimed) {
      expect(rival.record.expiresAt).toBeGreaterThan(realNow() + 50_000);
      expect(rival.record.expiresAt).toBeLessThan(realNow() + 62_000);
    }
    // A short lease taken on a skewed clock ends by the store's clock, not minutes later.
    const shortKey = `peer:skew-short:${randomUUID()}`;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
    let short;
    try {
      short = await skewed.claim({ key: shortKey, owner: randomUUID(), leaseMs: SHORT_MS });
    } finally {
      spy.mockRestore();
    }
    expect(short.claimed).toBe(true);
    expect(await backend.store.claim({ key: shortKey, owner: randomUUID(), leaseMs: 60_000 })).toMatchObject({ claimed: false });
    await ranOut(shortKey);
    expect((await backend.store.claim({ key: shortKey, owner: randomUUID(), leaseMs: 60_000 })).claimed).toBe(true);
  });

  it('redis-semaphore#20 (https://github.com/swarthy/redis-semaphore/issues/20) and amazon-dynamodb-lock-client#63 (https://github.com/awslabs/amazon-dynamodb-lock-client/issues/63): a background refresh timer kept running (or froze and resumed) across Lambda freezes — here holding a lease leaves no timer behind: the lease lives only as long as the store says, and is renewed only when asked', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Warm: the client is connected, anything it keeps for itself is in place.
    const warm = `peer:timers-warm:${randomUUID()}`;
    const warmOwner = randomUUID();
    const w = await backend.store.claim({ key: warm, owner: warmOwner, leaseMs: 60_000 });
    if (w.claimed) await backend.store.settle({ key: warm, owner: warmOwner, fence: w.fence });
    const before = timers();
    const key = `peer:timers:${randomUUID()}`;
    const owner = randomUUID();
    const claim = await backend.store.claim({ key, owner, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(timers()).toBeLessThanOrEqual(before);
    const renewed = await backend.store.renew({ key, owner, fence: claim.fence, leaseMs: 60_000 });
    expect(renewed.renewed).toBe(true);
    expect(timers()).toBeLessThanOrEqual(before);
    if (renewed.renewed) expect(await backend.store.settle({ key, owner, fence: renewed.fence })).toBe(true);
  });
});

describe('peer lock bug replays: a store that cannot be reached', () => {
  it('node-redlock#65 / PR #362 (https://github.com/mike-marcacci/node-redlock/pull/362): failures to reach Redis surfaced as a misleading quorum/lock error — here a claim against an unreachable Redis rejects with LEASE_STORE_UNAVAILABLE (retryable), never as "held by another"', async () => {
    const url = new URL(process.env.REDIS_URL!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const store = redisLeaseStore({ client, prefix: `peer-unreachable:${randomUUID()}:` });
      const key = randomUUID();
      const first = await store.claim({ key, owner: randomUUID(), leaseMs: 60_000 });
      expect(first.claimed).toBe(true);
      await proxy.cut(); // the store goes away
      const outcome = await store.claim({ key: randomUUID(), owner: randomUUID(), leaseMs: 60_000 }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      expect('value' in outcome ? outcome.value : undefined).toBeUndefined();
      expect((outcome as { error: unknown }).error).toBeInstanceOf(LeaseStoreUnavailableError);
      expect((outcome as { error: unknown }).error).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', retryable: true });
    } finally {
      client.disconnect();
    }
  });
});
