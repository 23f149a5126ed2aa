/**
 * Review follow-up: a restore into a non-empty target merges with what is there — documents
 * or keys the backup does not have stay — and said nothing. The report's `warnings` must say
 * which restored collections already held documents (and how many), and, for a Redis target
 * with no key prefix, that the database already held keys. An empty target gets no such warning.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

const quits: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await closeMongo();
  for (const q of quits) await q();
});

describe('restore into a non-empty target', () => {
  it('MongoDB: warns per collection that already held documents, which are kept', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('nesrc');
    const target: Db = await freshDb('nedst');
    const empty: Db = await freshDb('neempty');
    try {
      await source.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      await source.collection<{ _id: number }>('users').insertOne({ _id: 1 });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ne' };
      expect((await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run()).status).toBe('complete');

      await target.collection<{ _id: number }>('orders').insertMany([{ _id: 2 }, { _id: 99 }, { _id: 100 }]);
      const report = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      const notEmpty = report.warnings.filter((w) => /already held/.test(w));
      expect(notEmpty).toHaveLength(1);
      expect(notEmpty[0]).toMatch(/orders/);
      expect(notEmpty[0]).toMatch(/3 document/);
      // The merge it warns about: the document the backup does not have is still there.
      expect(await target.collection('orders').countDocuments()).toBe(4);

      const clean = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: empty }) });
      expect(clean.warnings.filter((w) => /already held/.test(w))).toEqual([]);
    } finally {
      await s3.drop();
    }
  });

  it('Redis without a key prefix: warns that the database already held keys', async () => {
    const client = await redisClient();
    quits.push(() => client.quit());
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('nonempty');
    try {
      await client.set(`${p}:a`, '1');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ner' };
      expect((await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage }).run()).status).toBe('complete');
      await client.set(`${p}:extra`, 'kept');
      const report = await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client }) });
      expect(report.warnings.some((w) => /already held/.test(w) && /key/.test(w))).toBe(true);
      expect(await client.get(`${p}:extra`)).toBe('kept');
    } finally {
      await client.del(`${p}:a`, `${p}:extra`);
      await s3.drop();
    }
  });
});
