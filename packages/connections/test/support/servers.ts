/**
 * Throwaway servers owned by one test file: a redis-server and a FerretDB on free loopback
 * ports, which the test may stop and start again without touching the shared services.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../../test/services/env.js';

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
  /** Stops the process (SIGKILL: no goodbye to clients, like a crash or a network cut). */
  stop(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): the kernel still accepts connections into the backlog,
   * but nothing answers — an outage as a client sees it (a hung server, a partition).
   */
  freeze(): void;
  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

function ownServer(port: number, launch: () => ChildProcess, dir: string, ready: () => Promise<boolean>, what: string): OwnServer {
  let child: ChildProcess | undefined;
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
    child = launch();
    child.once('exit', () => (child = undefined));
    await until(ready, what);
  };
  return {
    port,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async dispose() {
      child?.kill('SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server on a free port with no persistence. `args` adds config (e.g. `--maxclients 12`). */
export async function startRedis(args: string[] = []): Promise<OwnServer & { url: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-redis-'));
  const launch = (): ChildProcess =>
    spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, ...args], {
      stdio: 'ignore',
    });
  const server = ownServer(port, launch, dir, () => canConnect(port), `redis-server :${port}`);
  await server.start();
  return Object.assign(server, { url: `redis://127.0.0.1:${port}` });
}

const FERRETDB_BIN = join(repoRoot, '.services', 'bin', 'ferretdb-local');

export function ferretdbAvailable(): boolean {
  return existsSync(FERRETDB_BIN);
}

/** A FerretDB (the binary built by test/services/services.sh) on a free port with its own SQLite dir. */
export async function startFerretDB(): Promise<OwnServer & { uri: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'steadyfn-ferretdb-'));
  const launch = (): ChildProcess => spawn(FERRETDB_BIN, ['-listen', `127.0.0.1:${port}`, '-dir', dir], { stdio: 'ignore' });
  const server = ownServer(port, launch, dir, () => canConnect(port), `ferretdb :${port}`);
  await server.start();
  return Object.assign(server, { uri: `mongodb://127.0.0.1:${port}/` });
}
