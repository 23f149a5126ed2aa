/**
 * Brief bk (s45), item 3, on a redis-server of this file's own (real ACL users, no shared
 * server's users touched): a source whose ACL refuses `INFO` made the backup fail (NOPERM from
 * `describe()`). Now the version comes from `HELLO`, as the restore side already reads a
 * target's, and what could not be read is said in the manifest's warnings: the `run_id`
 * (restart detection of a resumed backup) always, the version too when `HELLO` is refused as
 * well (`SOURCE_VERSION_UNKNOWN`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { freshBucket, readJson, S3_SERVERS, unique } from './support.js';

const own = useOwnRedisServer();
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** A client of a fresh ACL user allowed everything but `INFO`. */
async function withoutInfo(): Promise<Redis> {
  const user = unique('noinfo');
  const password = unique('pw');
  await own.admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-info');
  const client = new Redis(own.url, { username: user, password, lazyConnect: true, maxRetriesPerRequest: 2, enableReadyCheck: false });
  await client.connect();
  clients.push(client);
  return client;
}

/** `client` with `HELLO` refused as an ACL would (Redis 7 runs HELLO whatever the ACL says: it authenticates). */
function refusingHello(client: Redis): Redis {
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'call') {
        return (command: string, ...args: string[]) =>
          String(command).toUpperCase() === 'HELLO' ? Promise.reject(new Error("NOPERM this user has no permissions to run the 'hello' command")) : target.call(command, ...args);
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Backs up `p:*` through `client`; the committed manifest, and a restore of it into `to:` on the own server. */
async function backUp(client: Redis, p: string) {
  const s3 = await freshBucket(S3_SERVERS[0]!);
  try {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'noinfo' };
    const done = await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage }).run();
    if (done.status !== 'complete') throw new Error(`snapshot did not complete: ${done.status}`);
    const manifest = await readJson<{ source: { serverVersion: string; engine: string }; warnings: string[] }>(s3.client, s3.bucket, done.manifestKey);
    const to = unique('noinfor');
    await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: own.admin, keyPrefix: `${to}:` }) });
    return { manifest: manifest!, restored: await own.admin.hgetall(`${to}:${p}:h`) };
  } finally {
    await s3.drop();
  }
}

describe('a Redis source whose ACL refuses INFO', () => {
  it('backs up, with the version read from HELLO and the unread run_id in the warnings', async () => {
    const p = unique('acl');
    await own.admin.hset(`${p}:h`, 'a', '1', 'b', '2');
    const client = await withoutInfo();
    await expect(client.call('INFO', 'server')).rejects.toThrow(/NOPERM/);
    const real = /redis_version:([^\r\n]+)/.exec(String(await own.admin.call('INFO', 'server')))![1]!;

    const { manifest, restored } = await backUp(client, p);
    expect(manifest.source.serverVersion).toBe(real);
    expect(manifest.source.engine).toBe('redis');
    expect(manifest.warnings).toEqual([expect.stringMatching(/refused INFO.*read from HELLO.*run_id was not read/)]);
    expect(manifest.warnings.some((w) => w.includes('SOURCE_VERSION_UNKNOWN'))).toBe(false);
    expect(restored).toEqual({ a: '1', b: '2' });
  });

  it('backs up when HELLO is refused too: version unknown, SOURCE_VERSION_UNKNOWN in the warnings', async () => {
    const p = unique('acl2');
    await own.admin.hset(`${p}:h`, 'x', 'y');
    const client = refusingHello(await withoutInfo());
    await expect(client.call('HELLO')).rejects.toThrow(/NOPERM/);

    const { manifest, restored } = await backUp(client, p);
    expect(manifest.source.serverVersion).toBe('unknown');
    expect(manifest.warnings).toEqual([expect.stringContaining('SOURCE_VERSION_UNKNOWN')]);
    expect(restored).toEqual({ x: 'y' });
  });

  it('a source that allows INFO says nothing of it', async () => {
    const p = unique('acl3');
    await own.admin.hset(`${p}:h`, 'k', 'v');
    const { manifest } = await backUp(own.admin, p);
    expect(manifest.warnings).toEqual([]);
  });
});
