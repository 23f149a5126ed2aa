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
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { isConnectionError, wasNotSent } from '../src/errors.js';
import { ReplyLostError, redisCluster } from '../src/redis.js';

const NODES = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003').split(',').map((hp) => {
  const [host, port] = hp.split(':');
  return { host: host!, port: Number(port) };
});

/** A proxy in front of one node; `trap(marker, all)`: the next connection that sends `marker` is dropped when the server answers it (`all`: every connection of every proxy is then dropped). */
interface TrapProxy {
  port: number;
  /** How many new connections this proxy still drops at once (its node unreachable for them). */
  refuse: number;
  /** How many connections it dropped at once. */
  refused: number;
  pairs: Set<{ client: Socket; upstream: Socket }>;
  close(): Promise<void>;
}
const proxies: TrapProxy[] = [];
let trap: { marker: Buffer; all: boolean; sprung: number } | undefined;
/** How many new connections the proxies still drop at once (the nodes unreachable: the Cluster cannot reconnect). */
let refusing = 0;

function dropAll(): void {
  for (const p of proxies) for (const pair of p.pairs) {
    pair.client.destroy();
    pair.upstream.destroy();
  }
}

async function startTrapProxy(target: { host: string; port: number }): Promise<TrapProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server: Server = createServer((client) => {
    if (refusing > 0 || proxy.refuse > 0) {
      if (refusing > 0) refusing--;
      else proxy.refuse--;
      proxy.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    let armed = false;
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (trap !== undefined && chunk.includes(trap.marker)) armed = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (armed && trap !== undefined) {
        // The server has applied the command and answered: the answer never arrives.
        trap.sprung++;
        const all = trap.all;
        trap = undefined;
        client.destroy();
        upstream.destroy();
        if (all) {
          // Every node unreachable until the test says otherwise: when ioredis' failover retry
          // comes (100 ms after the drop) the Cluster is not ready, and it rejects the written
          // INCR with "Cluster isn't ready".
          refusing = Number.POSITIVE_INFINITY;
          dropAll();
        }
        return;
      }
      client.write(chunk);
    });
  });
  const proxy: TrapProxy = {
    port: 0,
    refuse: 0,
    refused: 0,
    pairs,
    close: () => {
      for (const pair of pairs) pair.client.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

let direct: Cluster;
const natMap: Record<string, { host: string; port: number }> = {};
beforeAll(async () => {
  for (const node of NODES) {
    const p = await startTrapProxy(node);
    proxies.push(p);
    natMap[`${node.host}:${node.port}`] = { host: '127.0.0.1', port: p.port };
  }
  direct = new Cluster(NODES, { lazyConnect: true });
  await direct.connect();
});
afterAll(async () => {
  await direct?.quit();
  for (const p of proxies) await p.close();
});
afterEach(async () => {
  trap = undefined;
  await closeAll();
});

const proxyNodes = () => proxies.map((p) => ({ host: '127.0.0.1', port: p.port }));

/** Our client through the proxies (every node address CLUSTER SLOTS answers goes through its proxy). */
function clusterHandle(name: string) {
  return redisCluster({ name, nodes: proxyNodes(), options: { natMap } });
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
  const plain = new Cluster(proxyNodes(), {
    natMap,
    lazyConnect: true,
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false },
  });
  await plain.connect();
  return plain;
}

/** The proxy in front of the master serving `key`'s slot. */
async function proxyOf(key: string): Promise<TrapProxy> {
  const slot = Number(await direct.cluster('KEYSLOT', key));
  const range = (await direct.cluster('SLOTS')).find(([from, to]) => from <= slot && slot <= to)!;
  return proxies[NODES.findIndex((n) => n.port === range[2]![1])]!;
}

async function once(main: ReturnType<typeof app>, key: string) {
  try {
    return { ok: true as const, value: await main.invoke({ key }, { deadline: Date.now() + 20_000 }) };
  } catch (err) {
    return { ok: false as const, code: (err as { code?: string }).code };
  }
}

const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (err: unknown) => ({ err: err as Error }),
  );

