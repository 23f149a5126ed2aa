/**
 * A write through a Cluster whose node connection dies after the server applied it and before
 * the reply came back must not be sent a second time — not by ioredis' own failover retry
 * (`retryDelayOnFailover`, which resends a command rejected with "Connection is closed", written
 * or not), and not by the handle. Plain ioredis does resend it (proved below on the driver
 * alone); `redisCluster()` rejects it at once with `ReplyLostError` (src/clients/cluster-replies.ts),
 * a connection error that does not prove it unsent: a write is CONNECTION_LOST, a read is
 * repeated once by the handle, and a command not yet written when its node connection failed is
 * still sent by ioredis' failover retry, once.
 *
 * The real shared Cluster (REDIS_CLUSTER_NODES), reached through one loopback proxy per node
 * (ioredis `natMap` sends every node address through its proxy). The proxy forwards the INCR,
 * the server applies it, and the proxy drops the connection instead of passing on the reply:
 * exactly a CLIENT KILL (or a node restart) between apply and reply, without relying on timing.
 * The INCR's counter key says how many times it was applied. In some cases the proxies then
 * refuse every new connection (the nodes unreachable), so the driver's failover retry finds the
 * Cluster not ready.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { isConnectionError, wasNotSent } from '../src/errors.js';
import { ReplyLostError, redisCluster } from '../src/redis.js';
import { rejectionOf, useClusterProxies, type ClusterNodeProxy } from './support/cluster-proxy.js';

/** The proxies: `trap(key)` drops the connection that sent the key when the server answers it. */
const net = useClusterProxies();
const { direct } = net;

/** Our client through the proxies (every node address CLUSTER SLOTS answers goes through its proxy). */
function clusterHandle(name: string) {
  return redisCluster({ name, nodes: net.nodes, options: { natMap: net.natMap } });
}

/** A function that INCRs (a write) or GETs (a read) `input.key` through ctx. */
function app(name: string, command: 'incr' | 'get' = 'incr') {
  const handle = clusterHandle(name);
  const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) =>
    ctx.redisCluster[command]((input as { key: string }).key),
  );
  return Object.assign(main, { handle });
}

/** Plain ioredis (no handle, no hook) with the profile's options that matter here, through the proxies. */
async function plainCluster(): Promise<Cluster> {
  const plain = new Cluster(net.nodes, {
    natMap: net.natMap,
    lazyConnect: true,
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false },
  });
  await plain.connect();
  return plain;
}

/** One invocation's outcome; a failure also carries, not enumerable (toEqual ignores it), its error chain as `why`. */
async function once(main: ReturnType<typeof app>, key: string) {
  try {
    return { ok: true as const, value: await main.invoke({ key }, { deadline: Date.now() + 20_000 }) };
  } catch (err) {
    const chain: string[] = [];
    for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined; e && chain.length < 6; e = e.cause as typeof e) chain.push(`${e.name}: ${e.message}`);
    return Object.defineProperty({ ok: false as const, code: (err as { code?: string }).code }, 'why', { value: chain.join(' <- '), enumerable: false });
  }
}

/**
 * The failure message of an invocation expected to work once the nodes are reachable again: its
 * error chain, and the connection losses the proxies did not make (a node closing its side), so a
 * loss from outside the test is told from the client's own.
 */
function whyNot(outcome: object): string {
  return `error: ${(outcome as { why?: string }).why ?? 'none'}; losses no fault control made: ${net.unplanned.join(', ') || 'none'}`;
}

