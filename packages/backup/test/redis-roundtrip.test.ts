/**
 * Redis keyspace snapshot and restore on a real Redis and the real 3-master Cluster: every
 * type, binary keys and values, TTLs (restored as absolute expiries), big keys exported in
 * typed chunks, and the RDB-version check (a DUMP payload newer than the target is refused
 * before anything is written; a typed backup restores anywhere).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { RestoreUnsupportedError, redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { freshBucket, redisClient, redisCluster, S3_SERVERS, unique } from './support.js';

type AnyRedis = Redis | Cluster;

async function fill(client: AnyRedis, p: string): Promise<void> {
  await client.set(`${p}:s:plain`, 'hello');
  await client.set(Buffer.from(`${p}:s:bin`), Buffer.from([0, 255, 1, 254]));
  await client.set(Buffer.concat([Buffer.from(`${p}:key-`), Buffer.from([0xff, 0xfe])]), 'binary key');
  await client.set(`${p}:s:ttl`, 'soon', 'PX', 3_600_000);
  await client.hset(`${p}:h`, { a: '1', b: '2' });
  await client.sadd(`${p}:set`, 'x', 'y', 'z');
  await client.zadd(`${p}:z`, 1.5, 'one', 2, 'two');
  await client.rpush(`${p}:l`, 'a', 'b', 'c');
  await client.xadd(`${p}:x`, '1-1', 'f', 'v');
  // Big keys: more elements than bigKeyElements (50), exported typed in chunks of 20.
  await client.hset(`${p}:bigh`, Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`f${i}`, `v${i}`])));
  await client.rpush(`${p}:bigl`, ...Array.from({ length: 130 }, (_, i) => `item${i}`));
  await client.sadd(`${p}:bigs`, ...Array.from({ length: 75 }, (_, i) => `m${i}`));
  await client.zadd(`${p}:bigz`, ...Array.from({ length: 60 }, (_, i) => [String(i), `z${i}`]).flat());
  await client.set(`${p}:bigstr`, 'q'.repeat(5000)); // > bigKeyBytes (4096): GETRANGE chunks of 1024
  for (let i = 0; i < 200; i++) await client.set(`${p}:k:${i}`, `value-${i}`);
}

/** Every key under `p` with its type, value and whether it expires, for comparison. */
async function snapshotOf(client: AnyRedis, p: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', `${p}:*`, 'COUNT', 500);
      cursor = next.toString();
      for (const keyBuf of keys) {
        const key = keyBuf.toString('latin1');
        const type = await node.type(keyBuf);
        const ttl = await node.pttl(keyBuf);
        let value: unknown;
        if (type === 'string') value = (await node.getBuffer(keyBuf))!.toString('hex');
        else if (type === 'hash') value = await node.hgetall(keyBuf);
        else if (type === 'set') value = (await node.smembers(keyBuf)).sort();
        else if (type === 'zset') value = await node.zrange(keyBuf, '0', '-1', 'WITHSCORES');
        else if (type === 'list') value = await node.lrange(keyBuf, 0, -1);
        else if (type === 'stream') value = await node.xrange(keyBuf, '-', '+');
        out[key.slice(p.length)] = { type, value, expires: ttl > 0 };
      }
    } while (cursor !== '0');
  }
  return out;
}

const limits = { bigKeyElements: 50, bigKeyBytes: 4096, chunkElements: 20, chunkBytes: 1024 };

