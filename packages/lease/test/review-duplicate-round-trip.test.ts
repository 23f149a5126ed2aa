/**
 * A duplicate's claim on Redis — a key whose record is done (or held) — is answered in one round
 * trip by any store instance, including a fresh one that has never run the claim script (a
 * low-traffic function: its duplicates arrive minutes apart): the claim script reads the value
 * and its TTL and decides by Redis's clock alone. Counted on a redis-server of this test's own:
 * requests by MONITOR, every command (those a script runs too) by INFO commandstats.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { LeaseRecordUnreadableError, redisLeaseStore } from '../src/index.js';
import { commandStats, diffStats, monitorCounts, startOwnRedis, type MonitorCounts, type OwnRedis } from '../../idempotency/test/own-redis.js';

describe('a duplicate claim on Redis, counted on the server', () => {
  let server: OwnRedis;
  let client: Redis;
  let admin: Redis;
  let monitor: MonitorCounts;
  const prefix = `round-trip:${randomUUID().slice(0, 8)}:`;
  beforeAll(async () => {
    server = await startOwnRedis();
    client = new Redis(server.url);
    admin = new Redis(server.url);
    monitor = await monitorCounts(server.url);
    // The scripts loaded, as on any warm server (a server without them: see the last test).
    const warm = redisLeaseStore({ client, prefix });
    await warm.claimMany([{ key: `warm:${randomUUID()}`, owner: 'o', leaseMs: 1000 }]);
    await warm.claim({ key: `warm:${randomUUID()}`, owner: 'o', leaseMs: 1000 });
    await warm.settle({ key: `warm:${randomUUID()}`, owner: 'o', fence: 1 });
  });
  afterAll(async () => {
    await monitor?.stop();
    client?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  const measure = async <T>(work: () => Promise<T>): Promise<{ result: T; requests: number; commands: Record<string, number> }> => {
    await monitor.flush(client);
    monitor.reset();
    const before = await commandStats(admin);
    const result = await work();
    await monitor.flush(client);
    return { result, requests: monitor.requests(), commands: diffStats(await commandStats(admin), before, ['info', 'echo', 'monitor']) };
  };

  /** A key settled as done (kept a minute) by one store instance. */
  const doneKey = async (): Promise<{ key: string; fence: number }> => {
    const writer = redisLeaseStore({ client, prefix });
    const key = `done:${randomUUID()}`;
    const claim = await writer.claim({ key, owner: 'first', leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await writer.settle({ key, owner: 'first', fence: claim.fence, data: 'result', keepMs: 60_000 })).toBe(true);
    return { key, fence: claim.fence + 1 };
  };

  it('a done record, by a fresh store instance (no clock sample, nothing learnt): one request', async () => {
    const { key, fence } = await doneKey();
    const fresh = redisLeaseStore({ client, prefix });
    const startedAt = Date.now();
    const duplicate = await measure(() => fresh.claim({ key, owner: 'second', leaseMs: 30_000 }));
    expect(duplicate.result).toMatchObject({ claimed: false, record: { state: 'done', fence, data: 'result' } });
    if (!duplicate.result.claimed) {
      // expiresAt from the key's TTL: about a minute from now.
      expect(Math.abs(duplicate.result.record.expiresAt - (startedAt + 60_000))).toBeLessThan(2_000);
    }
    expect(duplicate.requests).toBe(1);
    // The claim script: GET and PTTL, nothing written.
    expect(duplicate.commands).toEqual({ evalsha: 1, get: 1, pttl: 1 });
    // The record is as settled.
    expect(await admin.get(prefix + key)).toMatch(/^d\|2\|/);
  });

  it('a held record, by a fresh store instance: one request, the holder answered', async () => {
    const key = `held:${randomUUID()}`;
    const holder = await redisLeaseStore({ client, prefix }).claim({ key, owner: 'holder', leaseMs: 30_000 });
    expect(holder).toMatchObject({ claimed: true, fence: 1 });
    const rival = await measure(() => redisLeaseStore({ client, prefix }).claim({ key, owner: 'rival', leaseMs: 30_000 }));
    expect(rival.result).toMatchObject({ claimed: false, record: { state: 'held', owner: 'holder', fence: 1 } });
    expect(rival.requests).toBe(1);
    expect(rival.commands).toEqual({ evalsha: 1, get: 1, pttl: 1 });
  });

  it('a new key: one request, fence 1', async () => {
    const first = await measure(() => redisLeaseStore({ client, prefix }).claim({ key: `new:${randomUUID()}`, owner: 'o', leaseMs: 30_000 }));
    expect(first.result).toMatchObject({ claimed: true, fence: 1 });
    expect(first.requests).toBe(1);
    expect(first.commands).toEqual({ evalsha: 1, get: 1, set: 1 });
  });

  it('a released record: taken in one request, with the next fence', async () => {
    const store = redisLeaseStore({ client, prefix });
    const key = `released:${randomUUID()}`;
    const claim = await store.claim({ key, owner: 'a', leaseMs: 30_000 });
    if (!claim.claimed) throw new Error('not claimed');
    expect(await store.settle({ key, owner: 'a', fence: claim.fence })).toBe(true);
    const next = await measure(() => redisLeaseStore({ client, prefix }).claim({ key, owner: 'b', leaseMs: 30_000 }));
    expect(next.result).toMatchObject({ claimed: true, fence: 3 });
    expect(next.requests).toBe(1);
    expect(next.commands).toEqual({ evalsha: 1, get: 1, set: 1 });
  });

  it('a hash under the key (another program\'s): LeaseRecordUnreadableError, the hash untouched, nothing else sent', async () => {
    const key = `hash:${randomUUID()}`;
    await admin.hset(prefix + key, 'field', 'value');
    const refused = await measure(() => redisLeaseStore({ client, prefix }).claim({ key, owner: 'o', leaseMs: 30_000 }).catch((error: unknown) => error));
    expect(refused.result).toBeInstanceOf(LeaseRecordUnreadableError);
    expect(refused.requests).toBe(1);
    expect(await admin.hgetall(prefix + key)).toEqual({ field: 'value' });
    expect(await admin.pttl(prefix + key)).toBe(-1);
  });

  it('a server without the claim script (restarted, failed over): the script sent once, then by its SHA1 alone', async () => {
    const { key, fence } = await doneKey();
    await admin.script('FLUSH');
    const store = redisLeaseStore({ client, prefix });
    const reload = await measure(() => store.claim({ key, owner: 'second', leaseMs: 30_000 }));
    expect(reload.result).toMatchObject({ claimed: false, record: { state: 'done', fence } });
    // EVALSHA answered NOSCRIPT; EVAL ran the script and cached it.
    expect(reload.requests).toBe(2);
    expect(reload.commands).toMatchObject({ evalsha: 1, eval: 1 });
    const again = await measure(() => redisLeaseStore({ client, prefix }).claim({ key, owner: 'third', leaseMs: 30_000 }));
    expect(again.requests).toBe(1);
    expect(again.commands).toEqual({ evalsha: 1, get: 1, pttl: 1 });
  });

  it('an aborted signal: rejects with its reason, sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    const aborted = await measure(() => redisLeaseStore({ client, prefix }).claim({ key: `aborted:${randomUUID()}`, owner: 'o', leaseMs: 30_000 }, { signal: controller.signal }).catch((error: unknown) => error));
    expect(aborted.result).toMatchObject({ message: 'deadline' });
    expect(aborted.requests).toBe(0);
  });
});
