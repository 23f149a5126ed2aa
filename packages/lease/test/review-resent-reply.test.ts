/**
 * The README's own client, `new Redis(url)` with ioredis's defaults: a command whose reply is
 * lost with its socket (a reset, a `CLIENT KILL`, a NAT dropping an idle connection) is sent
 * again after the reconnect (`autoResendUnfulfilledCommands`, on by default), and its first
 * run was applied. A claim or settle must answer what happened to the caller's own request —
 * not mistake the effect of its first run for someone else's: a claim answered
 * `claimed: false` with the caller's own record leaves the key held by nobody who knows it until
 * the lease runs out (node-redlock#48-style "lock acquired but reported as failed").
 * Shown on the shared Redis behind a proxy that loses the one reply, for `claim`, `claimMany`,
 * `settle` and `settleMany`.
 *
 * The answer to "the key is held by this very owner token" must be the same on the single and
 * the batch path (processes of both share keys: `redis-single-batch.fuzz.test.ts`), on Redis
 * and on Redis Cluster: claimed, with the fence the key holds (no new generation) and the
 * lease the first run set (not extended) — and a re-claim by the same owner with other data
 * (another attempt reusing its token, not a resend) is refused.
 *
 * A renewal's resend cannot be told from a second renewal with its spent fence, which the store
 * contract refuses: it answers `renewed: false` (README, Limits) — pinned here.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore, type ClaimResult, type RedisLeaseStore } from '../src/index.js';
import { requireService } from '../../../test/services/env.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';

/** A proxy to the shared Redis whose `loseNextReply()` drops the next reply chunk and resets that connection. */
async function replyLosingProxy(target: URL): Promise<{ port: number; loseNextReply(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let arm: (() => void) | undefined;
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (arm) {
        const done = arm;
        arm = undefined;
        client.destroy();
        upstream.destroy();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return {
    port: address.port,
    loseNextReply: () => new Promise<void>((resolve) => (arm = resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Slack between the store's Date.now() and a PTTL read a moment later. */
const SLACK_MS = 2_000;

const fenceOf = (claim: ClaimResult | undefined): number => {
  if (!claim?.claimed) throw new Error(`not claimed: ${JSON.stringify(claim)}`);
  return claim.fence;
};

describe('redisLeaseStore on new Redis(url): a reply lost, the command resent by ioredis after its reconnect', () => {
  let proxy: Awaited<ReturnType<typeof replyLosingProxy>>;
  let redis: Redis;
  let direct: Redis;
  const prefix = `review-resent:${randomUUID()}:`;

  beforeAll(async () => {
    await requireService('redis');
    proxy = await replyLosingProxy(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    redis = new Redis(`redis://127.0.0.1:${proxy.port}`);
    direct = new Redis(process.env.REDIS_URL!);
    // Every script loaded on the server first, so the reply lost is the script's own, not a
    // NOSCRIPT that precedes its one run.
    const warm = redisLeaseStore({ client: direct, prefix });
    const [a, b] = [`warm:${randomUUID()}`, `warm:${randomUUID()}`];
    const one = await warm.claim({ key: a, owner: 'w', leaseMs: 60_000 });
    const many = await warm.claimMany([{ key: b, owner: 'w', leaseMs: 60_000 }]);
    const renewed = await warm.renew({ key: a, owner: 'w', fence: fenceOf(one), leaseMs: 60_000 });
    await warm.settle({ key: a, owner: 'w', fence: (renewed as { fence: number }).fence });
    await warm.settleMany([{ key: b, owner: 'w', fence: fenceOf(many[0]) }]);
  });
  afterAll(async () => {
    redis?.disconnect();
    if (direct) await dropPrefix(direct, prefix);
    direct?.disconnect();
    await proxy?.close();
  });

  const store = () => redisLeaseStore({ client: redis, prefix });
  /** Connected; the next command's reply is then lost (`lost` resolves once it was). */
  const losing = async (): Promise<{ lost: Promise<void> }> => {
    await redis.ping();
    return { lost: proxy.loseNextReply() };
  };

  it('claim: claimed, with the fence and lease end the key holds', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const { lost } = await losing();
    const claim = await store().claim({ key, owner, leaseMs: 60_000, data: 'fp' });
    await lost;
    const record = await store().get(key);
    expect(record).toMatchObject({ state: 'held', owner, fence: 1, data: 'fp' });
    expect(claim).toMatchObject({ claimed: true, fence: record!.fence });
    expect(Math.abs((claim as { expiresAt: number }).expiresAt - record!.expiresAt)).toBeLessThanOrEqual(SLACK_MS);
  });

  it('claimMany: each key claimed, with the fence the key holds', async () => {
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const owner = randomUUID();
    const { lost } = await losing();
    const claims = await store().claimMany(keys.map((key) => ({ key, owner, leaseMs: 60_000 })));
    await lost;
    for (const [i, key] of keys.entries()) {
      const record = await store().get(key);
      expect(record).toMatchObject({ state: 'held', owner, fence: 1 });
      expect(claims[i]).toMatchObject({ claimed: true, fence: record!.fence });
    }
  });

  it('settle: true, the key done', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const fence = fenceOf(await store().claim({ key, owner, leaseMs: 60_000 }));
    const { lost } = await losing();
    const settled = await store().settle({ key, owner, fence, data: 'done', keepMs: 60_000 });
    await lost;
    expect(await store().get(key)).toMatchObject({ state: 'done', data: 'done', fence: fence + 1 });
    expect(settled).toBe(true);
  });

  it('settle (release): true, the key free', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const fence = fenceOf(await store().claim({ key, owner, leaseMs: 60_000 }));
    const { lost } = await losing();
    const settled = await store().settle({ key, owner, fence });
    await lost;
    expect(await store().get(key)).toBeUndefined();
    expect(settled).toBe(true);
  });

  it('settleMany: true for each key, done or released', async () => {
    const keys = [randomUUID(), randomUUID()];
    const owner = randomUUID();
    const claims = await store().claimMany(keys.map((key) => ({ key, owner, leaseMs: 60_000 })));
    const { lost } = await losing();
    const settled = await store().settleMany([
      { key: keys[0]!, owner, fence: fenceOf(claims[0]), data: 'done', keepMs: 60_000 },
      { key: keys[1]!, owner, fence: fenceOf(claims[1]) },
    ]);
    await lost;
    expect(await store().get(keys[0]!)).toMatchObject({ state: 'done', data: 'done' });
    expect(await store().get(keys[1]!)).toBeUndefined();
    expect(settled).toEqual([true, true]);
  });

  it('renew: renewed: false (indistinguishable from a spent fence); the key held by the caller at the next fence', async () => {
    const key = randomUUID();
    const owner = randomUUID();
    const fence = fenceOf(await store().claim({ key, owner, leaseMs: 60_000 }));
    const { lost } = await losing();
    const renewed = await store().renew({ key, owner, fence, leaseMs: 60_000 });
    await lost;
    expect(renewed).toEqual({ renewed: false });
    expect(await store().get(key)).toMatchObject({ state: 'held', owner, fence: fence + 1 });
  });
});

describe.each(['redis', 'cluster'] as const)('redisLeaseStore on %s: a claim of a key this very owner holds', (target) => {
  let redis: Redis | Cluster;
  const prefix = `review-resent-own:${randomUUID()}:`;

  beforeAll(async () => {
    if (target === 'cluster') {
      await requireService('redis-cluster');
      redis = new Cluster(clusterNodes());
    } else {
      await requireService('redis');
      redis = new Redis(process.env.REDIS_URL!);
    }
  });
  afterAll(async () => {
    if (redis) {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  });

  /** The claim again, by `claim` on one key and `claimMany` on another in the same state. */
  const both = async (store: RedisLeaseStore, keys: [string, string], request: { owner: string; leaseMs: number; data?: string }): Promise<[ClaimResult, ClaimResult]> => [
    await store.claim({ key: keys[0], ...request }),
    (await store.claimMany([{ key: keys[1], ...request }]))[0]!,
  ];

  it('answers alike on claim and claimMany: claimed, the fence it holds, the lease the first claim set (nothing written)', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const keys: [string, string] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
    const owner = randomUUID();
    const first = await Promise.all(keys.map((key) => store.claim({ key, owner, leaseMs: 60_000, data: 'fp' })));
    const before = await Promise.all(keys.map(async (key) => [await redis.get(prefix + key), Number(await redis.pttl(prefix + key))] as const));
    // A longer lease asked the second time: a resend asks what the first run asked, so more is not granted.
    const again = await both(store, keys, { owner, leaseMs: 600_000, data: 'fp' });
    for (const [i, claim] of again.entries()) {
      expect(claim).toEqual({ claimed: true, fence: fenceOf(first[i]), expiresAt: expect.any(Number) });
      const firstEnd = (first[i] as { expiresAt: number }).expiresAt;
      expect(Math.abs((claim as { expiresAt: number }).expiresAt - firstEnd)).toBeLessThanOrEqual(SLACK_MS);
      // The value and TTL are the first claim's.
      expect(await redis.get(prefix + keys[i])).toBe(before[i]![0]);
      expect(Number(await redis.pttl(prefix + keys[i]))).toBeLessThanOrEqual(before[i]![1]);
    }
    expect(Math.abs((again[0] as { expiresAt: number }).expiresAt - (again[1] as { expiresAt: number }).expiresAt)).toBeLessThanOrEqual(SLACK_MS);
    // The fence it answered settles, once.
    expect(await store.settle({ key: keys[0], owner, fence: fenceOf(again[0]), data: 'ok', keepMs: 60_000 })).toBe(true);
    expect(await store.get(keys[0])).toMatchObject({ state: 'done', fence: fenceOf(again[0]) + 1, data: 'ok' });
  });

  it('judges the lease by the retainMs the record was written with, not this store\'s', async () => {
    const writer = redisLeaseStore({ client: redis, prefix, retainMs: 600_000 });
    const reader = redisLeaseStore({ client: redis, prefix, retainMs: 0 });
    const keys: [string, string] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
    const owner = randomUUID();
    const first = await writer.claimMany(keys.map((key) => ({ key, owner, leaseMs: 30_000 })));
    const again = await both(reader, keys, { owner, leaseMs: 30_000 });
    for (const [i, claim] of again.entries()) {
      expect(claim).toMatchObject({ claimed: true, fence: fenceOf(first[i]) });
      expect(Math.abs((claim as { expiresAt: number }).expiresAt - (first[i] as { expiresAt: number }).expiresAt)).toBeLessThanOrEqual(SLACK_MS);
    }
  });

  it('refuses the same owner with other data (another attempt reusing its token), on both paths', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const keys: [string, string] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
    const owner = randomUUID();
    await Promise.all(keys.map((key) => store.claim({ key, owner, leaseMs: 60_000, data: 'first' })));
    for (const data of ['second', undefined]) {
      const again = await both(store, keys, data === undefined ? { owner, leaseMs: 60_000 } : { owner, leaseMs: 60_000, data });
      for (const claim of again) expect(claim).toMatchObject({ claimed: false, record: { state: 'held', owner, fence: 1, data: 'first' } });
    }
  });

  it('a done or released key is not the owner\'s: claimed afresh or refused as before', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const keys: [string, string] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
    const owner = randomUUID();
    for (const key of keys) await store.settle({ key, owner, fence: fenceOf(await store.claim({ key, owner, leaseMs: 60_000 })), data: 'd', keepMs: 60_000 });
    for (const claim of await both(store, keys, { owner, leaseMs: 60_000 })) expect(claim).toMatchObject({ claimed: false, record: { state: 'done', fence: 2 } });
  });

  it('a settle repeated with the outcome it had answers true on settle and settleMany; another outcome false', async () => {
    const store = redisLeaseStore({ client: redis, prefix });
    const keys: [string, string] = [`a:${randomUUID()}`, `b:${randomUUID()}`];
    const released: [string, string] = [`c:${randomUUID()}`, `d:${randomUUID()}`];
    const owner = randomUUID();
    const fences = await Promise.all([...keys, ...released].map(async (key) => fenceOf(await store.claim({ key, owner, leaseMs: 60_000 }))));
    for (const [i, key] of keys.entries()) expect(await store.settle({ key, owner, fence: fences[i]!, data: 'd', keepMs: 60_000 })).toBe(true);
    for (const [i, key] of released.entries()) expect(await store.settle({ key, owner, fence: fences[i + 2]! })).toBe(true);
    const done = { owner, data: 'd', keepMs: 60_000 };
    expect(await store.settle({ key: keys[0], fence: fences[0]!, ...done })).toBe(true);
    expect(await store.settleMany([{ key: keys[1], fence: fences[1]!, ...done }])).toEqual([true]);
    expect(await store.settle({ key: released[0], owner, fence: fences[2]! })).toBe(true);
    expect(await store.settleMany([{ key: released[1], owner, fence: fences[3]! }])).toEqual([true]);
    // Another outcome than the one applied: refused, nothing written.
    expect(await store.settle({ key: keys[0], owner, fence: fences[0]!, data: 'other', keepMs: 60_000 })).toBe(false);
    expect(await store.settleMany([{ key: keys[1], owner, fence: fences[1]! }])).toEqual([false]);
    expect(await store.settle({ key: released[0], owner, fence: fences[2]!, data: 'd', keepMs: 60_000 })).toBe(false);
    for (const key of keys) expect(await store.get(key)).toMatchObject({ state: 'done', fence: 2, data: 'd' });
    for (const key of released) expect(await store.get(key)).toBeUndefined();
  });
});
