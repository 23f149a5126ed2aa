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
import { describe, expect, it } from 'vitest';
import { handler, type SteadyHandler } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { useClusterProxies } from './support/cluster-proxy.js';

/** The proxies: `muted` on one drops its node's replies while the node still reads every request. */
const net = useClusterProxies();
const { direct } = net;

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
    nodes: net.nodes,
    options: { natMap: net.natMap, redisOptions: { commandTimeout: 300 } },
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

    const node = await net.proxyOf(key);
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

    const node = await net.proxyOf(key);
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
