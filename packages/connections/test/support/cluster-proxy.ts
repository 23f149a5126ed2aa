/**
 * The real shared Redis Cluster (REDIS_CLUSTER_NODES) reached through one loopback TCP proxy per
 * node: ioredis' `natMap` sends every node address CLUSTER SLOTS answers through its proxy, so a
 * test can break one node's connections (or all of them) while the Cluster itself is never
 * stopped. The fault controls:
 *
 * - `refuse` (one proxy) / `refusing` (every proxy): new connections are dropped at once, the
 *   node unreachable for them;
 * - `tripOn(proxy)`: the next connection to that proxy is dropped, and with it every connection
 *   of every proxy; then `refusing`;
 * - `delayMs` (one proxy): a new connection reaches the node only that many ms after it was
 *   accepted (its bytes held until then): a node connection whose handshake is slow;
 * - `muted` (one proxy): the node's replies are dropped while the client's bytes still reach it,
 *   on current and new connections (a node that hangs after reading);
 * - `trap(marker)`: the next connection that sends `marker` is dropped when the node answers it
 *   (the command applied, its reply lost); `all`: every connection is then dropped and `refusing`;
 * - `dropAll()`: every current connection of every proxy is dropped.
 *
 * Also a Cluster connected straight to the nodes (`direct`), to read what the servers hold.
 * `useClusterProxies()` registers the file's hooks: started before its tests, every fault
 * cleared and every handle closed (`closeAll`) after each, all closed after the last.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { clusterNodes } from '../../../../test/support/redis.js';
import { closeAll } from '../../src/index.js';

type Address = { host: string; port: number };

/** One proxy in front of one Cluster node. */
export interface ClusterNodeProxy {
  /** The node it forwards to. */
  readonly node: Address;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its current connections (client ↔ node). */
  readonly connections: number;
  /** How many new connections this proxy still drops at once (its node unreachable for them). */
  refuse: number;
  /** How many new connections it dropped at once (for `refuse`, `refusing` or a trip). */
  readonly refused: number;
  /** Replies from the node are dropped (requests still reach it). */
  muted: boolean;
  /** A new connection is accepted at once but reaches the node only this many ms later (its bytes held until then); 0 (the default): at once. */
  delayMs: number;
}

/** An armed `trap`: `sprung` counts the connections it dropped (0 or 1). */
export interface Trap {
  readonly sprung: number;
}

/** An armed `tripOn`: `tripped` counts the connections that tripped it (0 or 1). */
export interface Trip {
  readonly tripped: number;
}

export interface ClusterProxies {
  /** One proxy a node, in the order of REDIS_CLUSTER_NODES. */
  readonly proxies: readonly ClusterNodeProxy[];
  /** The proxies' addresses, as seed nodes for a Cluster. */
  readonly nodes: Address[];
  /** For ioredis' `natMap` option: every node address → its proxy. */
  readonly natMap: Record<string, Address>;
  /** A Cluster connected to the nodes themselves, not through the proxies. */
  readonly direct: Cluster;
  /** While true, every new connection to any proxy is dropped at once (the nodes unreachable). */
  refusing: boolean;
  /**
   * Connection losses no fault control made (a node closing its side first, a socket error), as
   * `"<proxy port>: <what>"`, since the last `reset()`: a test that expects the nodes reachable
   * names them in its failure message, so a loss from outside the test is told from a client's.
   */
  readonly unplanned: readonly string[];
  /**
   * The next connection (of any proxy) that sends a chunk containing `marker` is dropped, client
   * and node side, when the node next answers on it: the command was applied, its reply never
   * arrives. `all`: every connection of every proxy is then dropped too, and `refusing` set.
   * Replaces a trap armed before.
   */
  trap(marker: string, options?: { all?: boolean }): Trap;
  /** The next connection to `proxy` is dropped, and with it every connection of every proxy; then `refusing`. */
  tripOn(proxy: ClusterNodeProxy): Trip;
  /** Drops every current connection of every proxy. */
  dropAll(): void;
  /** The proxy in front of the master serving `key`'s slot. */
  proxyOf(key: string): Promise<ClusterNodeProxy>;
  /** Clears every fault: no trap, no trip, not refusing, no proxy refusing, muted or delaying. */
  reset(): void;
  /** Quits `direct`, drops every connection and closes the proxies (`useClusterProxies` calls it after the file's tests). */
  close(): Promise<void>;
}

type Pair = { client: Socket; upstream: Socket };
type NodeProxy = ClusterNodeProxy & { pairs: Set<Pair>; server: Server; refused: number };

/**
 * Call at the top of a test file. The proxies, `nodes`, `natMap` and `direct` are ready once its
 * `beforeAll` ran (in the tests and their hooks).
 */
export function useClusterProxies(): ClusterProxies {
  const net = clusterProxies();
  beforeAll(() => net.start());
  afterEach(async () => {
    net.reset();
    await closeAll();
  });
  afterAll(() => net.close());
  return net;
}

