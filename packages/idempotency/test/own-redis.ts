/**
 * A redis-server of this test's own on a free loopback port, so server-side command counts
 * (INFO commandstats, MONITOR) see only this test's traffic. Stopped by pid afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGSTOP: the kernel still accepts connections, nothing answers (an outage a TCP check cannot see). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startOwnRedis(binary = process.env.REDIS_SERVER_BIN ?? 'redis-server'): Promise<OwnRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections while the server starts are expected; connect() reports them.
  probe.on('error', () => undefined);
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('redis-server did not answer');
  })();
  try {
    await Promise.race([ready, failed]);
  } finally {
    probe.disconnect();
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    freeze() {
      if (child.exitCode === null) child.kill('SIGSTOP');
    },
    thaw() {
      if (child.exitCode === null) child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode !== null) return;
      // A frozen server cannot act on SIGTERM until it runs again.
      child.kill('SIGCONT');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Per-command call counts from INFO commandstats (script-internal commands included). */
export async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

export function diffStats(after: Record<string, number>, before: Record<string, number>, ignore: string[] = ['info', 'monitor', 'config|resetstat', 'ping']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    if (ignore.includes(name)) continue;
    const delta = calls - (before[name] ?? 0);
    if (delta > 0) out[name] = delta;
  }
  return out;
}

/**
 * Counts what clients send, on the server: MONITOR reports each command with its source,
 * and commands a Lua script runs come from `lua`, so requests and in-script work separate.
 */
export interface MonitorCounts {
  requests(): number;
  inScript(): number;
  /** Waits until MONITOR has reported everything `client` sent before this call. */
  flush(client: Redis): Promise<void>;
  reset(): void;
  stop(): Promise<void>;
}

export async function monitorCounts(url: string): Promise<MonitorCounts> {
  const monitorClient = new Redis(url);
  const monitor = await monitorClient.monitor();
  let requests = 0;
  let inScript = 0;
  const markers = new Map<string, () => void>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0]).toLowerCase();
    if (name === 'echo') {
      markers.get(String(args[1]))?.();
      return;
    }
    if (name === 'info' || name === 'ping' || name === 'client' || name === 'hello' || name === 'select') return;
    if (source === 'lua') inScript++;
    else requests++;
  });
  return {
    requests: () => requests,
    inScript: () => inScript,
    async flush(client) {
      const marker = `flush-${Math.random().toString(36).slice(2)}`;
      const seen = new Promise<void>((resolve) => markers.set(marker, resolve));
      await client.echo(marker);
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error('MONITOR did not report the marker')), 5000))]);
      markers.delete(marker);
    },
    reset() {
      requests = 0;
      inScript = 0;
    },
    async stop() {
      monitor.disconnect();
      monitorClient.disconnect();
    },
  };
}
