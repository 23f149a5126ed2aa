/**
 * The Redis store's single claim (`CLAIM_ONE`) and single settle (`SETTLE_ONE`) as sent since
 * the claim's key TTL (leaseMs + retainMs) is added up in the script and the reply is read in
 * the step that catches `NOSCRIPT`: the TTL the server sets, the answers after the server lost
 * its scripts, and a reply the store refuses never being resent as `EVAL`. On a redis-server of
 * this test's own (a `SCRIPT FLUSH` there touches no one else's scripts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { LeaseRecordUnreadableError, redisLeaseStore } from '../src/index.js';
import { commandStats, diffStats, startOwnRedis, type OwnRedis } from '../../idempotency/test/own-redis.js';

describe('redisLeaseStore single claim and settle, on a server of its own', () => {
  let server: OwnRedis;
  let client: Redis;
  let admin: Redis;
  const prefix = `claim-one:${randomUUID().slice(0, 8)}:`;
  beforeAll(async () => {
    server = await startOwnRedis();
    client = new Redis(server.url);
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it.each([
    { retainMs: 0, leaseMs: 5_000 },
    { retainMs: 60_000, leaseMs: 5_000 },
    { retainMs: 3_600_000, leaseMs: 86_400_000 },
    // Past 2^32 ms, so a sum done in 32 bits would show.
    { retainMs: 5_000_000_000, leaseMs: 1 },
  ])('a claim sets the key to live leaseMs + retainMs ($leaseMs + $retainMs)', async ({ retainMs, leaseMs }) => {
    const store = redisLeaseStore({ client, prefix, retainMs });
    const key = `ttl:${randomUUID()}`;
    const claim = await store.claim({ key, owner: 'o', leaseMs });
    expect(claim).toMatchObject({ claimed: true, fence: 1 });
    const pttl = await admin.pttl(prefix + key);
    expect(pttl).toBeLessThanOrEqual(leaseMs + retainMs);
    // A loaded machine may take a while between the claim and the read; never a minute.
    expect(pttl).toBeGreaterThan(leaseMs + retainMs - 60_000);
    expect(await admin.get(prefix + key)).toBe(`h|1|${retainMs}|o|`);
  });

  it('after the server lost its scripts (SCRIPT FLUSH), a claim, a duplicate and a settle answer as before', async () => {
    const store = redisLeaseStore({ client, prefix });
    const key = `flush:${randomUUID()}`;
    await admin.script('FLUSH');
    const first = await store.claim({ key, owner: 'first', leaseMs: 30_000, data: 'fp' });
    expect(first).toMatchObject({ claimed: true, fence: 1 });
    if (!first.claimed) return;
    await admin.script('FLUSH');
    expect(await store.settle({ key, owner: 'first', fence: first.fence, data: 'done', keepMs: 60_000 })).toBe(true);
    await admin.script('FLUSH');
    const startedAt = Date.now();
    const duplicate = await store.claim({ key, owner: 'second', leaseMs: 30_000, data: 'fp' });
    expect(duplicate).toMatchObject({ claimed: false, record: { state: 'done', fence: 2, data: 'done' } });
    if (!duplicate.claimed) expect(Math.abs(duplicate.record.expiresAt - (startedAt + 60_000))).toBeLessThan(5_000);
    // A settle the record refuses reads 0 through the EVAL path too.
    await admin.script('FLUSH');
    expect(await store.settle({ key, owner: 'first', fence: first.fence, data: 'again', keepMs: 60_000 })).toBe(false);
  });

  it("a reply the store refuses (another program's value) is an error, not resent as EVAL", async () => {
    const store = redisLeaseStore({ client, prefix });
    const key = `foreign:${randomUUID()}`;
    // Scripts loaded, so the claim below is one EVALSHA.
    await store.claim({ key: `warm:${randomUUID()}`, owner: 'o', leaseMs: 1_000 });
    await admin.set(prefix + key, 'not a lease record');
    const before = await commandStats(admin);
    await expect(store.claim({ key, owner: 'o', leaseMs: 1_000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    const commands = diffStats(await commandStats(admin), before, ['info']);
    expect(commands.evalsha).toBe(1);
    expect(commands.eval).toBeUndefined();
    // Left as it was.
    expect(await admin.get(prefix + key)).toBe('not a lease record');
  });
});
