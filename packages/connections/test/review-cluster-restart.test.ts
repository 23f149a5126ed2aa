/**
 * A Redis Cluster node restarted under a warm `redisCluster()` client (a patch, an OOM kill) —
 * the cluster stays in one piece, but the client's socket to that node is dead. The next
 * invocations, within the idle threshold (no thaw check) and past it (thaw check), must answer
 * within the provider's deadline: a read repeated once on a repaired client, a write either
 * applied or refused with a retryable error — never a hang. No clock is read: an answer other
 * than 504 came before the handler's deadline answer, and the function reports whether its
 * `ctx.signal` (aborted at the deadline minus the margin) had aborted when its commands settled.
 * The file's own 3-master cluster (the shared one must not be restarted).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
// The lease tests' own cluster (three masters on free ports), whose nodes can be restarted.
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';

function lambdaContext(ms: number) {
  const deadline = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
}

let cluster: OwnCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});
afterEach(async () => {
  await closeAll();
});

/** Keys spread over the masters (12 keys: each master holds some, checked by the restart of each one answering). */
const KEYS = Array.from({ length: 12 }, (_, i) => `conn-restart:${i}`);

describe('redisCluster(): a node restarted between warm invocations', () => {
  const app = (idleThresholdMs: number) => {
    const handle = redisCluster({ nodes: cluster.nodes, name: `restart-${idleThresholdMs}`, idleThresholdMs });
    return handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { write } = (input ?? {}) as { write?: boolean };
      const values = await Promise.all(KEYS.map((k) => (write ? ctx.redisCluster.set(k, 'v') : ctx.redisCluster.get(k))));
      // Past the deadline the handler has answered 504 already; this says the commands settled before it.
      return { values, late: ctx.signal.aborted };
    });
  };

  const invoke = async (main: ReturnType<typeof app>, write: boolean, deadlineMs: number) => {
    const res = (await main.aws(apiGatewayV2({ write }), lambdaContext(deadlineMs))) as { statusCode: number; body: string };
    const body = JSON.parse(res.body) as { code?: string; late?: boolean };
    return { status: res.statusCode, code: body.code, late: body.late };
  };

  it.each([
    ['within the idle threshold (no thaw check): reads are repeated on a repaired client', 600_000],
    ['past the idle threshold (thaw check pings every master)', 0],
  ])('%s', async (_label, idleThresholdMs) => {
    const main = app(idleThresholdMs);
    expect(await invoke(main, true, 5_000)).toMatchObject({ status: 200 });
    for (const port of cluster.ports) {
      await cluster.restart(port);
      // 200, not 504: answered before the 3 s deadline (less the margin), the read repeated on a repaired client.
      const read = await invoke(main, false, 3_000);
      expect(read, `read after :${port} restarted`).toMatchObject({ status: 200, late: false });
      const write = await invoke(main, true, 3_000);
      // A write is not repeated blindly: applied (before the deadline), or a retryable 503 — never the 504 of a hang.
      if (write.status === 200) expect(write.late).toBe(false);
      else expect(write).toMatchObject({ status: 503 });
      console.log(`after :${port} restarted: read ${read.status}, write ${write.status} ${write.code ?? ''}`);
      expect(await invoke(main, true, 3_000)).toMatchObject({ status: 200 });
    }
  }, 120_000);
});
