/**
 * Brief bk, items 1 and 2, on the real Redis 7 (:16379):
 * - a pending entry (PEL) whose stream entry was deleted or trimmed before the backup: Redis 7
 *   keeps it (XPENDING lists it) but `XCLAIM … FORCE` skips an id the stream does not hold, so a
 *   typed restore could not recreate it — and said nothing. Now counted and reported, typed
 *   (`notices: STREAM_PENDING_NOT_RESTORED`) and in `warnings`;
 * - a target whose ACL refuses `INFO` was silently taken as a current server: its version is now
 *   read from `HELLO` instead, and when both are refused the assumption is reported
 *   (`TARGET_VERSION_ASSUMED`). Real ACL users (unique names, deleted after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** XPENDING's ids of `group` on `key`. */
async function pendingIds(redis: Redis, key: string, group: string): Promise<string[]> {
  const rows = (await redis.xpending(key, group, '-', '+', 100)) as Array<[string, string, number, number]>;
  return rows.map(([id]) => id);
}

describe('redis restore notices', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('pending entries of deleted and trimmed stream entries are counted and reported, the others restored', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('pel');
    const to = unique('pelr');
    const key = `${p}:stream`;
    try {
      for (let i = 1; i <= 10; i++) await redis.xadd(key, `${i}-0`, 'i', String(i));
      await redis.xgroup('CREATE', key, 'g', '0');
      await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 6, 'STREAMS', key, '>');
      await redis.xtrim(key, 'MAXLEN', 8); // 1-0 and 2-0 gone (pending)
      await redis.xdel(key, '4-0'); // pending too
      // What Redis 7 keeps: the PEL still lists the three ids whose entries are gone.
      expect(await pendingIds(redis, key, 'g')).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0', '6-0']);

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pel' };
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }) });

      // The entries still in the stream are pending again; the three others cannot be.
      expect(await pendingIds(redis, `${to}:${key}`, 'g')).toEqual(['3-0', '5-0', '6-0']);
      expect(report.notices).toEqual([expect.objectContaining({ code: 'STREAM_PENDING_NOT_RESTORED', count: 3, where: [key] })]);
      expect(report.warnings.some((w) => w.includes('STREAM_PENDING_NOT_RESTORED') && w.includes('3 pending entries'))).toBe(true);
    } finally {
      for (const k of [key, `${to}:${key}`]) await redis.del(k);
      await s3.drop();
    }
  });

  it('a restore with every pending entry restorable reports no notice', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('pelok');
    const to = unique('pelokr');
    const key = `${p}:stream`;
    try {
      for (let i = 1; i <= 5; i++) await redis.xadd(key, `${i}-0`, 'i', String(i));
      await redis.xgroup('CREATE', key, 'g', '0');
      await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 3, 'STREAMS', key, '>');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'pelok' };
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }) });
      expect(await pendingIds(redis, `${to}:${key}`, 'g')).toEqual(['1-0', '2-0', '3-0']);
      expect(report.notices).toBeUndefined();
    } finally {
      for (const k of [key, `${to}:${key}`]) await redis.del(k);
      await s3.drop();
    }
  });

  describe('a target whose ACL refuses INFO', () => {
    const users: string[] = [];
    const clients: Redis[] = [];
    /** A client of a fresh ACL user allowed everything but the `denied` commands. */
    async function restricted(denied: string[]): Promise<Redis> {
      const user = unique('acl');
      const password = unique('pw');
      users.push(user);
      await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', ...denied.map((c) => `-${c}`));
      const client = new Redis(process.env.REDIS_URL!, { username: user, password, lazyConnect: true, maxRetriesPerRequest: 2 });
      await client.connect();
      clients.push(client);
      return client;
    }
    afterAll(async () => {
      for (const c of clients) c.disconnect();
      for (const u of users) await redis.call('ACL', 'DELUSER', u);
    });

    /** Backs up one typed stream with a group, and restores it through `client`. */
    async function restoreThrough(client: Redis) {
      const s3 = await freshBucket(S3_SERVERS[0]!);
      const p = unique('aclv');
      const to = unique('aclvr');
      const key = `${p}:stream`;
      try {
        await redis.xadd(key, '1-0', 'i', '1');
        await redis.xgroup('CREATE', key, 'g', '0');
        const storage = { client: s3.client, bucket: s3.bucket, prefix: 'aclv' };
        const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
        if (done.status !== 'complete') throw new Error('snapshot did not complete');
        return await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client, keyPrefix: `${to}:` }) });
      } finally {
        for (const k of [key, `${to}:${key}`]) await redis.del(k);
        await s3.drop();
      }
    }

    it('reads the version from HELLO (the ACL user cannot run INFO): no assumption, nothing reported', async () => {
      const client = await restricted(['info']);
      await expect(client.call('INFO', 'server')).rejects.toThrow(/NOPERM/);
      const report = await restoreThrough(client);
      expect(report.notices).toBeUndefined();
    });

    it('reports TARGET_VERSION_ASSUMED when INFO and HELLO are both refused', async () => {
      const real = await restricted(['info']);
      // Redis 7 runs HELLO whatever the ACL says (`-hello` is taken and has no effect: HELLO
      // authenticates), so its refusal — a proxy, another server — is made here: the real ACL
      // user refuses INFO, and HELLO on this client rejects as a NOPERM would.
      const client = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === 'call') return (command: string, ...args: unknown[]) => (String(command).toUpperCase() === 'HELLO' ? Promise.reject(new Error("NOPERM this user has no permissions to run the 'hello' command")) : target.call(command, ...(args as string[])));
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      await expect(client.call('HELLO')).rejects.toThrow(/NOPERM/);
      const report = await restoreThrough(client);
      expect(report.notices).toEqual([expect.objectContaining({ code: 'TARGET_VERSION_ASSUMED', count: 1 })]);
      expect(report.warnings.some((w) => w.includes('TARGET_VERSION_ASSUMED'))).toBe(true);
    });
  });
});
