/**
 * More public bug reports of peer backup tools and restores, replayed against @steadyfn/backup
 * on the real services (Redis, FerretDB, moto). One `it` per report, titled with it; the comment
 * says what went wrong for the peer and what we must do instead. (peer-bug-replays.test.ts
 * holds the first set.)
 */
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoSource, mongoTarget, redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { dropPrefix } from '../../../test/support/redis.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe('peer bug reports (2): what a restore must bring back besides the data', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  let source: Db;
  let target: Db;
  const prefix = unique('settings');
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    redis = await redisClient();
    source = await freshDb('settingsrc');
    target = await freshDb('settingdst');
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
  });

  it('awslabs/fhir-works-on-aws-deployment#546 (a restored table lost its Streams configuration: "restored resources can lose settings"), Redis: expiries come back — a key with a TTL is restored expiring no later than it would have, a key without one stays without', async () => {
    // A restore that drops TTLs turns short-lived keys (sessions, locks, rate-limit windows)
    // into keys that live for ever; one that resets them extends them past their end.
    const src = `${prefix}:ttl:`;
    await redis.set(`${src}session`, 'alice', 'PX', 3_600_000);
    await redis.set(`${src}config`, 'forever');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('ttl') };
    const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${src}*` }), target: storage }).run();
    if (result.status !== 'complete') throw new Error('snapshot did not complete');
    const dst = `${prefix}:restored:`;
    await restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client: redis, keyPrefix: dst }) });
    expect(await redis.get(`${dst}${src}session`)).toBe('alice');
    const restoredTtl = await redis.pttl(`${dst}${src}session`);
    const sourceTtl = await redis.pttl(`${src}session`);
    expect(restoredTtl).toBeGreaterThan(0);
    expect(restoredTtl).toBeLessThanOrEqual(sourceTtl + 1_000); // the original end, not a fresh hour from the restore
    expect(await redis.pttl(`${dst}${src}config`)).toBe(-1);
  });

  it('awslabs/fhir-works-on-aws-deployment#546, MongoDB: a restored collection keeps its unique index, so the restored data goes on refusing duplicates', async () => {
    const users = source.collection('users');
    await users.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await users.insertMany([{ _id: 1 as never, email: 'a@example.com' }, { _id: 2 as never, email: 'b@example.com' }]);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('idx') };
    const result = await snapshotBackup({ source: mongoSource({ db: source, collections: ['users'] }), target: storage }).run();
    if (result.status !== 'complete') throw new Error('snapshot did not complete');
    await restore({ backup: { storage, id: result.backupId }, target: mongoTarget({ db: target }) });
    const restored = target.collection('users');
    expect(await restored.countDocuments()).toBe(2);
    const indexes = await restored.indexes();
    expect(indexes.find((i) => i.name === 'email_unique')).toMatchObject({ key: { email: 1 }, unique: true });
    await expect(restored.insertOne({ _id: 3 as never, email: 'a@example.com' })).rejects.toMatchObject({ code: 11000 });
  });
});
