/**
 * Review finding (rvb), on Redis 7 and moto: a big key cut short by a deadline was resumed at
 * its saved position whatever it had become before the next run. Deleted and recreated as a hash,
 * the list's chunks already written were followed by `HSET` chunks: `verify 'full'` passed, the
 * restore failed (`RESTORE_APPLY_FAILED`, WRONGTYPE); deleted, the restore gave half a list.
 *
 * Now a big list is read from a point-in-time copy named in the checkpoint: the resume reads on
 * from it, and the restore gives the list as copied. A key read from itself (a hash) whose type
 * changed, or whose copy is gone, is exported again from chunk 0, replacing its earlier records;
 * one that is gone gets a record that deletes it. Every case: verify full, a restore equal to the
 * key as last read, and a drill that passes. A checkpoint of an earlier version (no type kept)
 * exports its cut key again from chunk 0.
 */
import { randomBytes } from 'node:crypto';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { loadManifest, segmentLines } from '../src/restore/load.js';
import { deadlineAfter, freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** A key's type and content (hex), as `TYPE` and a whole read give it. */
async function valueOf(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  if (type === 'list') return `list:${(await redis.lrangeBuffer(key, 0, -1)).map((b) => b.toString('hex')).join(',')}`;
  if (type === 'hash') {
    const all = await redis.hgetallBuffer(key);
    return `hash:${Object.keys(all).sort().map((f) => `${f}=${all[f]!.toString('hex')}`).join(',')}`;
  }
  return type;
}

type Change = (redis: Redis, key: string) => Promise<void>;

/** The copies this source made of `key` (other tests' backups may run meanwhile). */
const copiesOf = (redis: Redis, key: string) => redis.keys(`steadyfn:backup-copy:*:${key}`);

/** Rewrites `key` as a hash of 2000 fields. */
const toHash: Change = async (redis, key) => {
  await redis.del(key);
  for (let i = 0; i < 2000; i += 500) await redis.hset(key, Object.fromEntries(Array.from({ length: 500 }, (_, j) => [`f${i + j}`, randomBytes(64).toString('hex')])));
};
/** Rewrites `key` as a list of 2000 entries. */
const toList: Change = async (redis, key) => {
  await redis.del(key);
  for (let i = 0; i < 2000; i += 500) await redis.rpush(key, ...Array.from({ length: 500 }, () => randomBytes(64)));
};
/** Deletes the copies this source made of `key` (as if their TTL had run out). */
const dropCopies = async (redis: Redis, key: string) => {
  const copies = await copiesOf(redis, key);
  if (copies.length > 0) await redis.del(...copies);
};

const CASES: Array<{ name: string; type: 'list' | 'hash'; change: Change; expected: 'before' | 'after' }> = [
  { name: 'a list (read from its copy) deleted and recreated as a hash: restored as copied', type: 'list', change: toHash, expected: 'before' },
  { name: 'a list whose copy is gone, recreated as a hash: exported again, restored as the hash', type: 'list', change: async (r, k) => (await dropCopies(r, k), await toHash(r, k)), expected: 'after' },
  { name: 'a list whose copy is gone, deleted: restored without it', type: 'list', change: async (r, k) => (await dropCopies(r, k), void (await r.del(k))), expected: 'after' },
  { name: 'a hash recreated as a list: exported again, restored as the list', type: 'hash', change: toList, expected: 'after' },
  { name: 'a hash deleted: restored without it', type: 'hash', change: async (r, k) => void (await r.del(k)), expected: 'after' },
];

describe.each(CASES)('a big key cut by the deadline, then changed before the next run: $name', ({ type, change, expected }) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('verifies, restores what the key held when last read, and passes a drill', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('rkc');
    const key = `${p}:big`;
    const restoredPrefix = `${unique('rkc-to')}:`;
    try {
      // 3000 entries of 4 KiB (12 MiB that gzip cannot shrink): the first part is sent inside the key.
      for (let i = 0; i < 30; i++) {
        const values = Array.from({ length: 100 }, () => randomBytes(2048).toString('hex'));
        if (type === 'list') await redis.rpush(key, ...values);
        else await redis.hset(key, Object.fromEntries(values.map((v, j) => [`f${i * 100 + j}`, v])));
      }
      await redis.set(`${p}:small`, 'v');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'rkc' };
      const cut = deadlineAfter(s3.client, UploadPartCommand, 1);
      const source = redisSource({ client: redis, pattern: `${p}:*`, bigKeyElements: 1000, chunkElements: 300 });
      const job = snapshotBackup({ source, target: { ...storage, client: cut.client }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024 });
      expect((await job.run(cut.ctx())).status).toBe('checkpointed');
      const before = await valueOf(redis, key);
      await change(redis, key);
      const after = await valueOf(redis, key);
      let result: Awaited<ReturnType<typeof job.run>>;
      let runs = 0;
      do result = await job.run(cut.ctx());
      while (result.status === 'checkpointed' && ++runs < 20);
      expect(result.status).toBe('complete');
      if (result.status !== 'complete') return;

      // The cut fell inside the key (its chunks span both runs).
      const manifest = await loadManifest(storage, result.backupId);
      const chunks: number[] = [];
      for (const segment of manifest.datasets[0]!.segments) for await (const line of segmentLines(storage, segment)) if (line.startsWith(`{"k":"${key}"`)) chunks.push(JSON.parse(line).c);
      expect(chunks.length).toBeGreaterThan(1);

      await verifyBackup({ backup: { storage, id: result.backupId }, level: 'full' });
      await restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client: redis, keyPrefix: restoredPrefix }) });
      expect(await valueOf(redis, `${restoredPrefix}${key}`)).toBe(expected === 'before' ? before : after);
      expect(await redis.get(`${restoredPrefix}${p}:small`)).toBe('v');
      const drill = await verifyBackup({ backup: { storage, id: result.backupId }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: `${unique('rkc-drill')}:` }) });
      expect(drill.drill!.datasets).toEqual([expect.objectContaining({ ok: true })]);
      // No copy is left behind.
      expect(await copiesOf(redis, key)).toEqual([]);
    } finally {
      for (const pattern of [`${p}:*`, `${restoredPrefix}*`]) {
        const keys = await redis.keys(pattern);
        if (keys.length > 0) await redis.del(...keys);
      }
      await s3.drop();
    }
  }, 300_000);
});

