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
  ports: number[];
  /** Kills the node on `port` (SIGKILL) and starts it again from its nodes.conf (its data is gone); resolves when every node reports cluster_state:ok. */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** Three cluster-enabled redis-servers joined into one cluster (no replicas); each node can be restarted. */
export async function startRedisCluster(): Promise<OwnCluster> {
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    if (port + 10000 < 65536 && !ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-cluster-'));
  const launch = (port: number): ChildProcess =>
    spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
  const children = new Map(ports.map((port) => [port, launch(port)]));
  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    await Promise.all([...children.values()].map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  const restart = async (port: number): Promise<void> => {
    await kill(children.get(port)!);
    children.set(port, launch(port));
    await waitForPing(port);
    for (const p of ports) await waitForClusterOk(p);
  };
  try {
    for (const port of ports) await waitForPing(port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await waitForClusterOk(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), ports, restart, stop };
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
