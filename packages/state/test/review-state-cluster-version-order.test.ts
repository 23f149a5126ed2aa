/**
 * Review: `redisKey({ versionKey })` on a Redis Cluster whose two keys have no common hash tag
 * (so they live on different nodes). The README promises the version is read **before** the
 * value ("the value is never older than the version kept with it"); with both GETs sent at
 * once to two nodes, the value's node can answer first. A writer that changes the value and
 * bumps the version in between leaves the old value cached under the new version, and every
 * later revalidation finds that version unchanged: the change is missed until the next write.
 *
 * The version's node sits a network away (a proxy holding its bytes 400 ms each way, through
 * ioredis `natMap`); the writer writes as soon as the value's node has answered the load's GET.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineState, redisKey } from '../src/index.js';
import { clusterNodes } from '../../../test/support/redis.js';
import { eventually } from '../../../test/support/wait.js';
import { logLines, manualClock, unique } from './support.js';

interface Observed {
  port: number;
  /** Everything the node sent back, as text. */
  replies: string;
  delayMs: number;
  close(): Promise<void>;
}

/** A loopback proxy to one node: holds every chunk `delayMs` in each direction (order kept), and keeps the replies' text. */
async function observedProxy(host: string, port: number): Promise<Observed> {
  const sockets = new Set<Socket>();
  const observed: Observed = { port: 0, replies: '', delayMs: 0, close: async () => undefined };
  const forward = (from: Socket, to: Socket, replies: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      const send = () => {
        if (replies) observed.replies += chunk.toString('latin1');
        if (!to.destroyed) to.write(chunk);
      };
      if (observed.delayMs > 0) setTimeout(send, observed.delayMs);
      else send();
    });
  };
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    forward(inbound, outbound, false);
    forward(outbound, inbound, true);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  observed.port = (server.address() as { port: number }).port;
  observed.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return observed;
}

const nodes = clusterNodes();
let direct: Cluster;
let viaProxies: Cluster;
const proxies = new Map<string, Observed>();

beforeAll(async () => {
  direct = new Cluster(nodes, { clusterRetryStrategy: () => null });
  for (const node of nodes) proxies.set(`${node.host}:${node.port}`, await observedProxy(node.host, node.port));
  const natMap = Object.fromEntries([...proxies].map(([address, proxy]) => [address, { host: '127.0.0.1', port: proxy.port }]));
  viaProxies = new Cluster([{ host: '127.0.0.1', port: proxies.values().next().value!.port }], { natMap, clusterRetryStrategy: () => null });
});

afterAll(async () => {
  viaProxies?.disconnect();
  direct?.disconnect();
  for (const proxy of proxies.values()) await proxy.close();
});

/** The `host:port` of the master serving `key`. */
async function nodeOf(key: string): Promise<string> {
  const slot = Number(await direct.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await direct.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  const [, , [host, port]] = slots.find(([from, to]) => slot >= from && slot <= to)!;
  return `${host}:${port}`;
}

describe('redisKey({ versionKey }) on a Redis Cluster, the two keys on different nodes', () => {
  it('a write between the reads of value and version is not missed: the next revalidation loads it', async () => {
    const base = unique('cluster-order');
    // Keys without a hash tag: pick a pair that lives on two nodes.
    let key = '';
    let versionKey = '';
    for (let i = 0; ; i++) {
      key = `${base}:config:${i}`;
      versionKey = `${base}:config:${i}:v`;
      if ((await nodeOf(key)) !== (await nodeOf(versionKey))) break;
    }
    const versionNode = proxies.get(await nodeOf(versionKey))!;
    const keyNode = proxies.get(await nodeOf(key))!;
    await direct.set(key, JSON.stringify({ n: 1 }));
    await direct.set(versionKey, '1');
    // Connected to every node before the version's node is put a network away.
    await Promise.all([viaProxies.get(key), viaProxies.get(versionKey)]);

    const clock = manualClock();
    const cache = defineState({
      sources: { config: redisKey({ client: viaProxies, key, versionKey }) },
      schema: z.object({ config: z.object({ n: z.number() }) }),
      maxAgeMs: 1_000,
      now: clock.now,
      logger: logLines().logger,
    });

    versionNode.delayMs = 400;
    keyNode.replies = '';
    const first = cache.get();
    // The writer changes the value and bumps the version once the value's node has answered.
    await eventually(() => keyNode.replies.includes('{"n":1}'));
    await direct.set(key, JSON.stringify({ n: 2 }));
    await direct.incr(versionKey);
    const loaded = await first;
    versionNode.delayMs = 0;
    // Whatever the load saw, the version kept with it is never newer than its value.
    const kept = cache.status().versions.config;
    expect(kept === '1' || loaded.config.n === 2, `value ${loaded.config.n} kept under version ${String(kept)}`).toBe(true);

    clock.advance(2_000);
    expect(await cache.get()).toEqual({ config: { n: 2 } });
  });
});
