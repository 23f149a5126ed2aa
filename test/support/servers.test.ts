/**
 * The throwaway servers of test/support/servers.ts: each Redis Cluster node keeps its own files,
 * so a node restarted from its AOF comes back with its own keys and nobody else's; a server's
 * temp folder outlives a stop (a restart reuses it) and goes with the server: on dispose, or
 * when the test process ends without disposing it (its server killed first).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, startRedisCluster, type OwnCluster } from './servers.js';

let cluster: OwnCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function dbsize(port: number): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}

describe('startRedisCluster with AOF', () => {
  it('a node restarted from its AOF loads only its own writes (one directory per node)', async () => {
    cluster = await startRedisCluster(['--appendonly', 'yes', '--appendfsync', 'always']);
    const client = new Redis.Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    try {
      for (let i = 0; i < 60; i++) await client.set(`k${i}`, String(i));
    } finally {
      client.disconnect();
    }
    const before = await Promise.all(cluster.ports.map(dbsize));
    expect(before.reduce((a, b) => a + b, 0)).toBe(60);
    // Each node owns a share of the 60 keys; a shared appendonlydir would make the restarted
    // node load all 60 (every node's appends went to one incr file).
    expect(Math.max(...before)).toBeLessThan(60);
    const port = cluster.ports[0]!;
    await cluster.restart(port);
    expect(await dbsize(port)).toBe(before[0]);
  });
});

describe('an own server\'s temp folder', () => {
  it('is kept across stop() and start() (a restart reuses it), and removed by dispose()', async () => {
    const server = await startRedis();
    try {
      expect(existsSync(server.dir)).toBe(true);
      await server.stop();
      expect(existsSync(server.dir)).toBe(true);
      await server.start();
      expect(await dbsize(server.port)).toBe(0);
    } finally {
      await server.dispose();
    }
    expect(existsSync(server.dir)).toBe(false);
  });

  const CHILD = fileURLToPath(new URL('./own-server-child.mjs', import.meta.url));
  /** Whether a redis-server process for `port` runs (its title: `redis-server 127.0.0.1:<port>`); a zombie runs nothing. */
  const redisRunsOn = (port: number): boolean =>
    readdirSync('/proc').some((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(new RegExp(`^redis-server 127\\.0\\.0\\.1:${port}(?!\\d)`)) !== null && stat[stat.lastIndexOf(')') + 2] !== 'Z';
      } catch {
        return false;
      }
    });

  it.each([
    { how: 'running', end: 'SIGTERM (as Vitest ends its workers), the server still running', signal: 'SIGTERM' as const, code: null },
    { how: 'stopped', end: 'a normal exit, the server stopped and never disposed', signal: null, code: 0 },
    { how: 'throw', end: 'an uncaught error (a failing test)', signal: null, code: 1 },
  ])('goes when the test process ends by $end', async ({ how, signal, code }) => {
    const child = spawn(process.execPath, ['--experimental-transform-types', '--conditions=steadyfn-source', '--no-warnings', CHILD, how], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (c, s) => resolve({ code: c, signal: s })));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      void ended.then(() => reject(new Error(`the child ended before starting its server: ${err}`)));
    });
    // The child saw its folder in place (it may end, and remove it, before this reads the line).
    const { dir, port, held } = JSON.parse(line) as { dir: string; port: number; held: boolean };
    expect(held).toBe(true);
    // Until this SIGTERM, the server runs: the end must kill it before removing its folder.
    if (how === 'running') expect(redisRunsOn(port)).toBe(true);
    if (how === 'running') child.kill('SIGTERM');
    // The process still ends as it would have: by the signal, or with its own exit code.
    expect(await ended).toEqual({ code, signal });
    expect(existsSync(dir), err).toBe(false);
    expect(redisRunsOn(port)).toBe(false);
  });
});
