/**
 * The Redis source records the server's RDB version in the manifest from a DUMP of any key,
 * not only of one matching the pattern: on a keyspace of 30,000 other keys, a pattern that
 * matches one key was not met in the first 2,000 SCAN slots, the version was left out, and a
 * restore of DUMP payloads to an older server was not refused before its first write. And a
 * Redis restore target always asks the server once before writing, so a refused login is a
 * typed, terminal error with nothing written even for a backup that holds no DUMP payloads
 * (typed encoding). On an own redis-server (the filler keys stay off the shared one) and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { RestoreTargetRefusedError, redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { freshBucket, readJson, S3_SERVERS } from './support.js';

describe('the Redis source RDB version and the target first request', () => {
  let server: OwnServer & { url: string };
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    s3 = await freshBucket(S3_SERVERS[0]!);
    for (let i = 0; i < 30_000; i += 1_000) {
      const pairs: string[] = [];
      for (let j = i; j < i + 1_000; j++) pairs.push(`filler:${j}`, 'x');
      await redis.mset(...pairs);
    }
    await redis.set('wanted:one', 'v');
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await s3?.drop();
    await server?.dispose();
  });

  it('a pattern that matches one key among 30,000: the manifest still names the RDB version', async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'rdb' };
    const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: 'wanted:*' }), target: storage }).run();
    if (result.status !== 'complete') throw new Error(`snapshot ${result.status}`);
    const manifest = (await readJson(s3.client, s3.bucket, `rdb/backups/${result.backupId}/manifest.json`)) as { source: { rdbVersion?: number } };
    const [, major] = /redis_version:(\d+)/.exec(await redis.info('server')) ?? [];
    expect(Number(major)).toBeGreaterThanOrEqual(7);
    expect(manifest.source.rdbVersion).toBeGreaterThanOrEqual(10);
  });

  it('a typed backup (no DUMP payloads) restored with a wrong password: RestoreTargetRefusedError before any write', async () => {
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'typed' };
    const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: 'wanted:*', encoding: 'typed' }), target: storage }).run();
    expect(result.status).toBe('complete');
    const bad = new Redis(server.url, { username: 'secretuser', password: 'secretpw', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    bad.on('error', () => undefined);
    try {
      const error = await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client: bad, keyPrefix: 'scratch:' }) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RestoreTargetRefusedError);
      expect(error).toMatchObject({ code: 'RESTORE_TARGET_REFUSED', retryable: false });
      expect((error as Error).message).not.toMatch(/secret/);
      expect(await redis.keys('scratch:*')).toEqual([]);
    } finally {
      bad.disconnect();
    }
  });
});
