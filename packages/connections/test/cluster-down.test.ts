/**
 * A Redis Cluster that is down (a master SIGKILLed and marked failed by the others after
 * `cluster-node-timeout`: every node answers CLUSTERDOWN). ioredis retries the refusal until
 * its redirection limit and rejects with a plain `Error("Too many Cluster redirections. Last
 * error: ReplyError: CLUSTERDOWN The cluster is down")` — the same error a node restart gives
 * mid-storm (built-storm-cluster.test.ts of @steadyfn/idempotency, where it surfaced from a read
 * in the function as an untyped INTERNAL 500). Through `redisCluster()` it is a connection
 * error: a read is repeated once (on a rebuilt client, which the down cluster refuses:
 * CONNECTION_UNAVAILABLE) and a write fails with CONNECTION_LOST or, once the client is
 * distrusted, CONNECTION_UNAVAILABLE (its earlier tries may have been sent on a connection
 * that closed) — typed, retryable 503s either way.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisCluster } from '../src/redis.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

let cluster: OwnCluster | undefined;

afterAll(async () => {
  await cluster?.stop();
});

async function clusterState(port: number): Promise<string | undefined> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return /cluster_state:(\w+)/.exec(String(await probe.call('CLUSTER', 'INFO')))?.[1];
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

describe('redisCluster() while the cluster is down', () => {
  it('a read and a write fail with a typed, retryable 503 (CONNECTION_LOST / CONNECTION_UNAVAILABLE)', async () => {
    cluster = await startRedisCluster(['--cluster-node-timeout', '500']);
    // A new Cluster client fails once clusterRetryStrategy gives up on cluster_state:ok (cluster-cold-down.test.ts); the bound is a backstop.
    const handle = redisCluster({ nodes: cluster.nodes, connectTimeoutMs: 2_000 });
    try {
      const key = `down:${randomUUID()}`;
      expect(await handle.run((c) => c.set(key, 'v'))).toBe('OK');
      const [victim, survivor] = cluster.ports;
      await cluster.kill(victim!);
      await eventually(async () => (await clusterState(survivor!)) === 'fail', 20_000, 100);

      const read = await handle.read((c) => c.get(key)).then(() => undefined, (err: unknown) => err);
      const write = await handle.run((c) => c.set(key, 'w')).then(() => undefined, (err: unknown) => err);
      // The read's repeat needs the client rebuilt, which a down cluster refuses: CONNECTION_UNAVAILABLE.
      for (const err of [read, write]) {
        expect(err, 'a typed, retryable error').toMatchObject({ retryable: true, status: 503 });
        expect(['CONNECTION_LOST', 'CONNECTION_UNAVAILABLE']).toContain((err as { code?: string }).code);
      }
      expect(handle.stats.retries, 'the read was repeated once').toBeGreaterThanOrEqual(1);
    } finally {
      await handle.close();
    }
  }, 40_000);
});
