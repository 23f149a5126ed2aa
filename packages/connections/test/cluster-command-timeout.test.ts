/**
 * `redisCluster()` with `redisOptions.commandTimeout` when one node stops answering: ioredis
 * rejects the command with `Command timed out` from that node's connection. It was written and
 * may be applied, so through the handler a write must answer a typed 503 (CONNECTION_LOST) and
 * not be sent again — its INCR applied exactly once — and a read is repeated once, then a
 * typed 503. The single-node case is in review-connection-kinds.test.ts.
 *
 * The real shared Cluster (REDIS_CLUSTER_NODES) is never stopped: each node is reached through
 * a loopback proxy (ioredis `natMap` sends every node address through it) that can go mute —
 * it keeps passing the client's bytes to the node (the node applies the command) and drops
 * every reply, on current and new connections, as a node that hangs after reading would.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler, type SteadyHandler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';

const NODES = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003').split(',').map((hp) => {
  const [host, port] = hp.split(':');
  return { host: host!, port: Number(port) };
});

interface MuteProxy {
  port: number;
  /** Replies from the node are dropped (requests still reach it). */
  muted: boolean;
  close(): Promise<void>;
}

async function startMuteProxy(target: { host: string; port: number }): Promise<MuteProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (!proxy.muted) client.write(chunk);
    });
  });
  const proxy: MuteProxy = {
    port: 0,
    muted: false,
    close: () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

const proxies: MuteProxy[] = [];
const natMap: Record<string, { host: string; port: number }> = {};
let direct: Cluster;

beforeAll(async () => {
  for (const node of NODES) {
    const p = await startMuteProxy(node);
    proxies.push(p);
    natMap[`${node.host}:${node.port}`] = { host: '127.0.0.1', port: p.port };
  }
  direct = new Cluster(NODES, { lazyConnect: true });
  await direct.connect();
});
afterEach(async () => {
  for (const p of proxies) p.muted = false;
  await closeAll();
});
afterAll(async () => {
  await direct?.quit();
  for (const p of proxies) await p.close();
});

/** The proxy in front of the master serving `key`'s slot. */
async function proxyOf(key: string): Promise<MuteProxy> {
  const slot = Number(await direct.cluster('KEYSLOT', key));
  const range = (await direct.cluster('SLOTS')).find(([from, to]) => from <= slot && slot <= to)!;
  return proxies[NODES.findIndex((n) => n.port === range[2]![1])]!;
}

type Op = { op: 'incr' | 'get'; key: string };

function lambdaContext(ms: number) {
  const deadline = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
}

/** An HTTP invocation through the Lambda adapter (API Gateway v2 event), 8 s from its deadline. */
async function call(main: SteadyHandler, input: Op): Promise<{ status: number; code: string | undefined; body: unknown }> {
  const res = (await main.aws(apiGatewayV2(input), lambdaContext(8_000))) as { statusCode: number; body: string };
  // A JSON body (a number, an error) or, for a string result, the text itself.
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // text
  }
  return { status: res.statusCode, code: (body as { code?: string } | null)?.code, body };
}

function app() {
  const handle = redisCluster({
    name: `cluster-timeout-${randomUUID()}`,
    nodes: proxies.map((p) => ({ host: '127.0.0.1', port: p.port })),
    options: { natMap, redisOptions: { commandTimeout: 300 } },
  });
  const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (raw: unknown, ctx) => {
    const input = raw as Op;
    return input.op === 'incr' ? ctx.redisCluster.incr(input.key) : ctx.redisCluster.get(input.key);
  });
  return { handle, main };
}

describe('redisCluster() with redisOptions.commandTimeout: the node of the key stops answering', () => {
  it('a write answers a typed 503 CONNECTION_LOST and is applied once, never resent', async () => {
    const writer = app();
    const key = `cluster-timeout:${randomUUID()}`;
    expect(await call(writer.main, { op: 'incr', key })).toMatchObject({ status: 200, body: 1 });

    const node = await proxyOf(key);
    node.muted = true;
    const write = await call(writer.main, { op: 'incr', key });
    node.muted = false;
    expect(write).toMatchObject({ status: 503, code: 'CONNECTION_LOST' });
    expect(writer.handle.stats.retries, 'the write was not repeated').toBe(0);
    // The node read the INCR and applied it; nothing sent it again.
    expect(await direct.get(key)).toBe('2');

    // The node answers again: the next invocation works and sees the count applied once.
    expect(await call(writer.main, { op: 'incr', key })).toMatchObject({ status: 200, body: 3 });
    expect(await direct.get(key)).toBe('3');
  }, 60_000);

  it('a read is repeated once, then answers a typed 503 CONNECTION_LOST', async () => {
    const reader = app();
    const key = `cluster-timeout:${randomUUID()}`;
    await direct.set(key, 'v');
    expect(await call(reader.main, { op: 'get', key })).toMatchObject({ status: 200, body: 'v' });

    const node = await proxyOf(key);
    node.muted = true;
    const read = await call(reader.main, { op: 'get', key });
    node.muted = false;
    // Repeated once on a rebuilt client (the Cluster's other nodes answer, so it connects),
    // whose GET times out on the same node again.
    expect(read).toMatchObject({ status: 503, code: 'CONNECTION_LOST' });
    expect(reader.handle.stats.retries, 'the read was repeated once').toBe(1);
    expect(await call(reader.main, { op: 'get', key })).toMatchObject({ status: 200, body: 'v' });
  }, 60_000);
});
