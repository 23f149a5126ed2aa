/**
 * A Redis drill marks its scratch keyspace as the MongoDB drill does: a drill whose drop fails
 * (Redis behind a proxy cut just before the drop) leaves its restored keys and its marker
 * (`steadyfn:drill-marker:<prefix>`, outside the prefix so no dataset pattern reads it back);
 * the next drill from the same backup storage finds the leftovers by that marker and removes
 * them before it begins, while a drill from another storage, or into keys no drill marked, is
 * still refused and leaves them alone. On real Redis (7) and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startProxy } from '../../../test/support/proxy.js';
import { ConfigurationError, redisSource, redisTarget, snapshotBackup, verifyBackup, type RestoreTarget } from '../src/index.js';
import { scratchMarkerKey } from '../src/restore/redis-scratch.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

describe('a Redis drill whose scratch drop failed', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  const source = unique('rsrc') + ':';
  const storage = (prefix = 'drill') => ({ client: s3.client, bucket: s3.bucket, prefix });
  const keysUnder = async (prefix: string) => (await redis.keys(`${prefix}*`)).sort();
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    redis = await redisClient();
    for (let i = 0; i < 20; i++) await redis.set(`${source}k${i}`, `v${i}`);
    await redis.hset(`${source}h`, 'a', '1', 'b', '2');
    for (const prefix of ['drill', 'other']) expect(await snapshotBackup({ source: redisSource({ client: redis, pattern: `${source}*` }), target: storage(prefix) }).run()).toMatchObject({ status: 'complete' });
  });
  afterAll(async () => {
    for (const key of await redis.keys(`${source}*`)) await redis.del(key);
    redis.disconnect();
    await s3.drop();
  });

  it('is reported, and the next drill from the same storage clears the leftovers by their marker', async () => {
    const scratch = unique('rscratch') + ':';
    const markerKey = `steadyfn:drill-marker:${scratch}`;
    const url = new URL(process.env.REDIS_URL!);
    const proxy = await startProxy(url.hostname, Number(url.port));
    const proxied = new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    const logged: string[] = [];
    const log = { info: () => undefined, warn: () => undefined, error: (message: string) => void logged.push(message) };
    try {
      const real = redisTarget({ client: proxied, keyPrefix: scratch });
      // Redis goes away between the drill's read-back and its drop: the drop itself fails for real.
      const failingDrop: RestoreTarget = { ...real, drop: async (manifest, signal) => { await proxy.cut(); return real.drop!(manifest, signal); } };
      const first = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: failingDrop }, { log });
      expect(first.ok).toBe(true);
      expect(first.drill!.scratch).toMatchObject({ dropped: false, dropError: expect.any(String) });
      expect(logged).toEqual([expect.stringMatching(/drill scratch drop failed/)]);
      // Its keys and its marker are left; the marker names the drill, the storage and the pattern.
      expect(await keysUnder(scratch)).toHaveLength(21);
      expect(JSON.parse((await redis.get(markerKey))!)).toMatchObject({ drillId: first.drill!.drillId, storage: `s3://${s3.bucket}/drill`, collections: [`${source}*`] });

      // A drill from another storage does not take the leftovers for its own.
      const other = await verifyBackup({ backup: { storage: storage('other'), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: scratch }) }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(ConfigurationError);
      expect(await keysUnder(scratch)).toHaveLength(21);

      // The next drill from the same storage clears them first, then drills and drops (its marker last).
      const second = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: scratch }) });
      expect(second.drill!.scratch).toEqual({ dropped: true, clearedLeftoverOf: first.drill!.drillId });
      expect(second.drill!.datasets[0]).toMatchObject({ restoredCount: 21, ok: true });
      expect(await keysUnder(scratch)).toEqual([]);
      expect(await redis.exists(markerKey)).toBe(0);
    } finally {
      proxied.disconnect();
      for (const key of [...(await keysUnder(scratch)), markerKey]) await redis.del(key);
    }
  });

  it('keys no drill marked are still refused, and left as they are; the marker key lies outside the prefix', async () => {
    const scratch = unique('runmarked') + ':';
    const markerKey = `steadyfn:drill-marker:${scratch}`;
    try {
      await redis.set(`${scratch}${source}k1`, 'live');
      // A marker from this storage that lists another pattern does not make these keys a drill's.
      await redis.set(markerKey, JSON.stringify({ drillId: 'x', backupId: 'y', storage: `s3://${s3.bucket}/drill`, startedAt: new Date().toISOString(), collections: ['elsewhere:*'] }));
      const error = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: scratch }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(await redis.get(`${scratch}${source}k1`)).toBe('live');
      // A prefix the marker's key would start with: the marker goes to another key, still outside it.
      const target = redisTarget({ client: redis, keyPrefix: 'steadyfn:' });
      const marker = { drillId: 'd', backupId: 'b', storage: 's3://x/y', startedAt: new Date().toISOString(), collections: ['*'] };
      await target.markScratch!(marker);
      try {
        expect(await redis.exists('steadyfn:drill-marker:steadyfn:')).toBe(0);
        expect(JSON.parse((await redis.get('~steadyfn:drill-marker:steadyfn:'))!)).toEqual(marker);
        expect(await target.readScratchMarker!()).toEqual(marker);
      } finally {
        await redis.del('~steadyfn:drill-marker:steadyfn:');
      }
      // Without a prefix the marker is `~steadyfn:drill-marker:` (drill-redis-scratch-no-prefix.test.ts).
      expect(scratchMarkerKey('')).toBe('~steadyfn:drill-marker:');
    } finally {
      for (const key of [...(await keysUnder(scratch)), markerKey]) await redis.del(key);
    }
  });
});
