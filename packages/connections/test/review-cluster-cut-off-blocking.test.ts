/**
 * `redisCluster()` at a cut-off (an invocation cut off by its deadline, a handed-out client's
 * signal aborting). `redis()` suspects its shared client only when the oldest command in flight
 * at the cut-off is non-blocking and still unanswered at the next use; the Cluster was suspected
 * at every deadline cut-off, whatever was in flight. Its thaw check pings every master, and the
 * ping to the master holding another caller's healthy BLPOP queued behind it, timed out, and the
 * Cluster was rebuilt: that BLPOP failed with "Connection is closed." (a reply popped by the server
 * could be lost). Signals a Cluster was handed out under were not watched at all. Now each node
 * connection's queue is read as `redis()` reads its one. The real shared 3-master Cluster.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { expect, it } from 'vitest';
import { connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { clusterNodes } from '../../../test/support/redis.js';
import { useClusterProxies } from './support/cluster-proxy.js';
import { eventually } from '../../../test/support/wait.js';

/** Proxies in front of the nodes, for the dead-socket case (its hooks also close every handle after each test). */
const net = useClusterProxies();

const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e: unknown) => ({ err: (e as Error).message }));

it('an invocation cut off by its deadline while another caller blocks on the shared Cluster leaves the Cluster as it is', async () => {
  const handle = redisCluster({ nodes: clusterNodes(), name: `cluster-cut-off-${randomUUID()}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const key = `cluster-cut-off-${randomUUID()}`;
  const main = handler({ use: [connections({ cluster: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (input: unknown, ctx) => {
    if (input === 'hang') return new Promise(() => undefined); // hangs on something that is not the Cluster
    return ctx.cluster.exists('nothing');
  });
  const call = (input: string, deadlineMs: number) => main.invoke(input, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call('use', 10_000)).toBe(0);
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const blocked = settle(consumer.blpop(key, 2));
  expect(await call('hang', 500)).toBe('DEADLINE_EXCEEDED');
  expect(await call('use', 10_000)).toBe(0);
  // Before: the ping behind the BLPOP timed out, the Cluster was rebuilt and the BLPOP failed.
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 0, pingFailures: 0, connects: 1 });
}, 30_000);

it('a cut-off with nothing of the Cluster in flight leaves it unchecked', async () => {
  const handle = redisCluster({ nodes: clusterNodes(), name: `cluster-cut-off-${randomUUID()}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const main = handler({ use: [connections({ cluster: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (input: unknown, ctx) => {
    const found = await ctx.cluster.exists('nothing');
    if (input === 'hang') return new Promise(() => undefined);
    return found;
  });
  const call = (input: string, deadlineMs: number) => main.invoke(input, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call('hang', 500)).toBe('DEADLINE_EXCEEDED');
  expect(await call('use', 10_000)).toBe(0);
  // Before: pings 1 (every master pinged for nothing).
  expect(handle.stats).toMatchObject({ pings: 0, connects: 1 });
}, 30_000);

it('a caller that gives up on a command of its own hung on a silent master: the next get() checks the Cluster and rebuilds it', async () => {
  const handle = redisCluster({ nodes: net.nodes, options: { natMap: net.natMap }, name: `cluster-cut-off-${randomUUID()}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const key = `cluster-cut-off-${randomUUID()}`;
  const caller = new AbortController();
  const first = await handle.get({ signal: caller.signal });
  expect(await first.exists(key)).toBe(0);
  const silent = await net.proxyOf(key);
  silent.muted = true; // the master's replies vanish: a silently dead socket
  void first.get(key).catch(() => undefined);
  caller.abort(new Error('gave up'));
  const next = handle.get({ signal: AbortSignal.timeout(20_000) });
  // The ping of that master fails; the rebuilt Cluster's connections are live again.
  await eventually(() => handle.stats.pingFailures === 1, 10_000);
  silent.muted = false;
  // Before: the Cluster was not watched: the same client, its GET on that master hanging.
  expect((await next) === first).toBe(false);
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
}, 30_000);
