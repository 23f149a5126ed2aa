/**
 * Throwaway servers owned by one test file, shared by the tests and benches of every package:
 * a redis-server, a FerretDB and a 3-master Redis Cluster on free loopback ports, which the
 * test may stop, kill and start again without touching the shared services (stopped by pid).
 * Their temp folders go when they stop for good, or when the test process ends (temp-dirs.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { repoRoot } from '../services/env.js';
import { killNow, ownTempDir, releaseTempDir } from './temp-dirs.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Polls until `check` passes; bounded by `attempts` × 100 ms. */
async function until(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come up`);
}

export interface OwnServer {
  port: number;
  /** Its temp folder (`--dir`): kept across `stop()`/`start()`, removed by `dispose()` or when the test process ends. */
  readonly dir: string;
  /** Stops the process (SIGKILL: no goodbye to clients, like a crash or a network cut). */
  stop(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP) and returns once it is stopped: the kernel still accepts
   * connections into the backlog, but nothing answers — an outage as a client sees it (a hung
   * server, a partition).
   */
  freeze(): void;
  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its files (also done when the test process ends). */
  dispose(): Promise<void>;
}

/**
 * Whether every thread of process `pid` is stopped (state `T` in /proc/<pid>/task/<tid>/stat).
 * `kill(SIGSTOP)` returns before the threads stop: a request sent right after it can still be
 * answered (a FerretDB just thawed did, and a "frozen server" test read an answer).
 */
function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the command name, which is in parentheses and may hold spaces.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    });
  } catch {
    return false;
  }
}

/** SIGSTOPs `child` and returns once all its threads are stopped (spins at most 2 s; /proc only). */
function freezeNow(child: ChildProcess | undefined): void {
  if (!child?.pid || !child.kill('SIGSTOP') || !existsSync('/proc/self/task')) return;
  const until = Date.now() + 2_000;
  while (!allThreadsStopped(child.pid)) {
    if (Date.now() > until) throw new Error(`process ${child.pid} did not stop within 2 s of SIGSTOP`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
}

/**
 * A server process in its own temp folder `<prefix>…` (`launch(dir)` starts it there). The folder
 * is removed by `dispose`, by a first start that fails, or when the test process ends.
 */
async function ownServer(port: number, prefix: string, launch: (dir: string) => ChildProcess, ready: () => Promise<boolean>, what: string): Promise<OwnServer> {
  let child: ChildProcess | undefined;
  // The last process started, even while `stop` waits for it: the one the folder's removal waits for.
  let last: ChildProcess | undefined;
  const dir = ownTempDir(prefix, () => killNow(last));
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
    await until(async () => !(await canConnect(port)), `${what} shutdown`);
  };
  const start = async (): Promise<void> => {
    if (child) return;
    child = last = launch(dir);
    child.once('exit', () => (child = undefined));
    await until(ready, what);
  };
  const server: OwnServer = {
    port,
    dir,
    stop,
    start,
    freeze: () => freezeNow(child),
    thaw: () => void child?.kill('SIGCONT'),
    async dispose() {
      child?.kill('SIGCONT');
      await stop();
      if (killNow(last)) releaseTempDir(dir);
    },
  };
  try {
    await start();
  } catch (error) {
    // It never served: killed without waiting for its port (which another process may hold).
    if (killNow(last)) releaseTempDir(dir);
    throw error;
  }
  return server;
}

/** A redis-server on a free port with no persistence. `args` adds config (e.g. `--maxclients 12`). */
export async function startRedis(args: string[] = []): Promise<OwnServer & { url: string }> {
  const port = await freePort();
  const launch = (dir: string): ChildProcess =>
    spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, ...args], {
      stdio: 'ignore',
    });
  const server = await ownServer(port, 'steadyfn-redis-', launch, () => canConnect(port), `redis-server :${port}`);
  return Object.assign(server, { url: `redis://127.0.0.1:${port}` });
}

const FERRETDB_BIN = join(repoRoot, '.services', 'bin', 'ferretdb-local');

export function ferretdbAvailable(): boolean {
  return existsSync(FERRETDB_BIN);
}

/** A FerretDB (the binary built by test/services/services.sh) on a free port with its own SQLite dir. */
export async function startFerretDB(): Promise<OwnServer & { uri: string }> {
  const port = await freePort();
  const launch = (dir: string): ChildProcess => spawn(FERRETDB_BIN, ['-listen', `127.0.0.1:${port}`, '-dir', dir], { stdio: 'ignore' });
  const server = await ownServer(port, 'steadyfn-ferretdb-', launch, () => canConnect(port), `ferretdb :${port}`);
  return Object.assign(server, { uri: `mongodb://127.0.0.1:${port}/` });
}

const run = promisify(execFile);

export interface OwnCluster {
  nodes: Array<{ host: string; port: number }>;
  ports: number[];
  /** Kills the node on `port` (SIGKILL) and starts it again from its nodes.conf (its data is gone unless started with AOF); resolves when every node reports cluster_state:ok. */
  restart(port: number): Promise<void>;
  /** Kills the node on `port` (SIGKILL) and leaves it down. */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Three free ports whose cluster bus ports (port + 10000) are free too. */
async function clusterPorts(): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    if (port + 10000 < 65536 && !ports.includes(port) && (await portIsFree(port + 10000))) ports.push(port);
  }
  return ports;
}

/**
 * Three cluster-enabled redis-servers joined into one cluster (no replicas); each node can be
 * restarted; `args` adds config to every node (e.g. `--appendonly yes --appendfsync always`:
 * a restarted node keeps its data). A node that cannot start (its port or bus port taken between the check and the
 * bind, by another test's connection on a loaded machine) makes the whole start again on
 * other ports, up to three times.
 */
export async function startRedisCluster(args: string[] = []): Promise<OwnCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOn(await clusterPorts(), args);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function startClusterOn(ports: number[], args: string[]): Promise<OwnCluster> {
  const children = new Map<number, ChildProcess>();
  const dir = ownTempDir('steadyfn-cluster-', () => [...children.values()].map(killNow).every(Boolean));
  // One directory per node: with AOF on, nodes sharing a --dir share one appendonlydir/ (one
  // manifest, one incr file), so a node loaded the others' writes and a start could exit(1)
  // reading a manifest another node was rewriting (official CI, 2026-12-01).
  for (const port of ports) mkdirSync(join(dir, String(port)));
  const launch = (port: number): ChildProcess =>
    spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no', '--dir', join(dir, String(port)), '--logfile', 'redis.log', ...args],
      { stdio: 'ignore' },
    );
  for (const port of ports) children.set(port, launch(port));
  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    await Promise.all([...children.values()].map(kill));
    releaseTempDir(dir);
  };
  const restart = async (port: number): Promise<void> => {
    await kill(children.get(port)!);
    children.set(port, launch(port));
    await waitForPing(port, children.get(port), join(dir, String(port), 'redis.log'));
    for (const p of ports) await waitForClusterOk(p);
  };
  try {
    for (const port of ports) await waitForPing(port, children.get(port), join(dir, String(port), 'redis.log'));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await waitForClusterOk(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), ports, restart, kill: (port) => kill(children.get(port)!), stop };
}

/** Waits (up to 10 s) until the redis-server on `port` answers PING; fails at once when `child` exited, quoting the end of `logFile`. */
async function waitForPing(port: number, child?: ChildProcess, logFile?: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      // The server's own last log lines say why it exited (a port taken, a bad AOF …).
      const log = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new Error(`redis-server :${port} exited (${child.exitCode ?? child.signalCode}) before answering${log ? `; its log ends:\n${log}` : ''}`);
    }
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
