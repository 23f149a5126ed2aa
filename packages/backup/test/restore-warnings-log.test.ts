/**
 * Review finding (minor): the `restore warnings` log line carried the report's warnings, whose
 * text names Redis stream keys (user data). The line now has counts and codes; the names stay
 * in the returned report only. Redis 7, moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

describe('the restore warnings log line', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('has counts and codes, never the stream key a warning names', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('logpel');
    const to = unique('logpelr');
    const key = `${p}:stream`;
    try {
      for (let i = 1; i <= 4; i++) await redis.xadd(key, `${i}-0`, 'i', String(i));
      await redis.xgroup('CREATE', key, 'g', '0');
      await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', key, '>');
      await redis.xdel(key, '1-0'); // pending, its entry gone: a STREAM_PENDING_NOT_RESTORED warning naming the key
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'logpel' };
      const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:*`, encoding: 'typed' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('snapshot did not complete');
      const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
      const note = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, ...(fields ? { fields } : {}) });
      const report = await restore({ backup: { storage, id: done.backupId }, target: redisTarget({ client: redis, keyPrefix: `${to}:` }) }, { log: { info: note, warn: note, error: note } });
      expect(report.warnings.some((w) => w.includes(key))).toBe(true);
      expect(lines.find((l) => l.message === 'restore warnings')?.fields).toEqual({ backupId: done.backupId, warnings: report.warnings.length, notices: [{ code: 'STREAM_PENDING_NOT_RESTORED', count: 1 }] });
      expect(JSON.stringify(lines)).not.toContain(p);
    } finally {
      for (const k of [key, `${to}:${key}`]) await redis.del(k);
      await s3.drop();
    }
  });
});
