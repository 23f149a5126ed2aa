/**
 * Review finding (rvm), on a redis-server of this file's own (its `maxmemory` set per test; the
 * shared servers are never reconfigured) and moto: the point-in-time `COPY` of a big list cost
 * user data or lost the list.
 * - `volatile-lru`, little room: the copy (the only key with a TTL) was evicted mid-read, the
 *   missing copy read as the list's end: a `complete` backup, `verify full` ok, no list restored.
 * - `allkeys-lru`, little room: the copy made Redis evict user keys (2001 keys → 1255).
 * - `noeviction`, full: `COPY` answered `OOM` (then `EXECABORT`): the whole backup failed.
 * Now a copy is made only when `used_memory + 2 × MEMORY USAGE` stays under `maxmemory` (else
 * the key is read directly, with a manifest warning), `OOM` is a refusal like `NOPERM`, and every
 * chunk read from a copy checks it still exists (renewing its TTL) in the same `MULTI`: a copy
 * gone fails the run (`BACKUP_SOURCE_COPY_LOST`, retryable) and the next run writes the key again.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup, type RedisLike } from '../src/index.js';
import { loadManifest } from '../src/restore/load.js';
import { copyKey, NO_HEADROOM } from '../src/sources/redis-big-key.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { freshBucket, S3_SERVERS, unique } from './support.js';

const own = useOwnRedisServer();
const LIST = 'queue:big';

/** 20 × 1000 entries of ~90 bytes (~2 MB): a big list with `bigKeyElements: 1000`. */
async function fillList(redis: Redis): Promise<string[]> {
  for (let i = 0; i < 20; i++) await redis.rpush(LIST, ...Array.from({ length: 1000 }, (_, j) => `${String(i * 1000 + j).padStart(8, '0')}:${'x'.repeat(80)}`));
  return redis.lrange(LIST, 0, -1);
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(String(await redis.call('INFO', 'memory')))![1]);
}

/** Sets the eviction policy and `maxmemory` to `used_memory + delta` bytes. */
async function limitMemory(redis: Redis, policy: string, delta: number): Promise<void> {
  await redis.config('SET', 'maxmemory-policy', policy);
  await redis.config('SET', 'maxmemory', String((await usedMemory(redis)) + delta));
}

describe('the big-key COPY never costs user data nor loses the key (own redis-server, moto)', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: unique('bkmem') });
  const source = (client: RedisLike = own.admin) => redisSource({ client, pattern: '*', bigKeyElements: 1000, chunkElements: 500 });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(() => s3.drop());
  beforeEach(async () => {
    await own.admin.config('SET', 'maxmemory', '0');
    await own.admin.flushall();
  });

  /** Lifts the limit, restores `backupId` under a prefix and gives the restored list. */
  async function restoredList(target: ReturnType<typeof storage>, backupId: string): Promise<string[]> {
    await own.admin.config('SET', 'maxmemory', '0');
    await verifyBackup({ backup: { storage: target, id: backupId }, level: 'full' });
    const to = 'restored:';
    await restore({ backup: { storage: target, id: backupId }, target: redisTarget({ client: own.admin, keyPrefix: to }) });
    return own.admin.lrange(`${to}${LIST}`, 0, -1);
  }

  const headroomWarning = expect.stringContaining(`${NO_HEADROOM}: 1`);

  it('volatile-lru with little room: no copy to evict, the list read directly (warned) and restored equal', async () => {
    const live = await fillList(own.admin);
    await limitMemory(own.admin, 'volatile-lru', 500_000);
    const target = storage();
    const done = await snapshotBackup({ source: source(), target }).run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    expect(await restoredList(target, done.backupId)).toEqual(live);
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([headroomWarning]);
  }, 120_000);

  it('allkeys-lru with little room: no user key evicted, the list read directly (warned) and restored equal', async () => {
    for (let i = 0; i < 2000; i += 500) await own.admin.mset(Object.fromEntries(Array.from({ length: 500 }, (_, j) => [`user:${i + j}`, `v${i + j}`])));
    const live = await fillList(own.admin);
    await limitMemory(own.admin, 'allkeys-lru', 100_000);
    const target = storage();
    const done = await snapshotBackup({ source: source(), target }).run();
    expect(await own.admin.dbsize()).toBe(2001);
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    expect(await restoredList(target, done.backupId)).toEqual(live);
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([headroomWarning]);
  }, 120_000);

  it('noeviction and full: the backup completes, the list read directly (warned) and restored equal', async () => {
    const live = await fillList(own.admin);
    await limitMemory(own.admin, 'noeviction', -1000);
    const target = storage();
    const done = await snapshotBackup({ source: source(), target }).run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    expect(await restoredList(target, done.backupId)).toEqual(live);
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([headroomWarning]);
  }, 120_000);

  it('COPY answered OOM (a full noeviction server) is a refusal, not a failure', async () => {
    await fillList(own.admin);
    await limitMemory(own.admin, 'noeviction', -1000);
    const made = await copyKey(own.admin, Buffer.from(LIST), Buffer.from('steadyfn:backup-copy:test:queue:big'));
    expect(made).toEqual({ result: 'refused', reason: 'no memory for a point-in-time copy (OOM)' });
  });

  it('a copy gone between two chunk reads fails the run retryably; the next run completes with the list equal', async () => {
    const live = await fillList(own.admin);
    // Before the second chunk read from a copy, the copy is deleted (as an eviction would).
    let reads = 0;
    const client = new Proxy(own.admin, {
      get(target, name) {
        if (name !== 'pipeline') {
          const value = Reflect.get(target, name, target) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return () => {
          const pipeline = target.pipeline();
          let ranged = false;
          return new Proxy(pipeline, {
            get(p, n) {
              if (n === 'callBuffer') return (cmd: string, ...args: Array<string | Buffer | number>) => ((ranged ||= cmd === 'LRANGE'), p.callBuffer(cmd, ...args));
              if (n === 'exec') {
                return async () => {
                  if (ranged && ++reads === 2) {
                    const copies = await target.keys('steadyfn:backup-copy:*');
                    expect(copies).toHaveLength(1);
                    await target.del(...copies);
                  }
                  return p.exec();
                };
              }
              const value = Reflect.get(p, n, p) as unknown;
              return typeof value === 'function' ? value.bind(p) : value;
            },
          });
        };
      },
    }) as unknown as RedisLike;
    const target = storage();
    const job = snapshotBackup({ source: source(client), target });
    await expect(job.run()).rejects.toMatchObject({ name: 'SourceReadError', code: 'BACKUP_SOURCE_COPY_LOST', retryable: true });
    const done = await job.run();
    expect(done.status).toBe('complete');
    if (done.status !== 'complete') return;
    expect((await loadManifest(target, done.backupId)).warnings).toEqual([]);
    expect(await restoredList(target, done.backupId)).toEqual(live);
    expect(await own.admin.keys('steadyfn:backup-copy:*')).toEqual([]);
  }, 120_000);
});
