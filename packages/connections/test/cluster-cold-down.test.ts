/**
 * A NEW `redisCluster()` client (a cold start, or the rebuild after a connection error) while a
 * master of the cluster is down. ioredis 6 leaves `Cluster#connect()` pending when its ready
 * check (CLUSTER INFO on a random node) fails — `cluster_state:fail`, or the node it picked is the
 * dead master — and reconnects on its own; the first `connect()` never learns how that ended.
 * The handle waited out `connectTimeoutMs` (10 s) or the invocation's deadline, then failed with
 * a timeout. Now the connect ends with the Cluster's own `ready` or `end` (its
 * `clusterRetryStrategy` gave up): a typed CONNECTION_UNAVAILABLE (503, retryable) whose cause
 * says the Cluster never became ready, and the next invocation connects once the master is back.
 * While the live masters still report `cluster_state:ok`, a ready check that reached a dead master
 * asks another node instead of failing the attempt (a cold connect failed all five attempts that
 * way 1 time in ~250 with one master of three down, 1 in 8 with two).
 *
 * Private clusters (startRedisCluster): the shared one on 17001-3 is never killed.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

let cluster: OwnCluster | undefined;

afterEach(async () => {
  await closeAll();
  await cluster?.stop();
  cluster = undefined;
});

/** One short-lived plain connection to the node on `port` (never through the code under test). */
async function probe<R>(port: number, fn: (r: Redis) => Promise<R>): Promise<R | undefined> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

const clusterState = (port: number): Promise<string | undefined> => probe(port, async (r) => /cluster_state:(\w+)/.exec(String(await r.call('CLUSTER', 'INFO')))?.[1]);

/** The port of the master that serves `key`'s slot (asked of the node on `port`). */
async function masterOf(port: number, key: string): Promise<number> {
  const owner = await probe(port, async (r) => {
    const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    return ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
  });
  if (owner === undefined) throw new Error(`no master serves ${key}`);
  return owner;
}

function app(nodes: OwnCluster['nodes'], name: string) {
  // connectTimeoutMs well above the retries' ~750 ms: a connect that waits it out fails the test (its cause a timeout).
  const handle = redisCluster({ name, nodes, connectTimeoutMs: 15_000 });
  const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (key: unknown, ctx) =>
    ctx.redisCluster.set(key as string, 'v'),
  );
  return { handle, main };
}

async function outcome(main: ReturnType<typeof app>['main'], key: string) {
  return main.invoke(key, { deadline: Date.now() + 30_000 }).then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
}

describe('redisCluster(): a cold connect with a master down', () => {
  it('cluster_state:fail: CONNECTION_UNAVAILABLE (503, retryable) once clusterRetryStrategy gives up, not after connectTimeoutMs; the next invocation connects once the master is back', async () => {
    cluster = await startRedisCluster(['--cluster-node-timeout', '500']);
    const [victim, survivor] = cluster.ports;
    await cluster.kill(victim!);
    await eventually(async () => (await clusterState(survivor!)) === 'fail', 20_000, 100);

    const { handle, main } = app(cluster.nodes, `cold-down-${randomUUID()}`);
    const err = await handle.run((c) => c.set(`cold-down:${randomUUID()}`, 'v')).then(
      () => undefined,
      (e: unknown) => e as { code?: string; status?: number; retryable?: boolean; cause?: { name?: string } },
    );
    expect(err).toMatchObject({ code: 'CONNECTION_UNAVAILABLE', status: 503, retryable: true });
    // Before: TimeoutError ("connecting … timed out after 15000 ms").
    expect(err?.cause?.name).toBe('ClusterNotReadyError');
    expect(handle.peek(), 'a failed client is not kept').toBeUndefined();
    // The same through an invocation with a deadline: its typed, retryable error, not the deadline's.
    expect(await outcome(main, `cold-down:${randomUUID()}`)).toEqual({ err: expect.objectContaining({ code: 'CONNECTION_UNAVAILABLE', retryable: true }) });
    expect(handle.stats.connectFailures).toBe(2);

    await cluster.restart(victim!);
    const key = `cold-down:${randomUUID()}`;
    expect(await outcome(main, key)).toEqual({ value: 'OK' });
    expect(await probe(await masterOf(survivor!, key), (r) => r.get(key))).toBe('v');
  }, 90_000);

  it('killed but not yet marked failed (cluster_state:ok): cold connects serve a key of a live master, none waits for connectTimeoutMs', async () => {
    // A long node timeout: the others go on reporting cluster_state:ok while the test runs.
    cluster = await startRedisCluster(['--cluster-node-timeout', '60000']);
    const [victim, survivor] = cluster.ports;
    let key = '';
    do key = `cold-live:{${randomUUID()}}`;
    while ((await masterOf(survivor!, key)) === victim);
    await cluster.kill(victim!);

    // Each connect's ready check asks a random master, the dead one a third of the time: before,
    // that connect never settled (P(8 connects all pass) = (2/3)^8 < 4 %).
    for (let i = 0; i < 8; i++) {
      const { main } = app(cluster.nodes, `cold-live-${i}-${randomUUID()}`);
      expect(await outcome(main, `${key}:${i}`), `cold connect ${i}`).toEqual({ value: 'OK' });
      await closeAll();
    }
    expect(await clusterState(survivor!), 'the cluster still reported ok throughout').toBe('ok');
  }, 90_000);

  it('two of three masters killed, cluster_state still ok: a ready check that reached a dead master asks another node, so every cold connect serves a key of the live one', async () => {
    cluster = await startRedisCluster(['--cluster-node-timeout', '60000']);
    const [first, second, survivor] = cluster.ports;
    let key = '';
    do key = `cold-two:{${randomUUID()}}`;
    while ((await masterOf(survivor!, key)) !== survivor);
    await cluster.kill(first!);
    await cluster.kill(second!);

    // Before, each attempt's ready check hit a dead master 2 times in 3 and all five attempts
    // failed for 1 connect in 8: P(8 connects all pass) = (1 - (2/3)^5)^8 ≈ 32 %. A failed one
    // was CONNECTION_UNAVAILABLE (cause ClusterNotReadyError) on a cluster that still served this key.
    for (let i = 0; i < 8; i++) {
      const { main } = app(cluster.nodes, `cold-two-${i}-${randomUUID()}`);
      expect(await outcome(main, `${key}:${i}`), `cold connect ${i}`).toEqual({ value: 'OK' });
      await closeAll();
    }
    expect(await clusterState(survivor!), 'the cluster still reported ok throughout').toBe('ok');
  }, 90_000);
});
