/**
 * "Cluster isn't ready" under `redisCluster()`: does it prove the command unsent?
 *
 * ioredis rejects a Cluster command with it only at a point where it would send the command
 * (`Cluster#sendCommand` → `tryConnection`) and the Cluster is not ready (our profile keeps its
 * offline queue off): on a first try, or on a retry after MOVED / ASK / TRYAGAIN / CLUSTERDOWN
 * (answers of a node that did not run the command), or on the failover retry of a command
 * rejected with "Connection is closed." A plain Cluster also gives that last error to commands
 * it had written (test/review-cluster-resend.test.ts: applied, then "Cluster isn't ready");
 * `redisCluster()` gives those `ReplyLostError` instead (src/clients/cluster-replies.ts), which is
 * not retried — so under `redisCluster()` "Cluster isn't ready" follows only commands never
 * written, and a write that meets it may be sent again.
 *
 * The case here: a new client's INCR for a master it has no connection to yet waits in that
 * node connection's offline queue; the proxy in front of that node drops the connect and every
 * other connection, and refuses new ones (every node unreachable), so the failover retry 100 ms
 * later finds the Cluster not ready. The real shared Cluster (REDIS_CLUSTER_NODES), reached through
 * one loopback proxy per node (ioredis `natMap`); never stopped.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { isConnectionError, wasNotSent } from '../src/errors.js';
import { redisCluster } from '../src/redis.js';
import { keyOnUnconnectedMaster, rejectionOf, useClusterProxies } from './support/cluster-proxy.js';

/** The proxies: `tripOn(proxy)` drops the next connection to that node and every other one, then refuses new ones. */
const net = useClusterProxies();
const { direct } = net;

function clusterHandle(name: string) {
  return redisCluster({ name: `${name}-${randomUUID()}`, nodes: net.nodes, options: { natMap: net.natMap }, connectTimeoutMs: 2_000 });
}

describe("redisCluster(): an INCR never written meets \"Cluster isn't ready\"", () => {
  it('the driver rejects it with "Cluster isn\'t ready" and the server never saw it', async () => {
    const handle = clusterHandle('not-ready-driver');
    const cluster = await handle.get();
    const { key, proxy } = await keyOnUnconnectedMaster(net, 'not-ready');
    const trip = net.tripOn(proxy);
    const err = await rejectionOf(cluster.incr(key));
    expect(trip.tripped).toBeGreaterThanOrEqual(1);
    expect(err?.message).toMatch(/^Cluster isn't ready/);
    expect(isConnectionError(err)).toBe(true);
    net.refusing = false;
    expect(await direct.get(key)).toBeNull();
  }, 30_000);

  it('through ctx: the write is repeated (the Cluster still unreachable: CONNECTION_UNAVAILABLE), never applied twice', async () => {
    const handle = clusterHandle('not-ready-ctx');
    const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) =>
      ctx.redisCluster.incr((input as { key: string }).key),
    );
    expect(await main.invoke({ key: `not-ready:{warm}:${randomUUID()}` }, { deadline: Date.now() + 20_000 })).toBe(1);
    const { key, proxy } = await keyOnUnconnectedMaster(net, 'not-ready');
    net.tripOn(proxy);
    const outcome = await main.invoke({ key }, { deadline: Date.now() + 20_000 }).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, code: (err as { code?: string }).code }),
    );
    net.refusing = false;
    // Sent again on a rebuilt client, which cannot connect: not CONNECTION_LOST, which says "maybe applied".
    expect(outcome).toEqual({ ok: false, code: 'CONNECTION_UNAVAILABLE' });
    expect(handle.stats.retries).toBe(1);
    expect(await direct.get(key)).toBeNull();
    // The nodes reachable again: the next invocation applies it, once.
    expect(await main.invoke({ key }, { deadline: Date.now() + 20_000 })).toBe(1);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);

  it('wasNotSent: "Cluster isn\'t ready" alone still proves nothing (a plain ioredis Cluster gives it to written commands)', () => {
    expect(wasNotSent(new Error("Cluster isn't ready and enableOfflineQueue options is false"))).toBe(false);
  });
});
