/**
 * Two driver errors that mean "no answer from the server", which `isConnectionError` did not
 * count, so they reached the HTTP caller raw — an untyped 500 INTERNAL — where a typed 503
 * (CONNECTION_LOST / CONNECTION_UNAVAILABLE, retryable) was due:
 *
 * - an ioredis `commandTimeout` (`Command timed out`; the README's own `redis()` example sets
 *   one) against a redis-server stopped with SIGSTOP (it accepts and never answers). The command
 *   was written and may be applied: a write must fail typed and NOT be sent again — its INCR is
 *   applied exactly once when the server runs again — and a read is repeated once.
 * - a `redisCluster()` whose every node dies under a warm client. With the profile's
 *   `clusterRetryStrategy` the command fails as a closed connection (typed before too); with a
 *   `clusterRetryStrategy` that gives up at once, ioredis' failover retry of the command finds
 *   the Cluster ended and rejects it with `AbortError: Cluster is ended.` (500 INTERNAL before).
 *
 * Private servers (startRedis, startRedisCluster): the shared ones are never stopped.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type ClusterOptions } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handler, type SteadyHandler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redis, redisCluster } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { startRedis, startRedisCluster, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

function lambdaContext(ms: number) {
  const deadline = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
}

type Op = { op: 'incr' | 'get'; key: string; killAll?: boolean };

interface Answer {
  status: number;
  code: string | undefined;
}

let server: (OwnServer & { url: string }) | undefined;

afterEach(async () => {
  server?.thaw();
  await closeAll();
});
afterAll(async () => {
  await server?.dispose();
});

/** An HTTP invocation through the Lambda adapter (API Gateway v2 event), 8 s from its deadline. */
async function call(main: SteadyHandler, input: Op): Promise<Answer> {
  const res = (await main.aws(apiGatewayV2(input), lambdaContext(8_000))) as { statusCode: number; body: string };
  return { status: res.statusCode, code: (JSON.parse(res.body) as { code?: string }).code };
}

const TYPED = ['CONNECTION_LOST', 'CONNECTION_UNAVAILABLE'];

describe('ioredis commandTimeout: a server that stops answering', () => {
  it('redis(): a write answers a typed 503 and is applied once, never resent; a read is repeated once, then a typed 503', async () => {
    server = await startRedis();
    // Two warm instances: after its timeout a client is distrusted, and the next invocation's
    // thaw check would find the server frozen before the function runs.
    const app = () => {
      const handle = redis({ name: `kinds-timeout-${randomUUID()}`, url: server!.url, options: { commandTimeout: 300 } });
      const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, (raw: unknown, ctx) => {
        const input = raw as Op;
        return input.op === 'incr' ? ctx.redis.incr(input.key) : ctx.redis.get(input.key);
      },
      );
      return { handle, main };
    };
    const writer = app();
    const reader = app();
    const key = `kinds:${randomUUID()}`;
    expect(await call(writer.main, { op: 'incr', key })).toMatchObject({ status: 200 });
    expect(await call(reader.main, { op: 'get', key })).toMatchObject({ status: 200 });

    server.freeze();
    const write = await call(writer.main, { op: 'incr', key });
    const read = await call(reader.main, { op: 'get', key });
    server.thaw();
    // Before: both were { status: 500, code: 'INTERNAL' }.
    expect(write).toEqual({ status: 503, code: 'CONNECTION_LOST' });
    expect(writer.handle.stats.retries, 'the write was not repeated').toBe(0);
    // The repeat needs the client rebuilt, which the frozen server cannot answer.
    expect(read).toEqual({ status: 503, code: 'CONNECTION_UNAVAILABLE' });
    expect(reader.handle.stats.retries, 'the read was repeated once').toBe(1);

    // The timed-out INCR was written: the server applies it when it runs again — once.
    const probe = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await eventually(async () => (await probe.get(key)) !== '1', 5_000, 50);
      expect(await probe.get(key)).toBe('2');
    } finally {
      probe.disconnect();
    }
  }, 60_000);
});

describe('redisCluster(): every node dies under a warm client', () => {
  it.each<[string, ClusterOptions | undefined]>([
    ['the profile (clusterRetryStrategy retries, then gives up)', undefined],
    ['clusterRetryStrategy that gives up at once (failover retry finds "Cluster is ended.")', { clusterRetryStrategy: () => null }],
  ])('%s: the write answers a typed 503', async (_name, options) => {
    const cluster = await startRedisCluster();
    try {
      const handle = redisCluster({ name: `kinds-down-${randomUUID()}`, nodes: cluster.nodes, ...(options ? { options } : {}) });
      const main = handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (raw: unknown, ctx) => {
        const input = raw as Op;
        // Killed after the warm client passed its checks: the command meets the dying Cluster.
        if (input.killAll) await Promise.all(cluster.ports.map((port) => cluster.kill(port)));
        return input.op === 'incr' ? ctx.redisCluster.incr(input.key) : ctx.redisCluster.get(input.key);
      });
      const key = `kinds:${randomUUID()}`;
      expect(await call(main, { op: 'incr', key })).toMatchObject({ status: 200 });
      const write = await call(main, { op: 'incr', key, killAll: true });
      expect(write.status, JSON.stringify(write)).toBe(503);
      expect(TYPED).toContain(write.code);
      // The next invocation, every node still down: the client is rebuilt and cannot connect.
      expect(await call(main, { op: 'get', key })).toEqual({ status: 503, code: 'CONNECTION_UNAVAILABLE' });
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
