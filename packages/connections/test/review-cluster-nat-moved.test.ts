/**
 * Public bug redis/ioredis#1582 ("Not following MOVED redirections correctly", with natMap): on a
 * MOVED reply ioredis stores the node address the server wrote in its slot table, while its
 * connection pool is keyed by the natMap-ped address; the retry finds no connection under that
 * address and goes to a random master, which answers MOVED again — "Too many Cluster
 * redirections" after 16 tries unless a random pick hits the right node. It failed CI once in
 * review-cluster-resend.test.ts (its failover retry's random pick, then MOVED).
 *
 * Replayed deterministically: ioredis' random pick (`utils.sample`: `Math.random()`) is pinned
 * while the command runs, so every random try goes to the same wrong master, and the key's slot
 * entry is made stale (pointing at that master), as after a reshard or failover. The real shared
 * Cluster, through one loopback proxy per node (natMap: node address → its proxy).
 */
import { randomUUID } from 'node:crypto';
import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { redisCluster } from '../src/redis.js';
import { followMovedThroughNatMap } from '../src/clients/cluster-nat-moved.js';
import { rejectionOf, useClusterProxies, type ClusterNodeProxy } from './support/cluster-proxy.js';

const net = useClusterProxies();
const { direct } = net;

/** ioredis' Cluster internals a test reads or sets up. */
interface Internals {
  slots: string[][];
  connectionPool: { getSampleInstance(role: string): Redis | undefined };
}

afterEach(() => vi.restoreAllMocks());

/** ioredis' random pick pinned (every `sample` takes the first entry) while `run` runs. */
async function pinnedRandom<T>(run: () => Promise<T>): Promise<T> {
  const spy = vi.spyOn(Math, 'random').mockReturnValue(0);
  try {
    return await run();
  } finally {
    spy.mockRestore();
  }
}

/**
 * The master ioredis' pinned random pick goes to (the pool's first), a key whose slot another
 * master serves, and that key's slot entry made stale: it names the picked master, as a slot
 * table read before a reshard does.
 */
async function staleKey(cluster: Cluster, prefix: string): Promise<{ key: string; wrong: Redis; owner: ClusterNodeProxy }> {
  const internals = cluster as unknown as Internals;
  const wrong = await pinnedRandom(async () => internals.connectionPool.getSampleInstance('master')!);
  for (let i = 0; i < 50; i++) {
    const key = `${prefix}:${randomUUID()}`;
    const owner = await net.proxyOf(key);
    if (owner.port === wrong.options.port) continue;
    const slot = Number(await direct.cluster('KEYSLOT', key));
    // A fresh array: the range's shared one stays true for the other slots.
    internals.slots[slot] = [`${wrong.options.host}:${wrong.options.port}`];
    return { key, wrong, owner };
  }
  throw new Error('no key on another master');
}

/** Plain ioredis through the proxies, with the profile's options that matter here. */
async function plainCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const plain = new Cluster(net.nodes, { natMap: net.natMap, lazyConnect: true, enableOfflineQueue: false, ...options });
  await plain.connect();
  return plain;
}

describe('plain ioredis Cluster with natMap: a MOVED reply (ioredis#1582)', () => {
  it('is followed to a random master, not the one it names: every pick wrong, the INCR ends "Too many Cluster redirections", never applied', async () => {
    const plain = await plainCluster();
    try {
      const { key } = await staleKey(plain, 'nat-moved-plain');
      const err = await pinnedRandom(() => rejectionOf(plain.incr(key)));
      expect(err?.message).toMatch(/^Too many Cluster redirections\. Last error: ReplyError: MOVED \d+ /);
      expect(await direct.get(key)).toBeNull();
    } finally {
      plain.disconnect();
    }
  }, 30_000);
});

