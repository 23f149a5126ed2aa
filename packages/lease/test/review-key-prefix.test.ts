/**
 * An ioredis client made with `keyPrefix` (a common way to share one Redis between apps):
 * ioredis prepends it to every key it sends, scripts' KEYS included. On a Redis Cluster the
 * store grouped a batch by the slot of the key *without* that prefix, so two keys that share
 * a slot only without it went to one script and the batch failed with `CROSSSLOT` — after the
 * other slots' scripts had claimed their keys.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';
import { clusterSlot } from '../src/stores/redis-slot.js';
import { clusterNodes, dropPrefix } from './support/backends.js';
import { requireService } from '../../../test/services/env.js';

const token = (): string => randomUUID();

/** Keys that share a slot without `keyPrefix` and not with it (differing lengths: CRC16 is linear, equal lengths keep collisions). */
function splitPairs(keyPrefix: string, storePrefix: string, pairs: number): string[] {
  const seen = new Map<number, string>();
  const out: string[] = [];
  for (let i = 0; out.length < pairs * 2; i++) {
    const key = randomUUID().slice(0, 6 + (i % 23));
    const bare = clusterSlot(storePrefix + key);
    const other = seen.get(bare);
    if (other !== undefined && clusterSlot(keyPrefix + storePrefix + other) !== clusterSlot(keyPrefix + storePrefix + key)) {
      out.push(other, key);
      seen.delete(bare);
    } else seen.set(bare, key);
  }
  return out;
}

describe.each(['keyPrefix', 'redisOptions.keyPrefix'] as const)('a Redis Cluster client with %s', (where) => {
  const keyPrefix = `kp-${randomUUID().slice(0, 6)}:`;
  let cluster: Cluster;
  beforeAll(async () => {
    await requireService('redis-cluster');
    cluster = new Cluster(clusterNodes(), where === 'keyPrefix' ? { keyPrefix } : { redisOptions: { keyPrefix } });
  });
  afterAll(async () => {
    const bare = new Cluster(clusterNodes());
    await dropPrefix(bare, keyPrefix);
    bare.disconnect();
    cluster?.disconnect();
  });

  it('claimMany and settleMany group keys by the slot of the key the server sees', async () => {
    const store = redisLeaseStore({ client: cluster, prefix: 'lease:' });
    const keys = splitPairs(keyPrefix, 'lease:', 3);
    const owners = keys.map(() => token());
    const claims = await store.claimMany(keys.map((key, i) => ({ key, owner: owners[i]!, leaseMs: 60_000 })));
    expect(claims.map((c) => c.claimed)).toEqual(keys.map(() => true));
    const settled = await store.settleMany(keys.map((key, i) => ({ key, owner: owners[i]!, fence: (claims[i] as { fence: number }).fence, data: 'ok', keepMs: 60_000 })));
    expect(settled).toEqual(keys.map(() => true));
    for (const key of keys) expect(await store.get(key)).toMatchObject({ state: 'done', data: 'ok' });
  });
});

describe('a Redis client with keyPrefix', () => {
  it('claims, batches and settles under the prefix', async () => {
    await requireService('redis');
    const keyPrefix = `kp-${randomUUID().slice(0, 6)}:`;
    const redis = new Redis(process.env.REDIS_URL!, { keyPrefix });
    try {
      const store = redisLeaseStore({ client: redis });
      const owner = token();
      const claim = await store.claim({ key: 'a', owner, leaseMs: 60_000 });
      expect(claim.claimed).toBe(true);
      expect((await store.claimMany([{ key: 'a', owner: token(), leaseMs: 1 }, { key: 'b', owner: token(), leaseMs: 60_000 }])).map((c) => c.claimed)).toEqual([false, true]);
      if (claim.claimed) expect(await store.settle({ key: 'a', owner, fence: claim.fence })).toBe(true);
      const bare = new Redis(process.env.REDIS_URL!);
      expect(await bare.exists(`${keyPrefix}lease:a`, `${keyPrefix}lease:b`)).toBe(2);
      await dropPrefix(bare, keyPrefix);
      bare.disconnect();
    } finally {
      redis.disconnect();
    }
  });
});
