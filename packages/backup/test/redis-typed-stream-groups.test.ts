/**
 * New-user finding F2: a stream over `bigKeyElements` (default 10,000) is exported typed, entry
 * by entry, and its consumer groups were dropped without a word: restored, the stream had no
 * group, no last-delivered-id, no pending entries. The typed export now carries them and the
 * restore recreates them: each group at its last-delivered-id with its entries-read, its
 * consumers, and its pending entries with their consumer, delivery count and idle time.
 * 20,000 entries, default options, the real Redis (:16379), moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** XINFO GROUPS as objects. */
async function groupsOf(redis: Redis, key: string): Promise<Array<Record<string, unknown>>> {
  const raw = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][];
  return raw.map((flat) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]])));
}

describe('typed export of a big stream with consumer groups', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('restores its groups, last-delivered-ids, entries-read, consumers and pending entries', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('sg');
    const to = unique('sgr');
    const key = `${p}:stream`;
    try {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 20_000; i++) pipeline.xadd(key, '*', 'i', String(i));
      await pipeline.exec();
      await redis.xgroup('CREATE', key, 'workers', '0');
      await redis.xreadgroup('GROUP', 'workers', 'c1', 'COUNT', 5, 'STREAMS', key, '>');
      await redis.xreadgroup('GROUP', 'workers', 'c2', 'COUNT', 3, 'STREAMS', key, '>');
      const [first] = (await redis.xrange(key, '-', '+', 'COUNT', 1))[0]!;
      await redis.xack(key, 'workers', first); // c1: 4 pending
      await redis.xclaim(key, 'workers', 'c2', 0, (await redis.xrange(key, '-', '+', 'COUNT', 2))[1]![0]); // delivered twice
      await redis.xgroup('CREATE', key, 'idle', '$');
      await redis.xgroup('CREATECONSUMER', key, 'idle', 'nobody');

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'groups' };
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*` }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }) });
      expect(report.records).toBeGreaterThan(1); // typed: chunks, not one DUMP
      const restored = `${to}:${key}`;
      expect(await redis.xlen(restored)).toBe(20_000);

      const pick = (g: Record<string, unknown>) => ({ name: g.name, consumers: g.consumers, pending: g.pending, last: g['last-delivered-id'], read: g['entries-read'], lag: g.lag });
      expect((await groupsOf(redis, restored)).map(pick)).toEqual((await groupsOf(redis, key)).map(pick));
      const pendingOf = async (k: string) => ((await redis.xpending(k, 'workers', '-', '+', 100)) as Array<[string, string, number, number]>).map(([id, consumer, , deliveries]) => [id, consumer, deliveries]);
      expect(await pendingOf(restored)).toEqual(await pendingOf(key));
      expect((await pendingOf(restored)).length).toBe(7);
      const idle = ((await redis.xpending(restored, 'workers', '-', '+', 100)) as Array<[string, string, number, number]>).map(([, , ms]) => ms);
      expect(Math.min(...idle)).toBeGreaterThan(0); // idle carried, not reset by the claim
      const consumers = ((await redis.call('XINFO', 'CONSUMERS', restored, 'idle')) as unknown[][]).map((c) => String(c[1]));
      expect(consumers).toEqual(['nobody']);
      // The groups work on: a new read for the group starts after its last-delivered-id.
      await redis.xadd(restored, '*', 'i', 'new');
      const next = (await redis.xreadgroup('GROUP', 'idle', 'nobody', 'COUNT', 10, 'STREAMS', restored, '>')) as Array<[string, Array<[string, string[]]>]>;
      expect(next[0]![1].map(([, f]) => f[1])).toEqual(['new']);

      // A drill of it still counts and hashes the entries alike.
      await expect(verifyBackup({ backup: { storage, id: done.backupId }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: `${unique('sgd')}:` }) })).resolves.toMatchObject({ ok: true });
    } finally {
      await redis.del(key, `${to}:${key}`);
      await s3.drop();
    }
  }, 120_000);
});
