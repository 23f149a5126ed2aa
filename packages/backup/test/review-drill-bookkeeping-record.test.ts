/**
 * A backup made by an earlier version of a keyspace a restore or drill once wrote can hold
 * steadyfn's bookkeeping keys (restore locks and markers, drill markers). A restore counts such
 * a record and never writes it; a drill of that backup must leave it out of the backup's side
 * of its comparison too — else every drill of it fails ("restored 3 records, manifest says 4").
 * On real Redis (7) and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisSource, redisTarget, snapshotBackup, verifyBackup, type SnapshotSource } from '../src/index.js';
import { recordDigest } from '../src/format/records.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

/** `source`, whose first record is followed by one bookkeeping record named `key` (as an earlier version backed up). */
function withBookkeeping(source: SnapshotSource, key: string): SnapshotSource {
  return {
    ...source,
    async *read(dataset, resume, signal, history) {
      let first = true;
      for await (const record of source.read(dataset, resume, signal, history)) {
        yield record;
        if (!first) continue;
        first = false;
        const line = JSON.stringify({ ...JSON.parse(record.line), k: key });
        yield { ...record, key, line, digest: recordDigest('redis-keyspace', line) };
      }
    },
  };
}

describe('a drill of a backup holding a bookkeeping record', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  const data = unique('rbk') + ':';
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'bk' });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    redis = await redisClient();
    for (let i = 0; i < 3; i++) await redis.set(`${data}k${i}`, `v${i}`);
  });
  afterAll(async () => {
    for (const key of await redis.keys(`${data}*`)) await redis.del(key);
    redis.disconnect();
    await s3.drop();
  });

  it.each(['steadyfn:drill-marker:old-scratch:', 'steadyfn:restore-marker:'])('passes: %s is counted by the restore, not expected back', async (key) => {
    const source = withBookkeeping(redisSource({ client: redis, pattern: `${data}*` }), key);
    const done = await snapshotBackup({ source, target: storage() }).run();
    if (done.status !== 'complete') throw new Error('backup did not complete');
    expect(done.records).toBe(4);
    const scratch = unique('rbkscratch') + ':';
    const report = await verifyBackup({ backup: { storage: storage(), id: done.backupId }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: scratch }) });
    expect(report.drill!.datasets[0]).toMatchObject({ expectedCount: 3, restoredCount: 3, ok: true });
    expect(report.ok).toBe(true);
    expect(await redis.keys(`${scratch}*`)).toEqual([]);
    expect(await redis.exists(`${scratch}${key}`)).toBe(0);
  });
});
