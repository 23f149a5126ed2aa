/**
 * Review (restore side, Redis): a typed backup (`encoding: 'typed'`, or a `targetRdbVersion`
 * other than the source's — the way to restore into an older Redis) of keys whose value is
 * empty. An empty string (`SET k ""`, a common flag or placeholder) and an empty stream (one
 * whose entries were all trimmed or deleted, as a drained queue is) are keys Redis holds and
 * the backup counts. Their typed record is chunk 0 with an empty value: the restore wrote
 * `DEL` + `SETRANGE k 0 ""` (which creates no key) and `DEL` alone for the stream, so the
 * restore reported the records as applied while the keys were gone, and a drill failed its
 * count. On the real Redis (:16379), both S3 servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

describe.each(S3_SERVERS)('typed Redis backup of empty values on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(async () => {
    redis.disconnect();
  });

  it('restores an empty string (with and without TTL, binary key) and an empty stream as keys', async () => {
    const s3 = await freshBucket(server);
    const p = unique('te');
    const to = unique('tr');
    const binKey = Buffer.concat([Buffer.from(`${p}:bin-`), Buffer.from([0xff, 0x00, 0xfe])]);
    try {
      await redis.set(`${p}:empty`, '');
      await redis.set(`${p}:empty-ttl`, '', 'PX', 3_600_000);
      await redis.set(binKey, Buffer.alloc(0));
      await redis.xadd(`${p}:drained`, '5-1', 'f', 'v');
      await redis.xdel(`${p}:drained`, '5-1');
      await redis.set(`${p}:full`, Buffer.from([0, 255, 1]));
      expect(await redis.xlen(`${p}:drained`)).toBe(0);
      expect(await redis.exists(`${p}:drained`)).toBe(1);

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'typed' };
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      expect(done.status).toBe('complete');
      if (done.status !== 'complete') return;
      expect(done.records).toBe(5);

      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }) });
      expect(report.records).toBe(5);
      expect(await redis.exists(`${to}:${p}:empty`)).toBe(1);
      expect(await redis.get(`${to}:${p}:empty`)).toBe('');
      expect(await redis.pttl(`${to}:${p}:empty`)).toBe(-1);
      expect(await redis.exists(`${to}:${p}:empty-ttl`)).toBe(1);
      expect(await redis.pttl(`${to}:${p}:empty-ttl`)).toBeGreaterThan(3_500_000); // absolute expiry kept
      const restoredBin = Buffer.concat([Buffer.from(`${to}:`), binKey]);
      expect(await redis.exists(restoredBin)).toBe(1);
      expect((await redis.getBuffer(restoredBin))!.length).toBe(0);
      expect(await redis.type(`${to}:${p}:drained`)).toBe('stream');
      expect(await redis.xlen(`${to}:${p}:drained`)).toBe(0);
      expect((await redis.getBuffer(`${to}:${p}:full`))!.equals(Buffer.from([0, 255, 1]))).toBe(true);

      // A second restore over it (idempotent) keeps them; a drill counts every key back.
      await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }), ifTargetNotEmpty: 'merge' });
      expect(await redis.exists(`${to}:${p}:empty`, `${to}:${p}:drained`)).toBe(2);
      const drill = await verifyBackup({ backup: { storage, id: done.backupId }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: `${unique('td')}:` }) });
      expect(drill.drill).toMatchObject({ ok: true, datasets: [{ expectedCount: 5, restoredCount: 5, ok: true }] });
    } finally {
      for (const pattern of [`${p}:*`, `${to}:*`]) for (const key of await redis.keysBuffer(pattern)) await redis.del(key);
      await s3.drop();
    }
  });
});
