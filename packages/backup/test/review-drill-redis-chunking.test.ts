/**
 * Review finding on Redis drills, on Redis 7 and moto: the drill compared the number of CHUNK
 * records of the backup with the read-back's, but how a big key is chunked depends on its
 * encoding on each server (`HSCAN … COUNT` is a hint). A hash once big then shrunk keeps its
 * hash-table layout on the source; its restored copy is a fresh listpack and comes back in
 * other chunks: "restored 113 records, manifest says 114", a sound backup marked failed. The
 * drill now counts keys (a DUMP record or a typed chunk 0); a key missing from the restored
 * copy still fails it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { VerificationFailedError, redisSource, redisTarget, snapshotBackup, verifyBackup, type RestoreTarget } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** Writes `grow` fields to `key` in batches, then deletes all but the first `keep`: the source keeps a hash table. */
async function shrunkHash(redis: Redis, key: string, grow: number, keep: number): Promise<void> {
  for (let start = 0; start < grow; start += 5000) {
    const args: string[] = [];
    for (let i = start; i < Math.min(grow, start + 5000); i++) args.push(`f${i}`, `v${i}`);
    await redis.hset(key, ...args);
  }
  for (let start = keep; start < grow; start += 5000) {
    const fields: string[] = [];
    for (let i = start; i < Math.min(grow, start + 5000); i++) fields.push(`f${i}`);
    await redis.hdel(key, ...fields);
  }
}

const CASES = [
  { name: 'hash of 40000 fields shrunk to 11000, chunks of 97', grow: 40_000, keep: 11_000, limits: { chunkElements: 97 } },
  { name: 'hash of 4000 fields shrunk to 100, big above 50, chunks of 20', grow: 4000, keep: 100, limits: { bigKeyElements: 50, chunkElements: 20 } },
] as const;

describe.each(CASES)('a Redis drill of a $name', ({ grow, keep, limits }) => {
  let redis: Redis;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  const prefix = `${unique('drillchunk')}:`;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'drillchunk' });

  beforeAll(async () => {
    redis = await redisClient();
    s3 = await freshBucket(S3_SERVERS[0]!);
    await shrunkHash(redis, `${prefix}big`, grow, keep);
    // The reviewer's precondition: the source's copy stays a hash table.
    expect(await redis.object('ENCODING', `${prefix}big`)).toBe('hashtable');
    for (let i = 0; i < 3; i++) await redis.set(`${prefix}small${i}`, `v${i}`);
    const done = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${prefix}*`, ...limits }), target: storage() }).run();
    expect(done).toMatchObject({ status: 'complete' });
  }, 120_000);
  afterAll(async () => {
    const keys = await redis.keys(`*${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await s3.drop();
  });

  it('passes: the restored copy is chunked otherwise, its keys and content are the same', async () => {
    const scratch = redisTarget({ client: redis, keyPrefix: `${unique('scratch')}:` });
    const result = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch });
    expect(result.drill!.datasets).toEqual([expect.objectContaining({ expectedCount: 4, restoredCount: 4, ok: true })]);
  }, 120_000);

  it('still fails when a key is missing from the restored copy', async () => {
    const real = redisTarget({ client: redis, keyPrefix: `${unique('scratch')}:` });
    // A scratch target that loses one small key.
    const losing: RestoreTarget = {
      ...real,
      apply(dataset, lines, signal, call) {
        async function* skipOne(): AsyncGenerator<string> {
          for await (const line of lines) if (!line.includes('small1"')) yield line;
        }
        return real.apply(dataset, skipOne(), signal, call);
      },
    };
    const error = await verifyBackup({ backup: { storage: storage(), id: 'latest' }, level: 'drill', scratch: losing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationFailedError);
    expect((error as VerificationFailedError).problems.map((p) => p.message)).toEqual(['restored 3 keys, manifest says 4']);
  }, 120_000);
});
