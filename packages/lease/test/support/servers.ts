/**
 * Servers of a test file's own, for storms and kill -9 tests that must not disturb the shared
 * services: a FerretDB and a redis-server (from the connections tests' helper) and a 3-master
 * Redis Cluster, each on free loopback ports, stopped by pid afterwards.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../../connections/test/support/servers.js';

export { ferretdbAvailable, startFerretDB, startRedis, type OwnServer } from '../../../connections/test/support/servers.js';

const run = promisify(execFile);

export interface OwnCluster {
  nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

/** Three cluster-enabled redis-servers joined into one cluster (no replicas). */
export async function startRedisCluster(): Promise<OwnCluster> {
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    if (port + 10000 < 65536 && !ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-cluster-'));
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPing(port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await waitForClusterOk(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}

async function waitForPing(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server :${port} did not answer`);
}

async function waitForClusterOk(port: number): Promise<void> {
  const probe = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    for (let i = 0; i < 200; i++) {
      const info = String(await probe.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`cluster node :${port} did not reach cluster_state:ok`);
  } finally {
    probe.disconnect();
  }
}