describe('plain ioredis Cluster: an INCR applied, its reply lost with its node connection', () => {
  afterEach(() => {
    refusing = 0;
  });

  it('the Cluster stays ready: its failover retry (retryDelayOnFailover) sends the INCR again — applied twice', async () => {
    const plain = await plainCluster();
    try {
      const key = `review-resend:${randomUUID()}`;
      const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
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
      const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
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
      const sprung = (trap = { marker: Buffer.from(key), all: true, sprung: 0 });
      const { err } = (await settle(plain.incr(key))) as { err?: Error };
      expect(sprung.sprung).toBe(1);
      expect(err?.message).toMatch(/^Cluster isn't ready/);
      refusing = 0;
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
  afterEach(() => {
    refusing = 0;
    for (const p of proxies) p.refuse = 0;
  });

  it('the client rejects it at once with ReplyLostError: a connection error, not proof it was unsent; applied once', async () => {
    const handle = clusterHandle('resend-client');
    const cluster = await handle.get();
    const key = `review-resend:${randomUUID()}`;
    const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
    const { err } = (await settle(cluster.incr(key))) as { err?: Error };
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
    const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
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
    const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
    expect(await once(main, key)).toEqual({ ok: false, code: 'CONNECTION_LOST' });
    expect(sprung.sprung).toBe(1);
    expect(await direct.get(key)).toBe('1');
    expect(await once(main, `${key}:after`)).toEqual({ ok: true, value: 1 });
  }, 30_000);

  it('through ctx, every node then unreachable: CONNECTION_LOST (not resent), and the next invocation works', async () => {
    const main = app('resend-unreachable');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: 1 });
    const key = `review-resend:${randomUUID()}`;
    const sprung = (trap = { marker: Buffer.from(key), all: true, sprung: 0 });
    const outcome = await once(main, key);
    expect(sprung.sprung).toBe(1);
    // Not CONNECTION_UNAVAILABLE: that is a resend that could not reconnect.
    expect(outcome).toEqual({ ok: false, code: 'CONNECTION_LOST' });
    refusing = 0;
    expect(await direct.get(key)).toBe('1');
    expect(await once(main, `${key}:after`)).toEqual({ ok: true, value: 1 });
  }, 30_000);

  it('through ctx, a GET whose reply is lost is a read: the handle sends it once more and answers', async () => {
    const key = `review-resend:${randomUUID()}`;
    await direct.set(key, 'v');
    const main = app('resend-read', 'get');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: null });
    const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
    expect(await once(main, key)).toEqual({ ok: true, value: 'v' });
    expect(sprung.sprung).toBe(1);
    expect(main.handle.stats.retries).toBe(1);
  }, 30_000);

  it("a QUIT whose reply is lost is not a lost write: the Cluster's quit() still resolves OK", async () => {
    const handle = clusterHandle('resend-quit');
    const cluster = await handle.get();
    // A connection to every master, so each gets a QUIT.
    await Promise.all(cluster.nodes('master').map((node) => node.ping()));
    const sprung = (trap = { marker: Buffer.from('quit'), all: false, sprung: 0 });
    expect(await cluster.quit()).toBe('OK');
    expect(sprung.sprung).toBe(1);
  }, 30_000);

  it('a command not yet written when its node connection fails is still sent by the failover retry, once', async () => {
    const handle = clusterHandle('resend-unwritten');
    const cluster = await handle.get();
    // A key on a master this new client has no connection to yet: its INCR waits in that node
    // connection's offline queue while it connects, and the connect is dropped.
    let key = '';
    let target: TrapProxy | undefined;
    for (let i = 0; i < 50 && target === undefined; i++) {
      key = `review-resend:${randomUUID()}`;
      const p = await proxyOf(key);
      if (p.pairs.size === 0) target = p;
    }
    expect(target).toBeDefined();
    target!.refuse = 1;
    expect(await cluster.incr(key)).toBe(1);
    expect(target!.refused).toBeGreaterThanOrEqual(1);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);
});
