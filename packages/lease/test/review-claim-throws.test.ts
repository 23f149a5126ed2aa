/**
 * The lease contract: a claim (or claimMany) that throws holds nothing it wrote. A claim whose
 * reply is lost after the server applied it — the connection reset between apply and reply,
 * through a client that does not resend (the `@steadyfn/connections` profile:
 * `autoResendUnfulfilledCommands: false`, `maxRetriesPerRequest: 0`, offline queue off; on a
 * Cluster, `failLostReplies`) — must throw the typed `LeaseStoreUnavailableError` and leave the
 * key free: a second owner claims it at once, not after the lease ends. Shown on the shared
 * Redis, the shared Redis Cluster (one reply-cut proxy per node, ioredis `natMap`) and FerretDB
 * (its claim paths: `review-mongo-claim-cut.test.ts`; here its settle) behind
 * test/support/reply-cut-proxy.ts.
 *
 * A Redis single `claim` gave nothing back: only `@steadyfn/idempotency`'s own give-back covered
 * it, so every other user of the lease (the outbox relay, backup jobs) was left with a key held
 * by a claim nobody knew of until its lease ran out. A cluster `claimMany` whose one slot's
 * reply was lost gave back the other slots' keys but kept the lost one.
 *
 * And a MongoDB `settle` whose insert landed and whose reply was lost, sent again by its caller,
 * answered `false` (the key is at the next generation): the Redis store recognises "the key
 * already is what this settle makes of it" and answers `true`; so must MongoDB.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, redisLeaseStore, type ClaimRequest, type LeaseStore } from '../src/index.js';
import { requireService } from '../../../test/services/env.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../test/support/reply-cut-proxy.js';
import { INSERT, proxiedMongo } from './support/proxied-mongo.js';
import { proxiedRedis } from './support/proxied-redis.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { failLostReplies } from '../../connections/src/clients/cluster-replies.js';
import { failure } from './support/operations.js';

/** The options of `@steadyfn/connections`' Redis profile that decide what a lost reply does. */
const PROFILE = { enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false } as const;

/** Waits (up to 5 s) for a client that reconnects after a cut to be ready again. */
async function ready(client: Redis | Cluster): Promise<void> {
  for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
  expect(client.status).toBe('ready');
}

/**
 * Cuts the reply of the claim naming `cutKey`, expects the typed error, then: nothing held by the
 * owner (read straight from the server), and a second owner claims every key at once.
 */
async function claimCut(store: LeaseStore, check: LeaseStore, proxies: ReplyCutProxy[], keys: string[], many: boolean, cutKey = keys[0]!): Promise<void> {
  const owner = `first-${randomUUID()}`;
  const requests: ClaimRequest[] = keys.map((key) => ({ key, owner, leaseMs: 600_000, data: 'delivery-1' }));
  const cutsBefore = proxies.reduce((n, p) => n + p.cuts, 0);
  for (const p of proxies) p.on(cutKey, 'cut');
  const error = await failure(many ? store.claimMany(requests) : store.claim(requests[0]!));
  expect(proxies.reduce((n, p) => n + p.cuts, 0)).toBe(cutsBefore + 1);
  expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
  expect((error as LeaseStoreUnavailableError).code).toBe('LEASE_STORE_UNAVAILABLE');
  for (const key of keys) {
    const record = await check.get(key);
    expect(record?.state === 'held' && record.owner === owner ? `${key} still held by the failed owner` : 'free').toBe('free');
  }
  const second = await check.claimMany(keys.map((key) => ({ key, owner: `second-${randomUUID()}`, leaseMs: 60_000 })));
  for (const r of second) expect(r.claimed).toBe(true);
}

describe('redisLeaseStore (single Redis): a claim whose reply is lost after the server applied it', () => {
  let proxy: ReplyCutProxy;
  let redis: Redis;
  let direct: Redis;
  const prefix = `review-claim-throws:${randomUUID()}:`;

  beforeAll(async () => {
    await requireService('redis');
    const target = new URL(process.env.REDIS_URL!);
    proxy = await startReplyCutProxy(Number(target.port || 6379));
    redis = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, ...PROFILE });
    // The reset the proxy makes is the point of the test: not an unhandled error event.
    redis.on('error', () => undefined);
    await redis.connect();
    direct = new Redis(process.env.REDIS_URL!);
    // Every script loaded, so the reply cut is the claim's own, not a NOSCRIPT before it.
    const warm = redisLeaseStore({ client: direct, prefix });
    await warm.claim({ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 });
    await warm.claimMany([{ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 }]);
  });
  afterAll(async () => {
    redis?.disconnect();
    if (direct) await dropPrefix(direct, prefix);
    direct?.disconnect();
    await proxy?.close();
  });

  it('claim: LEASE_STORE_UNAVAILABLE, the key not held, a second owner claims it at once', async () => {
    await ready(redis);
    await claimCut(redisLeaseStore({ client: redis, prefix }), redisLeaseStore({ client: direct, prefix }), [proxy], [randomUUID()], false);
  });

  it('claimMany: LEASE_STORE_UNAVAILABLE, no key held, a second owner claims them at once', async () => {
    await ready(redis);
    await claimCut(redisLeaseStore({ client: redis, prefix }), redisLeaseStore({ client: direct, prefix }), [proxy], [randomUUID(), randomUUID(), randomUUID()], true);
  });
});