describe.each(S3_SERVERS)('Redis snapshot and restore on $name', (server) => {
  let redis: Redis;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await redisClient();
    cluster = await redisCluster();
  });
  afterAll(async () => {
    redis.disconnect();
    cluster.disconnect();
  });

  for (const kind of ['standalone', 'cluster'] as const) {
    it(`round-trips every type, TTLs and big keys (${kind})`, async () => {
      const client: AnyRedis = kind === 'cluster' ? cluster : redis;
      const s3 = await freshBucket(server);
      // No hash tag: the keys spread over the Cluster's masters.
      const p = unique('rk');
      const restored = unique('rr');
      try {
        await fill(client, p);
        const before = await snapshotOf(client, p);
        const storage = { client: s3.client, bucket: s3.bucket, prefix: 'cache' };
        const result = await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*`, scanCount: 37, ...limits }), target: storage, job: `redis-${kind}` }).run();
        expect(result.status).toBe('complete');
        if (result.status !== 'complete') return;
        expect(result.records).toBeGreaterThan(Object.keys(before).length); // big keys take several chunk records

        // Restore under another prefix (same data, other key names).
        const report = await restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client, keyPrefix: `${restored}:` }) });
        expect(report.records).toBe(result.records);
        const after = await snapshotOf(client, `${restored}:${p}`);
        expect(after).toEqual(before);
        const ttl = await client.pttl(`${restored}:${p}:s:ttl`);
        expect(ttl).toBeGreaterThan(3_500_000); // absolute expiry kept (ABSTTL)
        // A drill under a scratch prefix: counts (keys, not chunk records) and content hashes of the restored keys match the manifest.
        const scratch = `${unique('drill')}:`;
        const drill = await verifyBackup({ backup: { storage, id: result.backupId }, level: "drill", scratch: redisTarget({ client, keyPrefix: scratch }) });
        const keyCount = Object.keys(before).length;
        expect(drill.drill).toMatchObject({ ok: true, datasets: [{ expectedCount: keyCount, restoredCount: keyCount, ok: true }] });
        expect(Object.keys(await snapshotOf(client, scratch.slice(0, -1)))).toEqual([]); // scratch keys removed
      } finally {
        for (const prefix of [p, `${restored}:${p}`]) {
          const keys = Object.keys(await snapshotOf(client, prefix));
          for (const key of keys) await client.del(Buffer.from(prefix + key, 'latin1'));
        }
        await s3.drop();
      }
    });
  }

  it('refuses DUMP payloads newer than the target, before writing; a typed backup restores', async () => {
    const s3 = await freshBucket(server);
    const p = unique('rv');
    try {
      await fill(redis, p);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'rdb' };
      const dumped = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*` }), target: storage, job: 'dump' }).run();
      expect(dumped.status).toBe('complete');
      // A target that reads older RDB versions only: the restore target's version is read from INFO.
      const older = new Proxy(redis, {
        get(target, prop, receiver) {
          if (prop === 'call') return async (...args: unknown[]) => (String(args[0]).toUpperCase() === 'INFO' ? 'redis_version:5.0.14\r\n' : (target.call as (...a: unknown[]) => unknown)(...args));
          if (prop === 'callBuffer') return async (...args: unknown[]) => (['SCAN'].includes(String(args[0]).toUpperCase()) ? [Buffer.from('0'), []] : (target.callBuffer as (...a: unknown[]) => unknown)(...args));
          return Reflect.get(target, prop, receiver);
        },
      });
      const victim = unique('victim');
      await expect(restore({ backup: { storage, id: (dumped as { backupId: string }).backupId }, target: redisTarget({ client: older, keyPrefix: `${victim}:` }) })).rejects.toBeInstanceOf(RestoreUnsupportedError);
      expect(await redis.keys(`${victim}:*`)).toEqual([]);

      // targetRdbVersion that differs from the source's: every key typed; restores through plain commands.
      const typed = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, targetRdbVersion: 9 }), target: storage, job: 'typed' }).run();
      expect(typed.status).toBe('complete');
      await restore({ backup: { storage, id: (typed as { backupId: string }).backupId }, target: redisTarget({ client: older, keyPrefix: `${victim}:` }) });
      expect(await snapshotOf(redis, `${victim}:${p}`)).toEqual(await snapshotOf(redis, p));
      for (const key of await redis.keys(`${victim}:*`)) await redis.del(key);
    } finally {
      for (const key of await redis.keys(`${p}:*`)) await redis.del(key);
      await s3.drop();
    }
  });
});
