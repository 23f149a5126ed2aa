/**
 * `redisCluster()` pointed at a standalone Redis (cluster-enabled no): every node answers
 * CLUSTER SLOTS with `ERR This instance has cluster support disabled`. No retry can fix that, yet
 * it was a retryable `CONNECTION_UNAVAILABLE` whose log showed only `ClusterAllFailedError` — a
 * queue redelivered the message until its DLQ. It is a configuration error: terminal
 * `CONFIG_INVALID` naming `nodes`, saying what the server answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';

const standalone = new URL(process.env.REDIS_URL!);
afterEach(closeAll);

async function run(cache: ReturnType<typeof redisCluster>, lines: string[]): Promise<unknown> {
  const main = handler({ use: [connections({ cache })], logSink: (l) => lines.push(l), logLevel: 'error' }, async (_input: unknown, ctx) => ctx.cache.get('review-cluster-standalone'));
  return main.invoke({}).catch((e: unknown) => e);
}

describe('redisCluster() on a standalone server', () => {
  it('is a terminal CONFIG_INVALID naming nodes, and the log says cluster support is disabled', async () => {
    const lines: string[] = [];
    const outcome = await run(redisCluster({ name: 'review-cluster-standalone', nodes: [{ host: standalone.hostname, port: Number(standalone.port) }] }), lines);
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    expect(lines.join('\n')).toMatch(/cluster support disabled/);
  });

  it('a real Cluster still connects', async () => {
    const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) }));
    expect(await run(redisCluster({ name: 'review-cluster-real', nodes }), [])).toBeNull();
  });
});
