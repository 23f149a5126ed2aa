/**
 * A write through `ctx.redisCluster` whose node connection dies after the server applied it and
 * before the reply came back must not be sent a second time — not by ioredis' own failover retry
 * (`retryDelayOnFailover`, which resends a command rejected with "Connection is closed"), and
 * not by the handle, which treats "Cluster isn't ready" as "never sent": that error is also what
 * ioredis' failover retry rejects a written command with when, 100 ms later, no node is connected.
 *
 * The real shared Cluster (REDIS_CLUSTER_NODES), reached through one loopback proxy per node
 * (ioredis `natMap` sends every node address through its proxy). The proxy forwards the INCR,
 * the server applies it, and the proxy drops the connection instead of passing on the reply:
 * exactly a CLIENT KILL (or a node restart) between apply and reply, without relying on timing.
 * The INCR's counter key says how many times it was applied. Then the proxies refuse every new
 * connection (the nodes unreachable), so the driver's failover retry finds the Cluster not ready.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { isConnectionError, wasNotSent } from '../src/errors.js';
import { redisCluster } from '../src/redis.js';

const NODES = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003').split(',').map((hp) => {
  const [host, port] = hp.split(':');
  return { host: host!, port: Number(port) };
});

/** A proxy in front of one node; `trap(marker, all)`: the next connection that sends `marker` is dropped when the server answers it (`all`: every connection of every proxy is then dropped). */
interface TrapProxy {
  port: number;
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
    if (refusing > 0) {
      refusing--;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    pairs,
    close: () => {
      for (const pair of pairs) pair.client.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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

function app(name: string, options: Record<string, unknown> = {}) {
  const handle = redisCluster({
    name,
    nodes: proxies.map((p) => ({ host: '127.0.0.1', port: p.port })),
    // Every node address CLUSTER SLOTS answers goes through its proxy.
    options: { natMap, ...options },
  });
  return handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (input: unknown, ctx) => ctx.redisCluster.incr((input as { key: string }).key));
}

async function once(main: ReturnType<typeof app>, key: string) {
  try {
    return { ok: true as const, value: await main.invoke({ key }, { deadline: Date.now() + 20_000 }) };
  } catch (err) {
    return { ok: false as const, code: (err as { code?: string }).code };
  }
}

describe('redisCluster(): an INCR applied, its reply lost with the connection', () => {
  afterEach(() => {
    refusing = 0;
  });

  it("every node then unreachable: the driver rejects the applied INCR with \"Cluster isn't ready\", which does not prove it unsent", async () => {
    const handle = redisCluster({ name: 'resend-driver', nodes: proxies.map((p) => ({ host: '127.0.0.1', port: p.port })), options: { natMap } });
    const cluster = await handle.get();
    const key = `review-resend:${randomUUID()}`;
    const sprung = (trap = { marker: Buffer.from(key), all: true, sprung: 0 });
    const err = await cluster.incr(key).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(sprung.sprung).toBe(1);
    expect(err?.message).toMatch(/^Cluster isn't ready/);
    // The server applied it.
    expect(await direct.get(key)).toBe('1');
    expect(isConnectionError(err)).toBe(true);
    expect(wasNotSent(err)).toBe(false);
  }, 30_000);

  it('through ctx: the handle does not send it again (CONNECTION_LOST), and the next invocation works', async () => {
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

  // Known, not fixed (packages/connections/README.md, the Redis Cluster resend note): ioredis' own failover retry (`retryDelayOnFailover`, 100 ms
  // by default) resends a command whose node connection closed under it while the Cluster is
  // still (or again) ready, applied or not; turning it off in the profile makes cold concurrent
  // writes fail (ioredis 6 recreates a connection on a MOVED that points back at it, closing the
  // commands in flight on it, and relies on that retry to resend them).
  it.skip('only its node connection dies (the Cluster stays ready): applied once — fails: ioredis resends it itself (retryDelayOnFailover)', async () => {
    const main = app('resend-one');
    expect(await once(main, `review-resend:{warm}:${randomUUID()}`)).toEqual({ ok: true, value: 1 });
    const key = `review-resend:${randomUUID()}`;
    const sprung = (trap = { marker: Buffer.from(key), all: false, sprung: 0 });
    await once(main, key);
    expect(sprung.sprung).toBe(1);
    expect(await direct.get(key)).toBe('1');
  }, 30_000);
});