describe('redisCluster() with natMap: a MOVED reply is followed to the node it names', () => {
  it('natMap an object: the INCR goes to the owner after one MOVED, applied once', async () => {
    const cluster = await redisCluster({ name: 'nat-moved-object', nodes: net.nodes, options: { natMap: net.natMap } }).get();
    const { key, owner } = await staleKey(cluster, 'nat-moved-object');
    expect(await pinnedRandom(() => cluster.incr(key))).toBe(1);
    const slot = Number(await direct.cluster('KEYSLOT', key));
    expect((cluster as unknown as Internals).slots[slot]![0]).toBe(`127.0.0.1:${owner.port}`);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);

  it('natMap a function that maps any address it does not know elsewhere: the mapped address is not mapped a second time', async () => {
    const natMap = (address: string) => net.natMap[address] ?? { host: '127.0.0.1', port: 1 };
    const cluster = await redisCluster({ name: 'nat-moved-function', nodes: net.nodes, options: { natMap } }).get();
    const { key } = await staleKey(cluster, 'nat-moved-function');
    const added: number[] = [];
    cluster.on('+node', (node: Redis) => added.push(node.options.port!));
    expect(await pinnedRandom(() => cluster.incr(key))).toBe(1);
    expect(await direct.get(key)).toBe('1');
    // No node connection (not even one a slot refresh drops again) to the address a second mapping gives.
    expect(added).not.toContain(1);
  }, 30_000);

  it("the failover retry's random pick lands on another master (the CI failure): the unwritten INCR is still sent, once", async () => {
    const cluster = await redisCluster({ name: 'nat-moved-failover', nodes: net.nodes, options: { natMap: net.natMap } }).get();
    const internals = cluster as unknown as Internals;
    const wrong = await pinnedRandom(async () => internals.connectionPool.getSampleInstance('master')!);
    // A key on a master other than the pick, with no connection yet: its INCR waits while that connection connects, and the connect is dropped.
    let key = '';
    let target: ClusterNodeProxy | undefined;
    for (let i = 0; i < 100 && target === undefined; i++) {
      key = `nat-moved-failover:${randomUUID()}`;
      const p = await net.proxyOf(key);
      if (p.connections === 0 && p.port !== wrong.options.port) target = p;
    }
    expect(target).toBeDefined();
    target!.refuse = 1;
    expect(await pinnedRandom(() => cluster.incr(key))).toBe(1);
    expect(target!.refused).toBe(1);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);
});

describe('followMovedThroughNatMap(): a Cluster it cannot or need not change is left as it is', () => {
  it('without natMap: not changed', () => {
    const cluster = new Cluster(net.nodes, { lazyConnect: true });
    const before = (cluster as unknown as { handleError: unknown }).handleError;
    expect(followMovedThroughNatMap(cluster)).toBe(false);
    expect((cluster as unknown as { handleError: unknown }).handleError).toBe(before);
    cluster.disconnect();
  });

  it('an ioredis without the internals used (handleError, natMapper): not changed, no error', () => {
    const natMapper = () => ({ host: 'h', port: 1 });
    const withoutHandleError = { options: { natMap: {} }, natMapper };
    expect(followMovedThroughNatMap(withoutHandleError as unknown as Cluster)).toBe(false);
    expect(withoutHandleError.natMapper).toBe(natMapper);
    const withoutNatMapper = { options: { natMap: {} }, handleError: () => undefined };
    expect(followMovedThroughNatMap(withoutNatMapper as unknown as Cluster)).toBe(false);
    expect(Object.keys(withoutNatMapper)).toEqual(['options', 'handleError']);
  });

  it("with natMap: ioredis' handlers other than moved are passed on as they are", () => {
    const seen: unknown[] = [];
    const ask = () => undefined;
    const fake = { options: { natMap: {} }, natMapper: (n: string) => ({ host: 'm', port: Number(n.split(':')[1]) }), handleError: (_e: Error, _t: unknown, h: unknown) => void seen.push(h) };
    expect(followMovedThroughNatMap(fake as unknown as Cluster)).toBe(true);
    fake.handleError(new Error('ASK 1 a:2'), {}, { ask });
    expect((seen[0] as { ask: unknown }).ask).toBe(ask);
  });
});