function clusterProxies(): ClusterProxies & { start(): Promise<void> } {
  const targets = clusterNodes(process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003');
  const proxies: NodeProxy[] = [];
  let trap: { marker: Buffer; all: boolean; sprung: number } | undefined;
  let trip: { proxy: ClusterNodeProxy; tripped: number } | undefined;

  const unplanned: string[] = [];
  /** Sockets a fault control destroyed: their closing is planned. */
  const planned = new WeakSet<Socket>();
  const drop = (pair: Pair): void => {
    planned.add(pair.client).add(pair.upstream);
    pair.client.destroy();
    pair.upstream.destroy();
  };
  const dropAll = (): void => {
    for (const p of proxies) for (const pair of p.pairs) drop(pair);
  };

  const startNodeProxy = async (node: Address): Promise<NodeProxy> => {
    const pairs = new Set<Pair>();
    const server: Server = createServer((client) => {
      if (trip?.proxy === proxy) {
        trip.tripped++;
        trip = undefined;
        set.refusing = true;
        dropAll();
      }
      if (set.refusing || proxy.refuse > 0) {
        if (!set.refusing) proxy.refuse--;
        proxy.refused++;
        client.destroy();
        return;
      }
      if (proxy.delayMs > 0) {
        // Accepted (the client's connect succeeds) but silent: its bytes wait, unread, until the node is reached.
        client.pause();
        client.on('error', () => undefined);
        const timer = setTimeout(() => {
          if (client.destroyed) return;
          pipe(client);
          client.resume();
        }, proxy.delayMs);
        client.on('close', () => clearTimeout(timer));
        return;
      }
      pipe(client);
    });
    /** Forwards `client` to the node, under the fault controls. */
    const pipe = (client: Socket): void => {
      const upstream = connect(node);
      const pair = { client, upstream };
      pairs.add(pair);
      let armed = false;
      // The client's own errors (a reset when it drops a socket) are its doing; the node side's are not.
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (!planned.has(upstream)) unplanned.push(`${proxy.port}: node side error ${err.code ?? err.message}`);
      });
      for (const s of [client, upstream]) {
        s.on('error', () => undefined);
        s.on('close', () => {
          // The node closing first is no client's doing and no fault control's.
          if (s === upstream && !planned.has(upstream) && !client.destroyed) unplanned.push(`${proxy.port}: closed by the node`);
          pairs.delete(pair);
          planned.add(client).add(upstream);
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
          // The node has applied the command and answered: the answer never arrives.
          trap.sprung++;
          const all = trap.all;
          trap = undefined;
          drop(pair);
          if (all) {
            set.refusing = true;
            dropAll();
          }
          return;
        }
        if (!proxy.muted) client.write(chunk);
      });
    };
    const proxy: NodeProxy = {
      node,
      port: 0,
      get connections() {
        return pairs.size;
      },
      refuse: 0,
      refused: 0,
      muted: false,
      delayMs: 0,
      pairs,
      server,
    };
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    (proxy as { port: number }).port = (server.address() as { port: number }).port;
    return proxy;
  };

  const direct = new Cluster(targets, { lazyConnect: true });
  const nodes: Address[] = [];
  const natMap: Record<string, Address> = {};

  const set: ClusterProxies & { start(): Promise<void> } = {
    proxies,
    nodes,
    natMap,
    direct,
    async start() {
      for (const node of targets) {
        const p = await startNodeProxy(node);
        proxies.push(p);
        nodes.push({ host: '127.0.0.1', port: p.port });
        natMap[`${node.host}:${node.port}`] = { host: '127.0.0.1', port: p.port };
      }
      await direct.connect();
    },
    refusing: false,
    unplanned,
    trap(marker, options = {}) {
      const armed = { marker: Buffer.from(marker), all: options.all ?? false, sprung: 0 };
      trap = armed;
      return armed;
    },
    tripOn(proxy) {
      const armed = { proxy, tripped: 0 };
      trip = armed;
      return armed;
    },
    dropAll,
    async proxyOf(key) {
      const slot = Number(await direct.cluster('KEYSLOT', key));
      const range = (await direct.cluster('SLOTS')).find(([from, to]) => from <= slot && slot <= to)!;
      return proxies[targets.findIndex((n) => n.port === range[2]![1])]!;
    },
    reset() {
      trap = undefined;
      trip = undefined;
      set.refusing = false;
      unplanned.length = 0;
      for (const p of proxies) {
        p.refuse = 0;
        p.muted = false;
        p.delayMs = 0;
      }
    },
    async close() {
      if (direct.status === 'ready') await direct.quit();
      else direct.disconnect();
      dropAll();
      for (const p of proxies) await new Promise<void>((resolve) => p.server.close(() => resolve()));
    },
  };
  return set;
}

/** A key (`prefix:<uuid>`) served by a master that has no connection through its proxy yet (a command for it goes to a connecting node connection), and that proxy. */
export async function keyOnUnconnectedMaster(net: ClusterProxies, prefix: string): Promise<{ key: string; proxy: ClusterNodeProxy }> {
  for (let i = 0; i < 100; i++) {
    const key = `${prefix}:${randomUUID()}`;
    const proxy = await net.proxyOf(key);
    if (proxy.connections === 0) return { key, proxy };
  }
  throw new Error('every master already has a connection');
}

/** The error `p` rejects with, or `undefined` when it resolves: a command's outcome read without a try block. */
export function rejectionOf(p: Promise<unknown>): Promise<Error | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
}