describe('a checkpoint of an earlier version (its cut key without a type)', () => {
  it('exports the key again from chunk 0, replacing the chunk it had written', async () => {
    const redis = await redisClient();
    const p = unique('rkc-old');
    const key = `${p}:big`;
    try {
      await redis.rpush(key, ...Array.from({ length: 900 }, (_, i) => `e${i}`));
      const source = redisSource({ client: redis, pattern: `${p}:*`, bigKeyElements: 100, chunkElements: 300 });
      const dataset = { name: `keyspace:${p}:*`, kind: 'redis-keyspace' as const, encoding: 'mixed' as const, options: {} };
      const first: string[] = [];
      for await (const record of source.read(dataset, undefined)) first.push(record.line);
      expect(first.length).toBeGreaterThan(2);
      // The resume point an earlier version wrote after the first chunk (no type, no copy).
      const resume = { node: 0, address: `${redis.options.host}:${redis.options.port}`, cursor: '0', inner: { key: JSON.stringify(key), position: '300', chunk: 0 } };
      async function* history() {
        yield first[0]!;
      }
      const again: Array<{ line: string }> = [];
      for await (const record of source.read(dataset, resume, undefined, history())) again.push(record);
      const records = again.map((r) => JSON.parse(r.line));
      expect(records.map((r) => r.c)).toEqual(first.map((_, i) => i));
      expect(records[0].r).toEqual([expect.objectContaining({ ttl: -1, n: 1 })]);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});
