/**
 * Review finding (rvb), on Redis 7, the 3-master Cluster and moto: a big list (`LRANGE` by
 * offset) and a big string (`GETRANGE`) were read chunk by chunk at different moments. A consumer
 * popping 100 jobs between two reads made the backup miss 100 jobs never touched and keep 100
 * already consumed (after a restore, 100 run twice and 100 never); a `SET` between two reads gave
 * a string part old, part new. They are now read from a point-in-time copy (`COPY` + `PEXPIRE` in
 * one `MULTI`, in the key's Cluster slot), deleted once read; where `COPY` is refused, or no name
 * in the key's slot exists, the key is read as before and the manifest's warnings say so.
 */
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup, type RedisLike } from '../src/index.js';
import { loadManifest } from '../src/restore/load.js';
import { copyNameFor } from '../src/sources/redis-big-key.js';
import { freshBucket, redisClient, redisCluster, S3_SERVERS, unique } from './support.js';

/** `client`, running `before` once, just before the `nth` call of `command` (callBuffer), and refusing COPY when asked. */
function interrupting<T extends object>(client: T, command: string, nth: number, before: () => Promise<unknown>, refuseCopy = false): T {
  let calls = 0;
  return new Proxy(client, {
    get(target, name, receiver) {
      if (name === 'callBuffer') {
        return async (cmd: string, ...args: unknown[]) => {
          if (cmd.toUpperCase() === command && ++calls === nth) await before();
          return (target as unknown as RedisLike).callBuffer(cmd, ...(args as string[]));
        };
      }
      if (name === 'pipeline' && refuseCopy) {
        return () => {
          const pipeline = (target as unknown as RedisLike).pipeline();
          // A server without COPY (Redis < 6.2, or renamed): the command is unknown.
          return new Proxy(pipeline, { get: (p, n) => (n === 'callBuffer' ? (cmd: string, ...a: string[]) => p.callBuffer(cmd === 'COPY' ? 'NOSUCHCOPY' : cmd, ...a) : Reflect.get(p, n)) });
        };
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('big lists and strings read from a point-in-time copy (Redis 7, moto)', () => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  const p = unique('bkcopy');
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: unique('bkcopy') });
  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    const keys = await redis.keys(`*${p}*`);
    if (keys.length > 0) await redis.del(...keys);
    await s3.drop();
    redis.disconnect();
  });

  it('a list popped between two chunk reads: every job not consumed by then is restored once', async () => {
    const key = `${p}:jobs`;
    await redis.rpush(key, ...Array.from({ length: 3000 }, (_, i) => `job-${i}`));
    const client = interrupting(redis, 'LRANGE', 2, () => redis.lpop(key, 100));
    const target = storage();
    const done = await snapshotBackup({ source: redisSource({ client, pattern: `${key}*`, bigKeyElements: 1000, chunkElements: 500 }), target }).run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    const to = `${unique('bkcopy-to')}:${p}:`;
    await restore({ backup: { storage: target, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: to }) });
    const live = await redis.lrange(key, 0, -1);
    const restored = await redis.lrange(`${to}${key}`, 0, -1);
    expect(live.filter((job) => !restored.includes(job))).toEqual([]);
    expect(restored).toEqual(Array.from({ length: 3000 }, (_, i) => `job-${i}`));
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([]);
    expect(await redis.keys(`steadyfn:backup-copy:*:${key}`)).toEqual([]);
  }, 120_000);

  it('a string set between two chunk reads: restored as it was when copied', async () => {
    const key = `${p}:blob`;
    await redis.set(key, 'a'.repeat(3082));
    const client = interrupting(redis, 'GETRANGE', 2, () => redis.set(key, 'b'.repeat(3082)));
    const target = storage();
    const done = await snapshotBackup({ source: redisSource({ client, pattern: `${key}*`, bigKeyBytes: 2048, chunkBytes: 1024 }), target }).run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    const to = `${unique('bkcopy-to')}:${p}:`;
    await restore({ backup: { storage: target, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: to }) });
    expect(await redis.get(`${to}${key}`)).toBe('a'.repeat(3082));
  }, 120_000);

  it('COPY refused (an unknown command): read from the key itself, and the warnings say so', async () => {
    const key = `${p}:old`;
    await redis.rpush(key, ...Array.from({ length: 3000 }, (_, i) => `job-${i}`));
    const client = interrupting(redis, 'LRANGE', 0, async () => undefined, true);
    const target = storage();
    const done = await snapshotBackup({ source: redisSource({ client, pattern: `${key}*`, bigKeyElements: 1000, chunkElements: 500 }), target }).run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    await verifyBackup({ backup: { storage: target, id: done.backupId }, level: 'full' });
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([expect.stringMatching(/^1 big lists or strings were read chunk by chunk from the key itself.*COPY unknown: Redis before 6.2, or renamed or disabled \(ERR\): 1/)]);
  }, 120_000);
});

describe('copies on the Cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await redisCluster();
  });
  afterAll(() => cluster.disconnect());

  it("are named in the key's slot (its hash tag, else the key as the tag); a key with } and no tag has none", async () => {
    const keyslot = async (k: Buffer) => Number(await cluster.call('CLUSTER', 'KEYSLOT', k));
    for (const key of ['{user:1}:queue', 'plain:queue', 'a{b', 'x{y}z{w}', 'a{b{c']) {
      const name = copyNameFor(Buffer.from(key), true);
      expect(name, key).toBeDefined();
      expect(await keyslot(name!), key).toBe(await keyslot(Buffer.from(key)));
    }
    // A `}` without a hash tag before it (or an empty one, `{}`): no tag of ours ends up hashing like the key.
    for (const key of ['a}b', 'a{}b', 'x{}y}z']) expect(copyNameFor(Buffer.from(key), true), key).toBeUndefined();
  });

  it('back up big lists in and out of hash tags, each restored equal; the key without a same-slot name is in the warnings', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('bkcopyc');
    const keys = [`{${p}}:tagged`, `${p}:plain`, `${p}:x}y`];
    const to = `${unique('bkcopyc-to')}:`;
    try {
      for (const key of keys) await cluster.rpush(key, ...Array.from({ length: 1200 }, (_, i) => `${key}-${i}`));
      const target = { client: s3.client, bucket: s3.bucket, prefix: 'bkcopyc' };
      const done = await snapshotBackup({ source: redisSource({ client: cluster, pattern: `*${p}*`, bigKeyElements: 1000, chunkElements: 500 }), target }).run();
      expect(done.status).toBe('complete');
      if (done.status !== 'complete') return;
      expect((await loadManifest(target, done.backupId)).warnings).toEqual([expect.stringMatching(/^1 big lists .*no name in its Cluster slot: 1/)]);
      await restore({ backup: { storage: target, id: done.backupId }, target: redisTarget({ client: cluster, keyPrefix: to }) });
      for (const key of keys) expect(await cluster.lrange(`${to}${key}`, 0, -1)).toEqual(await cluster.lrange(key, 0, -1));
    } finally {
      for (const key of keys) await cluster.del(key, `${to}${key}`).catch(() => cluster.del(key));
      for (const key of keys) await cluster.del(`${to}${key}`);
      await s3.drop();
    }
  }, 120_000);
});