describe('plain ioredis Cluster: an INCR applied, its reply lost with its node connection', () => {
  it('the Cluster stays ready: its failover retry (retryDelayOnFailover) sends the INCR again — applied twice', async () => {
    const plain = await plainCluster();
    try {
      const key = `review-resend:${randomUUID()}`;
      const sprung = net.trap(key);
      // The second send's reply comes back: the caller sees 2, as if its INCR had been applied once.
      expect(await plain.incr(key)).toBe(2);
      expect(sprung.sprung).toBe(1);
      expect(await direct.get(key)).toBe('2');
    } finally {
      plain.disconnect();
    }
  }, 30_000);

  it('a pipeline: the Cluster retries the whole pipeline on that error — applied twice', async () => {
    const plain = await plainCluster();
    try {
      const key = `review-resend:${randomUUID()}`;
      const sprung = net.trap(key);
      expect(await plain.pipeline().incr(key).exec()).toEqual([[null, 2]]);
      expect(sprung.sprung).toBe(1);
      expect(await direct.get(key)).toBe('2');
    } finally {
      plain.disconnect();
    }
  }, 30_000);

  it("every node then unreachable: the failover retry rejects the applied INCR with \"Cluster isn't ready\", which does not prove it unsent", async () => {
    const plain = await plainCluster();
    try {
      const key = `review-resend:${randomUUID()}`;
      // Every node unreachable until the test says otherwise: when ioredis' failover retry
      // comes (100 ms after the drop) the Cluster is not ready, and it rejects the written
      // INCR with "Cluster isn't ready".
      const sprung = net.trap(key, { all: true });
      const err = await rejectionOf(plain.incr(key));
      expect(sprung.sprung).toBe(1);
      expect(err?.message).toMatch(/^Cluster isn't ready/);
      net.refusing = false;
      // The server applied it.
      expect(await direct.get(key)).toBe('1');
      expect(isConnectionError(err)).toBe(true);
      expect(wasNotSent(err)).toBe(false);
    } finally {
      plain.disconnect();
    }
  }, 30_000);
});

describe('redisCluster(): an INCR applied, its reply lost with its node connection', () => {
  it('the client rejects it at once with ReplyLostError: a connection error, not proof it was unsent; applied once', async () => {
    const handle = clusterHandle('resend-client');
    const cluster = await handle.get();
    const key = `review-resend:${randomUUID()}`;
    const sprung = net.trap(key);
    const err = await rejectionOf(cluster.incr(key));
    expect(sprung.sprung).toBe(1);
    expect(err).toBeInstanceOf(ReplyLostError);
    expect(err?.message).toMatch(/^Connection is closed after the command was written/);
    expect(isConnectionError(err)).toBe(true);
    expect(wasNotSent(err)).toBe(false);
    expect(await direct.get(key)).toBe('1');
    // The Cluster stays usable: the next command goes through (a new connection to that node).
    expect(await cluster.incr(key)).toBe(2);
  }, 30_000);

  it('a pipeline whose commands were written is not retried either: its result holds ReplyLostError; applied once', async () => {
    const handle = clusterHandle('resend-pipeline');
    const cluster = await handle.get();
    const key = `review-resend:${randomUUID()}`;
    const sprung = net.trap(key);
    const results = await cluster.pipeline().incr(key).exec();
    expect(sprung.sprung).toBe(1);
    expect(results).toHaveLength(1);
    expect(results![0]![0]).toBeInstanceOf(ReplyLostError);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);

  it('through ctx, only its node connection dies (the Cluster stays ready): CONNECTION_LOST, applied once, and the next invocation works', async () => {
    const main = app('resend-one');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: 1 });
    const key = `review-resend:${randomUUID()}`;
    const sprung = net.trap(key);
    expect(await once(main, key)).toEqual({ ok: false, code: 'CONNECTION_LOST' });
    expect(sprung.sprung).toBe(1);
    expect(await direct.get(key)).toBe('1');
    const after = await once(main, `${key}:after`);
    expect(after, whyNot(after)).toEqual({ ok: true, value: 1 });
  }, 30_000);

  it('through ctx, every node then unreachable: CONNECTION_LOST (not resent), and the next invocation works', async () => {
    const main = app('resend-unreachable');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: 1 });
    const key = `review-resend:${randomUUID()}`;
    const sprung = net.trap(key, { all: true });
    const outcome = await once(main, key);
    expect(sprung.sprung).toBe(1);
    // Not CONNECTION_UNAVAILABLE: that is a resend that could not reconnect.
    expect(outcome).toEqual({ ok: false, code: 'CONNECTION_LOST' });
    net.refusing = false;
    expect(await direct.get(key)).toBe('1');
    const after = await once(main, `${key}:after`);
    expect(after, whyNot(after)).toEqual({ ok: true, value: 1 });
  }, 30_000);

  it('through ctx, a GET whose reply is lost is a read: the handle sends it once more and answers', async () => {
    const key = `review-resend:${randomUUID()}`;
    await direct.set(key, 'v');
    const main = app('resend-read', 'get');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: null });
    const sprung = net.trap(key);
    expect(await once(main, key)).toEqual({ ok: true, value: 'v' });
    expect(sprung.sprung).toBe(1);
    expect(main.handle.stats.retries).toBe(1);
  }, 30_000);

  it("a QUIT whose reply is lost is not a lost write: the Cluster's quit() still resolves OK", async () => {
    const handle = clusterHandle('resend-quit');
    const cluster = await handle.get();
    // A connection to every master, so each gets a QUIT.
    await Promise.all(cluster.nodes('master').map((node) => node.ping()));
    const sprung = net.trap('quit');
    expect(await cluster.quit()).toBe('OK');
    expect(sprung.sprung).toBe(1);
  }, 30_000);

  it('a command not yet written when its node connection fails is still sent by the failover retry, once', async () => {
    const handle = clusterHandle('resend-unwritten');
    const cluster = await handle.get();
    // A key on a master this new client has no connection to yet: its INCR waits in that node
    // connection's offline queue while it connects, and the connect is dropped.
    let key = '';
    let target: ClusterNodeProxy | undefined;
    for (let i = 0; i < 50 && target === undefined; i++) {
      key = `review-resend:${randomUUID()}`;
      const p = await net.proxyOf(key);
      if (p.connections === 0) target = p;
    }
    expect(target).toBeDefined();
    target!.refuse = 1;
    expect(await cluster.incr(key)).toBe(1);
    expect(target!.refused).toBeGreaterThanOrEqual(1);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);
});
