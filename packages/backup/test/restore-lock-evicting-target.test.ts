/**
 * A Redis restore target that may evict keys (`allkeys-lru`: a cache, ElastiCache's
 * `volatile-lru` default) must not make a restore log the lease store's `LEASE_STORE_EVICTS`
 * warning: that advice (set `noeviction`, or a done idempotency record runs again) is about
 * idempotency records, not a lock held for one restore into a cache. The restore lock's lease
 * store is built silent on it; a plain `redisLeaseStore` on the same server still warns (the
 * control, so the server really reports an evicting policy). On a redis-server of this file's own.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisLeaseStore } from '@steadyfn/lease';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisLockPlace } from '../src/restore/lock-places.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** Runs `claim` inside an invocation; answers the log lines coded LEASE_STORE_EVICTS. */
async function evictionWarnings(claim: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const main = handler({ logSink: (line) => void lines.push(line), logLevel: 'warn' }, async () => {
    await claim();
    return 'ok';
  });
  expect(await main.invoke({})).toBe('ok');
  return lines.filter((line) => line.includes('LEASE_STORE_EVICTS'));
}

describe('the restore lock on a Redis target that may evict', () => {
  it('claims without the lease store eviction warning; a plain redisLeaseStore on the same server warns', async () => {
    const client = new Redis(own.url);
    clients.push(client);
    const place = redisLockPlace(async () => client, `rt-${randomUUID().slice(0, 8)}:`);
    const lockStore = await place.leases();
    expect(await evictionWarnings(() => lockStore.claim({ key: place.key, owner: 'restore-1', leaseMs: 30_000 }))).toEqual([]);
    expect(await evictionWarnings(() => lockStore.claim({ key: `${place.key}-2`, owner: 'restore-1', leaseMs: 30_000 }))).toEqual([]);

    const other = new Redis(own.url);
    clients.push(other);
    const plain = redisLeaseStore({ client: other, prefix: `plain-${randomUUID().slice(0, 8)}:` });
    expect(await evictionWarnings(() => plain.claim({ key: 'k', owner: 'o', leaseMs: 30_000 }))).toHaveLength(1);
  }, 30_000);
});
