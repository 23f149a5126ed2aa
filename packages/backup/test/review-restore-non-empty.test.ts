/**
 * Review follow-up: a restore into a non-empty target merged with what was there — documents or
 * keys the backup does not have stayed — with only a warning. A restore now refuses a target
 * holding data where it writes (`RestoreTargetNotEmptyError`, `RESTORE_TARGET_NOT_EMPTY`, naming
 * the collection or key prefix; nothing written) unless told `ifTargetNotEmpty: 'merge'`, which
 * merges and warns as before. A target holding only an unfinished restore's part (its marker
 * is there) is restored again without refusal. `restoreStream` and `pointInTimeRestore` alike.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { ConfigurationError, RestoreTargetNotEmptyError, mongoSource, mongoTarget, redisSource, redisStreamSource, redisTarget, restore, restoreStream, snapshotBackup, streamBackup } from '../src/index.js';
import { RESTORE_MARKER_COLLECTION } from '../src/restore/lock-places.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';
import { startRedis } from '../../../test/support/servers.js';

const quits: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await closeMongo();
  for (const q of quits) await q();
});

async function refusal(run: Promise<unknown>): Promise<RestoreTargetNotEmptyError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RestoreTargetNotEmptyError);
  expect((error as RestoreTargetNotEmptyError).code).toBe('RESTORE_TARGET_NOT_EMPTY');
  expect((error as RestoreTargetNotEmptyError).field).toBe('ifTargetNotEmpty');
  return error as RestoreTargetNotEmptyError;
}

describe('restore into a non-empty target', () => {
  it('MongoDB: refused by default naming the collection (nothing written); merged with a warning when asked; an unfinished restore’s part is restored again', async () => {
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
      const refused = await refusal(restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) }));
      expect(refused.problems).toEqual([{ key: 'collection orders', message: expect.stringMatching(/holds 3 document.*expected empty/) }]);
      expect(refused.message).toMatch(/ifTargetNotEmpty: 'merge'/);
      expect(await target.collection('orders').countDocuments()).toBe(3);
      expect(await target.collection('users').countDocuments()).toBe(0);

      const error = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'drop' as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).message).toMatch(/ifTargetNotEmpty/);

      const report = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });
      const notEmpty = report.warnings.filter((w) => /already held/.test(w));
      expect(notEmpty).toHaveLength(1);
      expect(notEmpty[0]).toMatch(/orders/);
      expect(notEmpty[0]).toMatch(/3 document/);
      // The merge it warns about: the documents the backup does not have are still there.
      expect(await target.collection('orders').countDocuments()).toBe(4);

      const clean = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: empty }) });
      expect(clean.warnings.filter((w) => /already held/.test(w))).toEqual([]);
      // Restoring the same backup again into the now complete target is a restore into a non-empty target.
      await refusal(restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: empty }) }));
      // An unfinished restore's marker: the target holds its part, restoring again completes it.
      await empty.collection(RESTORE_MARKER_COLLECTION).insertOne({ _id: 'restore' as never, backupId: report.backupId, startedAt: new Date().toISOString() });
      const again = await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: empty }) });
      expect(again.warnings.some((w) => /did not finish/.test(w))).toBe(true);
      expect(await empty.collection('orders').countDocuments()).toBe(2);
    } finally {
      await s3.drop();
    }
  });

  it('Redis: refused without a key prefix when the database holds keys, and under a prefix holding keys; merged when asked', async () => {
    const client = await redisClient();
    quits.push(() => client.quit());
    // Without a prefix the whole database counts: its own server, so only the key written here is in it.
    const own = await startRedis();
    const alone = new Redis(own.url, { maxRetriesPerRequest: 2 });
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('nonempty');
    const q = unique('nonemptyp');
    try {
      await client.set(`${p}:a`, '1');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ner' };
      expect((await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage }).run()).status).toBe('complete');
      expect(await alone.dbsize()).toBe(0);
      await alone.set(`${p}:extra`, 'kept');
      const refused = await refusal(restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client: alone }) }));
      expect(refused.problems).toEqual([{ key: expect.stringMatching(/database/), message: expect.stringMatching(/1 key.*expected empty/) }]);
      expect(await alone.exists(`${p}:a`)).toBe(0);
      // The refusal came from that key: without it the same restore runs.
      await alone.del(`${p}:extra`);
      expect((await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client: alone }) })).records).toBe(1);
      await alone.set(`${p}:extra`, 'kept');
      const report = await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client: alone }), ifTargetNotEmpty: 'merge' });
      expect(report.warnings.some((w) => /already held/.test(w) && /key/.test(w))).toBe(true);
      expect(await alone.get(`${p}:extra`)).toBe('kept');

      // Under a prefix: only the keys under it count.
      expect((await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client, keyPrefix: `${q}[*]:` }) })).records).toBe(1);
      const underPrefix = await refusal(restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client, keyPrefix: `${q}[*]:` }) }));
      expect(underPrefix.problems).toEqual([{ key: `keys under keyPrefix "${q}[*]:"`, message: expect.stringMatching(/expected empty/) }]);
    } finally {
      await client.del(`${p}:a`, `${q}[*]:${p}:a`);
      alone.disconnect();
      await own.dispose();
      await s3.drop();
    }
  });

  /** A backup of `orders` (`_id` 1 and 2) and a target whose `orders` holds `_id` 99. */
  async function oneHeld(storage: { client: S3Client; bucket: string; prefix: string }): Promise<{ source: Db; target: Db }> {
    const source: Db = await freshDb('nesrc2');
    const target: Db = await freshDb('nedst2');
    await source.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
    expect((await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run()).status).toBe('complete');
    await target.collection<{ _id: number }>('orders').insertOne({ _id: 99 });
    return { source, target };
  }

  it('MongoDB: emptiness is exact: a collection whose estimated count says 0 but holds documents is refused', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'nx' };
    const { source, target } = await oneHeld(storage);
    try {
      // The collection's metadata count is off (as after an unclean shutdown): it says 0.
      const stale = new Proxy(target, {
        get(db, prop, receiver) {
          if (prop !== 'collection') return Reflect.get(db, prop, receiver);
          return (name: string) => {
            const collection = db.collection(name);
            return new Proxy(collection, {
              get(c, p, r) {
                if (p === 'estimatedDocumentCount') return async () => 0;
                const value = Reflect.get(c, p, r) as unknown;
                return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(c) : value;
              },
            });
          };
        },
      });
      const refused = await refusal(restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: stale }) }));
      expect(refused.problems).toEqual([{ key: 'collection orders', message: expect.stringMatching(/holds at least 1 document.*expected empty/) }]);
      expect(await target.collection('orders').countDocuments()).toBe(1);
    } finally {
      await s3.drop();
      await source.dropDatabase();
      await target.dropDatabase();
    }
  });

  it('a custom target without heldData is refused up front (ConfigurationError naming ifTargetNotEmpty, nothing written) unless merging', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'nh' };
    const { source, target } = await oneHeld(storage);
    try {
      // It cannot say what it holds: not merged into unchecked under the default.
      const { heldData: _held, ...bare } = mongoTarget({ db: target });
      const error = await restore({ backup: { storage, id: 'latest' }, target: bare }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigurationError).field).toBe('ifTargetNotEmpty');
      expect((error as ConfigurationError).message).toMatch(/heldData\(\).*ifTargetNotEmpty: 'merge'/);
      expect(await target.collection('orders').countDocuments()).toBe(1);
      expect((await restore({ backup: { storage, id: 'latest' }, target: bare, ifTargetNotEmpty: 'merge' })).records).toBe(2);
      expect(await target.collection('orders').countDocuments()).toBe(3);
    } finally {
      await s3.drop();
      await source.dropDatabase();
      await target.dropDatabase();
    }
  });

  it('restoreStream: refused once the stream is checked when a collection it writes holds documents (nothing written); merged when asked', async () => {
    const redis = await redisClient();
    quits.push(() => redis.quit());
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const key = unique('nestream');
    const target = await freshDb('nestream');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'ns' };
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 3; i++) await app.put(`o${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } }).run();
      await target.collection<{ _id: string }>('orders').insertOne({ _id: 'mine' });
      const refused = await refusal(restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) }));
      expect(refused.problems.map((x) => x.key)).toEqual(['collection orders']);
      expect(await target.collection('orders').countDocuments()).toBe(1);
      const merged = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }), ifTargetNotEmpty: 'merge' });
      expect(merged.changes).toBe(3);
      expect(await target.collection('orders').countDocuments()).toBe(4);
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  });
});
