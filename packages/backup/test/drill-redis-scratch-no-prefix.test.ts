/**
 * A drill into a Redis scratch without a `keyPrefix` (a dedicated scratch database, as the
 * refusal of a non-empty scratch recommends) removes what it restored, as one under a prefix
 * does: it marks the database (`~steadyfn:drill-marker:`) and its drop unlinks the keys matching
 * the backup's patterns. Before, the drop removed nothing yet reported `dropped: true`, and the
 * next drill was refused (`CONFIG_INVALID`) by the first one's leftovers. A scratch target
 * without `drop` reports `dropped: false` with a note. On real Redis (7, an unused db) and moto.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisSource, redisTarget, snapshotBackup, verifyBackup, type RestoreTarget } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

describe('a Redis drill into a scratch database without keyPrefix', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  let scratch: Redis;
  const source = unique('rnp') + ':';
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'drill' });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    redis = await redisClient();
    scratch = new Redis(process.env.REDIS_URL!, { db: 14 });
    for (let i = 0; i < 5; i++) await redis.set(`${source}k${i}`, `v${i}`);
    expect(await snapshotBackup({ source: redisSource({ client: redis, pattern: `${source}*` }), target: storage() }).run()).toMatchObject({ status: 'complete' });
  });
  // Each test starts from an empty db 14 (used by no other test), whatever the one before left.
  afterEach(async () => {
    for (const key of await scratch.keys('*')) await scratch.del(key);
  });
  afterAll(async () => {
    for (const key of await redis.keys(`${source}*`)) await redis.del(key);
    redis.disconnect();
    scratch.disconnect();
    await s3.drop();
  });

  it('drops what it restored, so the next drill into the same database passes', async () => {
    expect(await scratch.dbsize()).toBe(0);
    for (const round of [1, 2]) {
      const report = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: scratch }) });
      expect(report.ok, `drill ${round}`).toBe(true);
      expect(report.drill!.datasets[0]).toMatchObject({ restoredCount: 5, ok: true });
      expect(report.drill!.scratch).toEqual({ dropped: true });
      // Neither the restored keys nor the drill's marker are left.
      expect(await scratch.keys('*'), `drill ${round}`).toEqual([]);
    }
  });

  it("takes over an earlier drill's leftovers in the database by its marker (keepScratch)", async () => {
    const kept = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: scratch }), keepScratch: true });
    expect(kept.drill!.scratch).toEqual({ dropped: false });
    expect((await scratch.keys(`${source}*`)).sort()).toHaveLength(5);
    expect(JSON.parse((await scratch.get('~steadyfn:drill-marker:'))!)).toMatchObject({ drillId: kept.drill!.drillId, collections: [`${source}*`] });
    // A key the backup's pattern does not match is not the drill's: left alone.
    await scratch.set('other:key', 'mine');
    const next = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: redisTarget({ client: scratch }) });
    expect(next.drill!.scratch).toEqual({ dropped: true, clearedLeftoverOf: kept.drill!.drillId });
    expect(await scratch.keys('*')).toEqual(['other:key']);
  });

  it('a scratch target without drop reports dropped: false with a note', async () => {
    const { drop: _drop, ...noDrop } = redisTarget({ client: scratch });
    const custom: RestoreTarget = noDrop;
    const report = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: custom });
    expect(report.ok).toBe(true);
    expect(report.drill!.scratch).toEqual({ dropped: false, note: expect.stringMatching(/no drop/) });
    expect((await scratch.keys(`${source}*`)).sort()).toHaveLength(5);
  });
});
