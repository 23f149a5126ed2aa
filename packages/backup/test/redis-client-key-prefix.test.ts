/**
 * Brief s52-fxb, items 1 and 2 (reviewer rvp's repros): ioredis does not prefix `SCAN … MATCH`
 * patterns but returns full key names, then prefixes them again on `TYPE`/`DUMP`
 * (redis/ioredis#1526, #169). A backup through a client with `keyPrefix` reported `complete`
 * with 0 records; a restore through one scanned unprefixed names for its emptiness check and
 * overwrote data despite `ifTargetNotEmpty: 'refuse'`. Such a client is now refused (a typed
 * `ConfigurationError` on `client`), given directly or by a getter, Redis or Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { redisSource, redisTarget, restore, snapshotBackup, verifyBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

const refused = { name: 'ConfigurationError', code: 'REDIS_CLIENT_KEY_PREFIX', field: 'client' };
let plain: Redis;
let prefixed: Redis;
let s3: Awaited<ReturnType<typeof freshBucket>>;
const p = unique('kp');

beforeAll(async () => {
  plain = await redisClient();
  prefixed = new Redis(process.env.REDIS_URL!, { keyPrefix: `${p}t:`, maxRetriesPerRequest: 2 });
  s3 = await freshBucket(S3_SERVERS[0]!);
});
afterAll(async () => {
  const keys = await plain.keys(`${p}*`);
  if (keys.length > 0) await plain.del(...keys);
  plain.disconnect();
  prefixed.disconnect();
  await s3.drop();
});

describe('a Redis source whose client has keyPrefix', () => {
  it('is refused when given, naming the option', () => {
    expect(() => redisSource({ client: prefixed, pattern: '*' })).toThrow(expect.objectContaining({ ...refused, message: expect.stringContaining('keyPrefix') }));
  });

  it('from a getter: the backup never completes with the keys missing', async () => {
    for (let i = 0; i < 5; i++) await prefixed.set(`s${i}`, `v${i}`);
    await prefixed.hset('h', 'a', '1');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: `${p}src` };
    const run = snapshotBackup({ source: redisSource({ client: () => prefixed, pattern: '*' }), target: storage }).run();
    await expect(run).rejects.toMatchObject(refused);
  });

  it('a Cluster with redisOptions.keyPrefix is refused too', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, redisOptions: { keyPrefix: 'c:' } });
    try {
      expect(() => redisSource({ client: cluster })).toThrow(expect.objectContaining(refused));
      expect(() => redisTarget({ client: cluster })).toThrow(expect.objectContaining(refused));
    } finally {
      cluster.disconnect();
    }
  });
});

describe('a Redis target whose client has keyPrefix', () => {
  it('is refused, and a restore through a getter writes nothing over existing data', async () => {
    await plain.set(`${p}src:a`, 'from-backup');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: `${p}tgt` };
    const done = await snapshotBackup({ source: redisSource({ client: plain, pattern: `${p}src:*` }), target: storage }).run();
    expect(done).toMatchObject({ status: 'complete', records: 1 });

    await prefixed.set(`r:${p}src:a`, 'precious');
    await expect(restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client: () => prefixed, keyPrefix: 'r:' }) })).rejects.toMatchObject(refused);
    expect(await prefixed.get(`r:${p}src:a`)).toBe('precious');
    expect(() => redisTarget({ client: prefixed, keyPrefix: 'r:' })).toThrow(expect.objectContaining(refused));
    // A drill's scratch target is a redisTarget: the same refusal, before anything is written.
    await expect(verifyBackup({ backup: { storage, id: done.backupId! }, level: 'drill', scratch: redisTarget({ client: () => prefixed, keyPrefix: 'drill:' }) })).rejects.toMatchObject(refused);
    expect(await plain.keys(`${p}t:drill:*`)).toEqual([]);
  });
});