describe('redisLeaseStore (single Redis): a claim aborted while in flight, its connection then closed', () => {
  const rig = proxiedRedis('review-claim-throws');

  // The abort answers the call (its give-back run once); the driver's later "Connection is closed"
  // must not start a second give-back whose rejection nobody awaits (vitest fails the file on it).
  it('rejects with the abort reason, gives back, and leaves no unhandled rejection', async () => {
    const { proxy, direct, prefix } = rig;
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, ...PROFILE });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const store = redisLeaseStore({ client, prefix });
      await store.claim({ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 });
      const key = randomUUID();
      const controller = new AbortController();
      const reason = new Error('deadline');
      proxy.on(key, async () => {
        controller.abort(reason);
        await new Promise((resolve) => setTimeout(resolve, 20));
        client.disconnect(true);
      });
      const error = await failure(store.claim({ key, owner: `first-${randomUUID()}`, leaseMs: 600_000 }, { signal: controller.signal }));
      expect(error).toBe(reason);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await redisLeaseStore({ client: direct, prefix }).claim({ key, owner: `second-${randomUUID()}`, leaseMs: 60_000 });
      expect(second.claimed).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});

describe('redisLeaseStore (Redis Cluster): a claim whose reply is lost after the node applied it', () => {
  let proxies: ReplyCutProxy[];
  let cluster: Cluster;
  let direct: Cluster;
  const prefix = `review-claim-throws:${randomUUID()}:`;

  beforeAll(async () => {
    await requireService('redis-cluster');
    const nodes = clusterNodes();
    proxies = await Promise.all(nodes.map((n) => startReplyCutProxy(n.port)));
    const natMap = Object.fromEntries(nodes.map((n, i) => [`${n.host}:${n.port}`, { host: '127.0.0.1', port: proxies[i]!.port }]));
    cluster = new Cluster(nodes.map((_, i) => ({ host: '127.0.0.1', port: proxies[i]!.port })), {
      natMap,
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false },
    });
    // As `redisCluster()` of @steadyfn/connections: a written command whose reply is lost is not sent again.
    failLostReplies(cluster);
    await cluster.connect();
    direct = new Cluster(nodes);
    const warm = redisLeaseStore({ client: direct, prefix });
    // Every script loaded on every master (keys spread over the slots).
    for (let i = 0; i < 12; i++) {
      await warm.claim({ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 });
      await warm.claimMany([{ key: `warm:${randomUUID()}`, owner: 'w', leaseMs: 1_000 }]);
    }
  });
  afterAll(async () => {
    cluster?.disconnect();
    if (direct) await dropPrefix(direct, prefix);
    direct?.disconnect();
    await Promise.all((proxies ?? []).map((p) => p.close()));
  });

  /** The proxy in front of the master serving `key` (the store's prefix added): the one whose reply is cut. */
  const proxyOf = async (key: string): Promise<ReplyCutProxy[]> => {
    const slot = Number(await direct.cluster('KEYSLOT', prefix + key));
    const ranges = (await direct.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
    const port = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    const index = clusterNodes().findIndex((n) => n.port === Number(port));
    if (index < 0) throw new Error(`no master serves ${key}`);
    return [proxies[index]!];
  };

  it('claim: LEASE_STORE_UNAVAILABLE, the key not held, a second owner claims it at once', async () => {
    await ready(cluster);
    const key = randomUUID();
    await claimCut(redisLeaseStore({ client: cluster, prefix }), redisLeaseStore({ client: direct, prefix }), await proxyOf(key), [key], false);
  });

  it('claimMany over several slots, one slot\'s reply lost: no key held (that slot\'s included)', async () => {
    await ready(cluster);
    const keys = Array.from({ length: 6 }, () => randomUUID());
    await claimCut(redisLeaseStore({ client: cluster, prefix }), redisLeaseStore({ client: direct, prefix }), await proxyOf(keys[2]!), keys, true, keys[2]);
  });
});

describe('mongoLeaseStore (FerretDB): a settle whose insert landed and whose reply was lost, sent again', () => {
  const rig = proxiedMongo('lease_claim_throws');

  for (const done of [true, false]) {
    it(`settle (${done ? 'done' : 'release'}): the first send fails as LEASE_STORE_UNAVAILABLE, its resend answers true`, async () => {
      const { cutStore, check } = await rig.stores();
      const key = `order-${randomUUID()}`;
      const owner = `first-${randomUUID()}`;
      const claim = await cutStore.claim({ key, owner, leaseMs: 60_000 });
      if (!claim.claimed) throw new Error('not claimed');
      const settle = done ? { key, owner, fence: claim.fence, data: 'sent', keepMs: 60_000 } : { key, owner, fence: claim.fence };
      rig.proxy.on(INSERT, 'cut');
      expect(await failure(cutStore.settle(settle))).toBeInstanceOf(LeaseStoreUnavailableError);
      // The insert landed: the key is generation fence + 1, done (or released).
      expect(await check.get(key)).toEqual(done ? expect.objectContaining({ state: 'done', fence: claim.fence + 1, data: 'sent' }) : undefined);
      expect(await cutStore.settle(settle)).toBe(true);
      expect(await cutStore.settleMany([settle])).toEqual([true]);
      // Not what this settle makes of it: still false.
      if (done) expect(await cutStore.settle({ ...settle, data: 'other' })).toBe(false);
      else expect(await cutStore.settle({ ...settle, data: 'other', keepMs: 60_000 })).toBe(false);
      expect(await cutStore.settle({ ...settle, owner: `other-${randomUUID()}` })).toBe(false);
    });
  }
});
