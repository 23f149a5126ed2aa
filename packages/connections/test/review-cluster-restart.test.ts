/**
 * A Redis Cluster node restarted under a warm `redisCluster()` client (a patch, an OOM kill) —
 * the cluster stays in one piece, but the client's socket to that node is dead. The next
 * invocations, within the idle threshold (no thaw check) and past it (thaw check), must answer
 * within the provider's deadline: a read repeated once on a repaired client, a write either
 * applied or refused with a retryable error — never a hang. The file's own 3-master cluster
 * (the shared one must not be restarted).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redisCluster } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { freePort } from './support/servers.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Three cluster-enabled redis-servers joined into one cluster, each restartable on its port. */
async function ownCluster() {
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (port + 10000 < 65536 && !ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-conn-cluster-'));
  const children = new Map<number, ChildProcess>();
  const launch = (port: number) =>
    children.set(port, spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
  const kill = async (port: number) => {
    const child = children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const clusterOk = async (port: number) => {
    for (let i = 0; i < 200; i++) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        if (String(await probe.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await sleep(50);
    }
    throw new Error(`cluster node :${port} not ok`);
  };
  ports.forEach(launch);
  for (const port of ports) {
    for (let i = 0; i < 100; i++) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      const up = await probe.connect().then(() => true, () => false);
      probe.disconnect();
      if (up) break;
      await sleep(50);
    }
  }
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { timeout: 30_000 });
  for (const port of ports) await clusterOk(port);
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    ports,
    async restart(port: number) {
      await kill(port);
      launch(port);
      for (const p of ports) await clusterOk(p);
    },
    async dispose() {
      for (const port of ports) await kill(port);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function lambdaContext(ms: number) {
  const deadline = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
}

let cluster: Awaited<ReturnType<typeof ownCluster>>;
beforeAll(async () => {
  cluster = await ownCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.dispose();
});
afterEach(async () => {
  await closeAll();
});

/** Keys spread over every master: one per slot range, found by asking each node's slots. */
const KEYS = Array.from({ length: 12 }, (_, i) => `conn-restart:${i}`);

describe('redisCluster(): a node restarted between warm invocations', () => {
  const app = (idleThresholdMs: number) => {
    const handle = redisCluster({ nodes: cluster.nodes, name: `restart-${idleThresholdMs}`, idleThresholdMs });
    return handler({ use: [connections({ redisCluster: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { write } = (input ?? {}) as { write?: boolean };
      if (write) return Promise.all(KEYS.map((k) => ctx.redisCluster.set(k, 'v')));
      return Promise.all(KEYS.map((k) => ctx.redisCluster.get(k)));
    });
  };

  const invoke = async (main: ReturnType<typeof app>, write: boolean, deadlineMs: number) => {
    const started = Date.now();
    const res = (await main.aws(apiGatewayV2({ write }), lambdaContext(deadlineMs))) as { statusCode: number; body: string };
    return { status: res.statusCode, code: (JSON.parse(res.body) as { code?: string }).code, elapsedMs: Date.now() - started };
  };

  it.each([
    ['within the idle threshold (no thaw check): reads are repeated on a repaired client', 600_000],
    ['past the idle threshold (thaw check pings every master)', 0],
  ])('%s', async (_label, idleThresholdMs) => {
    const main = app(idleThresholdMs);
    expect(await invoke(main, true, 5_000)).toMatchObject({ status: 200 });
    for (const port of cluster.ports) {
      await cluster.restart(port);
      const read = await invoke(main, false, 3_000);
      expect(read.elapsedMs).toBeLessThan(3_000);
      expect(read, `read after :${port} restarted`).toMatchObject({ status: 200 });
      const write = await invoke(main, true, 3_000);
      expect(write.elapsedMs).toBeLessThan(3_000);
      // A write is not repeated blindly: applied, or a retryable 503.
      expect([200, 503]).toContain(write.status);
      console.log(`after :${port} restarted: read ${read.status} in ${read.elapsedMs} ms, write ${write.status} ${write.code ?? ""} in ${write.elapsedMs} ms`);
      expect(await invoke(main, true, 3_000)).toMatchObject({ status: 200 });
    }
  }, 120_000);
});
