/**
 * Review finding: a Redis claim that fails with ioredis' `commandTimeout` ("Command timed out")
 * was still queued — in the connection, or in ioredis' offline queue — and may be written and
 * applied AFTER the give-back the store sent for it. The key then stays held, until its lease
 * ends, by an owner who was told the claim failed. Shown on real servers (own single server and
 * own 3-master Cluster, paused; a stalling proxy):
 *
 * - the give-back was sent as EVALSHA, and EVAL only after a NOSCRIPT reply. A give-back runs
 *   only when a claim fails, so on most servers its script is not loaded: the EVALSHAs sent
 *   while the server is paused all time out, then answer NOSCRIPT after the claim ran — and no
 *   EVAL follows, so nothing is given back;
 * - the give-back was sent on the client a getter returns at that moment, not on the claim's:
 *   nothing then orders it behind the claim, which is applied after it.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, redisLeaseStore, type ClaimRequest } from '../src/index.js';
import { GIVE_BACK } from '../src/stores/redis-settle-scripts.js';
import { clusterSlot } from '../src/stores/redis-slot.js';
import { startRedis, startRedisCluster } from '../../../test/support/servers.js';
import { proxiedRedis } from './support/proxied-redis.js';
import { failure } from './support/operations.js';

const request = (key: string = randomUUID()): ClaimRequest => ({ key, owner: `o-${randomUUID()}`, leaseMs: 600_000, data: 'd' });

function expectTimedOut(error: unknown): void {
  expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
  expect(((error as Error).cause as Error).message).toMatch(/Command timed out/);
}

describe('redisLeaseStore: a timed-out claim applied after its give-back is given back', () => {
  it('single server paused, give-back script not loaded: claim and claimMany leave nothing held', async () => {
    const server = await startRedis();
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, commandTimeout: 300 });
    client.on('error', () => undefined);
    const check = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    try {
      await client.connect();
      await check.connect();
      const store = redisLeaseStore({ client, prefix: 'timeout:' });
      // The claim scripts loaded (the usual state); the give-back's not (it runs only on failures).
      await store.claim(request());
      await store.claimMany([request()]);
      const one = request();
      const many = request();
      server.freeze();
      const errors = await Promise.all([failure(store.claim(one)), failure(store.claimMany([many]))]);
      server.thaw();
      errors.forEach(expectTimedOut);
      // Answered after everything written before it: the claims, then their give-backs.
      await client.ping();
      const reader = redisLeaseStore({ client: check, prefix: 'timeout:' });
      expect(await reader.get(one.key)).toBeUndefined();
      expect(await reader.get(many.key)).toBeUndefined();
    } finally {
      server.thaw();
      client.disconnect();
      check.disconnect();
      await server.dispose();
    }
  });

  it('Redis Cluster, the key’s master paused, give-back script not loaded: nothing held', async () => {
    const cluster = await startRedisCluster();
    const client = new Cluster(cluster.nodes, { redisOptions: { commandTimeout: 300 } });
    client.on('error', () => undefined);
    const check = new Cluster(cluster.nodes);
    try {
      const store = redisLeaseStore({ client, prefix: 'timeout:' });
      await store.claim(request('{t}warm'));
      await store.claimMany([request('{t}warm-many')]);
      const one = request(`{t}${randomUUID()}`);
      const many = request(`{t}${randomUUID()}`);
      // The master of slot {t}, paused (its clients' commands wait) for 2.5 s: longer than the give-back's 2 s.
      const owner = client.slots[clusterSlot(`timeout:${one.key}`)]?.[0];
      const master = check.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
      expect(master).toBeDefined();
      await master!.call('CLIENT', 'PAUSE', '2500', 'ALL');
      const errors = await Promise.all([failure(store.claim(one)), failure(store.claimMany([many]))]);
      errors.forEach(expectTimedOut);
      await waitFor(async () => (await master!.ping()) === 'PONG');
      // The node answers in order: once a command sent now is answered, the claims and give-backs ran.
      await client.eval('return 1', 1, `timeout:${one.key}`);
      const reader = redisLeaseStore({ client: check, prefix: 'timeout:' });
      expect(await reader.get(one.key)).toBeUndefined();
      expect(await reader.get(many.key)).toBeUndefined();
    } finally {
      client.disconnect();
      check.disconnect();
      await cluster.stop();
    }
  });
});

describe('redisLeaseStore: the give-back goes behind the claim, on the claim’s client', () => {
  const rig = proxiedRedis('review-timeout');

  it('a getter returning another client for the give-back: the stalled claim, applied later, is still given back', async () => {
    const { proxy, direct, prefix } = rig;
    const stalled = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, commandTimeout: 300 });
    stalled.on('error', () => undefined);
    const other = new Redis(process.env.REDIS_URL!);
    try {
      await stalled.connect();
      // Scripts loaded on the server (the NOSCRIPT gap is the test above).
      const warm = redisLeaseStore({ client: direct, prefix });
      await warm.claim(request());
      await direct.script('LOAD', GIVE_BACK.source);
      // A getter as a pool or a rebuilt cached connection gives: a client per call.
      const clients = [stalled, other];
      let calls = 0;
      const store = redisLeaseStore({ client: () => clients[Math.min(calls++, 1)]!, prefix });
      const r = request();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // The claim is held at the proxy (a slow link) until released.
      proxy.on(r.key, () => gate);
      expectTimedOut(await failure(store.claim(r)));
      release();
      // Everything `stalled` wrote went through the proxy, in order, before this answer.
      await stalled.ping();
      expect(await redisLeaseStore({ client: direct, prefix }).get(r.key)).toBeUndefined();
    } finally {
      stalled.disconnect();
      other.disconnect();
    }
  });
});

/** Polls `ready` (every 50 ms, up to 10 s). */
async function waitFor(ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('not ready within 10 s');
}
