/**
 * Review (D3): a password in one startup-node URL — `redisCluster({ nodes:
 * ['redis://default:pw@host:port'] })`, an ElastiCache configuration endpoint — reached only that
 * node: ioredis gives the nodes it finds through `CLUSTER SLOTS` `redisOptions` alone
 * (redis/ioredis#837, redis-rb#888), so against a password-protected Cluster most commands failed
 * with a raw `ReplyError: NOAUTH …` without a `code`. The URL's credentials are now used for every
 * node; URLs naming different ones are refused; a command's NOAUTH / WRONGPASS reply is the
 * terminal `CONNECTION_AUTH_FAILED`. A private 3-master Cluster this file starts, protected with
 * `CONFIG SET requirepass` (and `masterauth`) on every node.
 */
import { inspect } from 'node:util';
import { Redis, type ClusterNode } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';

const PASSWORD = 'right-one-Zk4';
let cluster: OwnCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
  for (const port of cluster.ports) {
    const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    await node.config('SET', 'masterauth', PASSWORD);
    await node.config('SET', 'requirepass', PASSWORD);
    node.disconnect();
  }
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});
afterEach(async () => {
  await closeAll();
});

/** Keys spread over the 16384 slots: with 12 of them, each master owns some (checked below). */
const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);

describe('redisCluster(): credentials in a startup-node URL', () => {
  it('one URL with the password: every command reaches its node authenticated', async () => {
    const h = redisCluster({ nodes: [`redis://default:${PASSWORD}@127.0.0.1:${cluster.ports[0]}`], name: 'one-url' });
    const results = await Promise.allSettled(KEYS.map((k) => h.run((c) => c.set(k, 'v'))));
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failed).toEqual([]);
    // The keys did go to every master (each holds some), not only to the startup node.
    const client = await h.get();
    const sizes = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });

  it('URLs naming different passwords: CONFIG_INVALID on "nodes" when redisCluster() is called, no password shown', () => {
    const nodes = [`redis://default:${PASSWORD}@127.0.0.1:${cluster.ports[0]}`, `redis://default:other-pw-9@127.0.0.1:${cluster.ports[1]}`];
    let thrown: unknown;
    try {
      redisCluster({ nodes });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field: 'nodes', retryable: false });
    expect(inspect(thrown, { depth: 10 })).not.toMatch(/right-one|other-pw/);
  });

  it('a node that answers a command with NOAUTH: the terminal CONNECTION_AUTH_FAILED, not a raw ReplyError', async () => {
    // A password on a startup-node object (which ioredis accepts, untyped) still reaches that node only.
    const node = { host: '127.0.0.1', port: cluster.ports[0], password: PASSWORD } as ClusterNode;
    const h = redisCluster({ nodes: [node], name: 'object-node' });
    const results = await Promise.allSettled(KEYS.map((k) => h.run((c) => c.set(k, 'v'))));
    const reasons = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
    // The startup node's slots work; the others' refuse.
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) {
      expect(reason).toMatchObject({ code: 'CONNECTION_AUTH_FAILED', retryable: false, field: 'nodes' });
      expect(inspect(reason, { depth: 10 })).not.toContain(PASSWORD);
    }
  });
});
