/**
 * "Cluster is ended." under `redisCluster()`: does it prove the command unsent?
 *
 * ioredis 6.0.0 raises it in one place only (built/cluster/index.js, `Cluster#sendCommand` →
 * `tryConnection`): where it would pick a node connection and write the command, and finds the
 * Cluster's status `end` (after `quit()` / `disconnect()`). Not on a command's first try — a
 * command sent to an ended Cluster is refused earlier, with "Connection is closed." — only on a
 * retry: after MOVED / ASK / TRYAGAIN / CLUSTERDOWN (answers of a node that did not run it) or
 * on the failover retry (`retryDelayOnFailover`) of a command rejected with "Connection is
 * closed.", which `redisCluster()` leaves only to commands never written (a written one gets
 * `ReplyLostError`, not retried: src/clients/cluster-replies.ts). The same reasoning as "Cluster
 * isn't ready" (cluster-not-ready.test.ts), so a write that meets it may be sent again.
 *
 * The case here: an invocation's INCR for a master the Cluster has no connection to yet waits in
 * that node connection's offline queue; the proxy in front of that node drops the connect, so the
 * INCR is rejected unwritten with "Connection is closed." and waits for ioredis' failover retry;
 * meanwhile a concurrent invocation quit()s the Cluster, so the retry finds it ended. The real
 * shared Cluster (REDIS_CLUSTER_NODES) through one loopback proxy per node; never stopped.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { isConnectionError } from '../src/errors.js';
import { redisCluster } from '../src/redis.js';
import { keyOnUnconnectedMaster, rejectionOf, useClusterProxies } from './support/cluster-proxy.js';

const net = useClusterProxies();
const { direct } = net;

// The failover retry waits this long; quit() takes a few round trips on loopback. Generous on
// purpose: the retry must come after the Cluster ended, which the tests check by the error itself.
const RETRY_DELAY_MS = 3_000;

function clusterHandle(name: string) {
  return redisCluster({ name: `${name}-${randomUUID()}`, nodes: net.nodes, options: { natMap: net.natMap, retryDelayOnFailover: RETRY_DELAY_MS }, connectTimeoutMs: 2_000 });
}

/** Resolves once `cluster` ended (now, if it has). */
async function ended(cluster: Cluster): Promise<void> {
  if (cluster.status !== 'end') await once(cluster, 'end');
}

describe('redisCluster(): an INCR never written meets "Cluster is ended."', () => {
  it('the driver rejects it with "Cluster is ended." after quit(), and the server never saw it', async () => {
    const handle = clusterHandle('ended-driver');
    const cluster = await handle.get();
    const { key, proxy } = await keyOnUnconnectedMaster(net, 'ended');
    proxy.refuse = 1;
    // The node connection's end comes right before ioredis rejects its queued commands (same call).
    const nodeGone = once(cluster, '-node');
    const incr = rejectionOf(cluster.incr(key));
    await nodeGone;
    await cluster.quit();
    await ended(cluster);
    const err = await incr;
    expect(proxy.refused).toBe(1);
    expect(err?.message).toBe('Cluster is ended.');
    expect(isConnectionError(err)).toBe(true);
    expect(await direct.get(key)).toBeNull();
  }, 30_000);

  it('through ctx: a concurrent invocation quit()s the Cluster; the write is sent once more on a rebuilt client and applied exactly once', async () => {
    const handle = clusterHandle('ended-ctx');
    type Step = { action: 'incr'; key: string } | { action: 'quit' };
    const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) => {
      const step = input as Step;
      return step.action === 'quit' ? ctx.redisCluster.quit() : ctx.redisCluster.incr(step.key);
    });
    const invoke = (step: Step) =>
      main.invoke(step, { deadline: Date.now() + 20_000 }).then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, code: (err as { code?: string }).code }),
      );
    expect(await invoke({ action: 'incr', key: `ended:{warm}:${randomUUID()}` })).toEqual({ ok: true, value: 1 });
    const cluster = handle.peek()!;
    const { key, proxy } = await keyOnUnconnectedMaster(net, 'ended');
    proxy.refuse = 1;
    const nodeGone = once(cluster, '-node');
    const writing = invoke({ action: 'incr', key });
    await nodeGone;
    expect(await invoke({ action: 'quit' })).toEqual({ ok: true, value: 'OK' });
    await ended(cluster);
    // Before: CONNECTION_LOST (a write never sent again), though the server never saw it.
    expect(await writing).toEqual({ ok: true, value: 1 });
    expect(handle.stats.retries).toBe(1);
    expect(await direct.get(key)).toBe('1');
    expect(await invoke({ action: 'incr', key })).toEqual({ ok: true, value: 2 });
    expect(await direct.get(key)).toBe('2');
  }, 30_000);
});
