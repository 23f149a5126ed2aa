/**
 * Review follow-up: restoring into a collection that already holds a document which clashes
 * with a unique index of the backup (another `_id`, the same unique value). The data is
 * written, then the index build fails — and that was a retryable `RestoreApplyError`, though
 * running the restore again can never build the index. It must be a terminal typed error
 * (`IndexBuildError`, `RESTORE_INDEX_BUILD_FAILED`, not retryable) naming the collection and
 * the index. On FerretDB, which supports unique indexes (and answers a failed build with an
 * `InternalError` naming the UNIQUE constraint, not MongoDB's `DuplicateKey` 11000).
 *
 * The targets here hold data on purpose: every restore merges (`ifTargetNotEmpty: 'merge'`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { BackupError, RestoreApplyError, mongoSource, mongoTarget, restore, restoreStatus, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/**
 * `db` whose `users` collection refuses every insert and replace as a duplicate key (`extra`
 * added to a replace's error): as when another writer keeps writing the same `_id`, or, with
 * `keyPattern`, as MongoDB names the unique index that refused it. `calls` counts the calls of
 * each method of that collection.
 */
function duplicatingReplace(db: Db, extra: Record<string, unknown>, calls: Record<string, number> = {}): Db {
  return new Proxy(db, {
    get(t, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(t, prop, receiver);
      return (name: string) => {
        const collection = t.collection(name);
        if (name !== 'users') return collection;
        return new Proxy(collection, {
          get(c, p, r) {
            if (typeof p === 'string') calls[p] = (calls[p] ?? 0) + 1;
            if (p === 'insertMany') {
              return async (docs: unknown[]) =>
                Promise.reject(Object.assign(new Error('E11000 duplicate key error'), { name: 'MongoBulkWriteError', code: 11000, writeErrors: docs.map((_, index) => ({ index, code: 11000 })) }));
            }
            if (p === 'replaceOne') return async () => Promise.reject(Object.assign(new Error('E11000 duplicate key error'), { name: 'MongoServerError', code: 11000, ...extra }));
            const value = Reflect.get(c, p, r);
            return typeof value === 'function' ? value.bind(c) : value;
          },
        });
      };
    },
  });
}

describe('mongoTarget: a unique index the target data cannot satisfy', () => {
  it('is a terminal IndexBuildError naming the collection and the index', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc');
    const target: Db = await freshDb('uqdst');
    try {
      await source.collection<{ _id: number; email: string }>('users').insertMany([
        { _id: 1, email: 'a@example.com' },
        { _id: 2, email: 'b@example.com' },
      ]);
      await source.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');

      // The target already holds another document with a's email, and no index that clashes.
      await target.collection<{ _id: string; email: string }>('users').insertOne({ _id: 'older', email: 'a@example.com' });
      const error = await restore({ backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge', target: mongoTarget({ db: target }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).name).toBe('IndexBuildError');
      expect((error as BackupError).code).toBe('RESTORE_INDEX_BUILD_FAILED');
      expect((error as BackupError).retryable).toBe(false);
      expect((error as BackupError).problems).toEqual([expect.objectContaining({ key: 'users', message: expect.stringContaining('email_unique') })]);
      expect((error as Error).message).toMatch(/users/);
      expect((error as Error).message).toMatch(/email_unique/);
    } finally {
      await s3.drop();
    }
  });

  it('the target already has the same unique index: the same terminal IndexBuildError (was a retryable RESTORE_APPLY_FAILED naming only the driver code), no message payload', async () => {
    // Peer replay (mongorestore reports duplicate-key failures of secondary unique indexes as
    // generic insertion errors): here the clash is met by the write itself, not the index build.
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc2');
    const target: Db = await freshDb('uqdst2');
    try {
      await source.collection<{ _id: number; email: string }>('users').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, email: `u${i}@example.com` })));
      await source.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq2' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');

      await target.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await target.collection<{ _id: string; email: string }>('users').insertOne({ _id: 'older', email: 'u7@example.com' });
      const error = await restore({ backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge', target: mongoTarget({ db: target, batchSize: 5 }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).code).toBe('RESTORE_INDEX_BUILD_FAILED');
      expect((error as BackupError).retryable).toBe(false);
      expect((error as BackupError).problems).toEqual([expect.objectContaining({ key: 'users', message: expect.stringContaining('email_unique') })]);
      expect((error as Error).message).not.toContain('u7@example.com');
      // The target's own document is kept, and the restore is reported unfinished.
      expect(await target.collection('users').findOne({ _id: 'older' as never })).toEqual({ _id: 'older', email: 'u7@example.com' });
      expect((await restoreStatus(mongoTarget({ db: target }))).complete).toBe(false);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it('a unique value that moved in the target since the backup: the refused document is written again after the last batch, and the restore completes (was a terminal IndexBuildError)', async () => {
    // In-place restore over a live database: the backup has {1, a} and {2, b}; the target now has
    // {2, a}. With one document per batch, 1 is refused (2 holds a) until 2's batch moves it to b.
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc3');
    const target: Db = await freshDb('uqdst3');
    try {
      await source.collection<{ _id: number; email: string }>('users').insertMany([
        { _id: 1, email: 'a@example.com' },
        { _id: 2, email: 'b@example.com' },
      ]);
      await source.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq3' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');

      await target.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await target.collection<{ _id: number; email: string }>('users').insertOne({ _id: 2, email: 'a@example.com' });
      // The target really enforces the index: {1, a} is refused while 2 holds a.
      await expect(target.collection<{ _id: number; email: string }>('users').insertOne({ _id: 1, email: 'a@example.com' })).rejects.toThrow();

      await restore({ backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge', target: mongoTarget({ db: target, batchSize: 1 }) });
      expect(await target.collection('users').find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, email: 'a@example.com' },
        { _id: 2, email: 'b@example.com' },
      ]);
      expect((await restoreStatus(mongoTarget({ db: target }))).complete).toBe(true);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it('a document refused twice on a collection without a secondary unique index (an _id race) is a retryable RestoreApplyError, not IndexBuildError', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc4');
    const target: Db = await freshDb('uqdst4');
    try {
      await source.collection<{ _id: number; email: string }>('users').insertMany([{ _id: 1, email: 'a@example.com' }]);
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq4' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');
      // Every insert and replace of the target's users meets a duplicate; the target has no secondary unique index.
      const error = await restore({ backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge', target: mongoTarget({ db: duplicatingReplace(target, {}) }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RestoreApplyError);
      expect((error as BackupError).retryable).toBe(true);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it("a still-refused document names only the index of the driver error's keyPattern (MongoDB gives it; FerretDB does not)", async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc5');
    const target: Db = await freshDb('uqdst5');
    try {
      await source.collection<{ _id: number; email: string; handle: string }>('users').insertMany([{ _id: 1, email: 'a@example.com', handle: 'handle-of-a' }]);
      await source.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await source.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq5' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');
      await target.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await target.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      const error = await restore({
        backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge',
        target: mongoTarget({ db: duplicatingReplace(target, { keyPattern: { handle: 1 }, keyValue: { handle: 'handle-of-a' } }) }),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).code).toBe('RESTORE_INDEX_BUILD_FAILED');
      expect((error as BackupError).problems).toEqual([{ key: 'users', message: 'unique index handle_unique' }]);
      expect((error as Error).message).not.toContain('email_unique');
      // The value the injected error carries (its keyValue, the document's handle) is in no message or problem.
      expect((error as Error).message).not.toContain('handle-of-a');
      expect(JSON.stringify((error as BackupError).problems)).not.toContain('handle-of-a');
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it('a target holding a copy of the data under other _ids: one document past the 1,000 held to write again is an IndexBuildError at once, naming the index, no value (was: every document held, each written again, then named)', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc6');
    const target: Db = await freshDb('uqdst6');
    try {
      await source.collection<{ _id: number; handle: string }>('users').insertMany(Array.from({ length: 1001 }, (_, i) => ({ _id: i, handle: `h${i}` })));
      await source.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq6' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');
      await target.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      // Every document of the backup is refused by handle_unique (MongoDB names it by keyPattern).
      const calls: Record<string, number> = {};
      const error = await restore({
        backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge',
        target: mongoTarget({ db: duplicatingReplace(target, { keyPattern: { handle: 1 }, keyValue: { handle: 'h7' } }, calls), batchSize: 1000 }),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).code).toBe('RESTORE_INDEX_BUILD_FAILED');
      expect((error as BackupError).retryable).toBe(false);
      expect((error as BackupError).problems).toEqual([{ key: 'users', message: 'unique index handle_unique' }]);
      expect((error as Error).message).toMatch(/at least 1001 documents/);
      expect((error as Error).message).not.toContain('h7');
      // Thrown at the 1,001st refused document: two replace attempts each, none written again;
      // the keyPattern names a secondary unique index, so no index listing per document.
      expect(calls.replaceOne).toBe(2 * 1001);
      // (Index listings: prepare's check, its repeat under the restore lock, at most one for the refusal.)
      expect(calls.indexes ?? 0).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });

  it('documents refused by different unique indexes: the error names every one of them (was: only the first clash\'s)', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('uqsrc7');
    const target: Db = await freshDb('uqdst7');
    try {
      await source.collection<{ _id: number; email: string; handle: string }>('users').insertMany([
        { _id: 1, email: 'a@example.com', handle: 'a' },
        { _id: 2, email: 'b@example.com', handle: 'b' },
      ]);
      await source.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await source.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'uq7' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      expect(done.status).toBe('complete');
      await target.collection('users').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
      await target.collection('users').createIndex({ handle: 1 }, { unique: true, name: 'handle_unique' });
      // Other documents of the target hold 1's email and 2's handle.
      await target.collection<{ _id: string; email: string; handle: string }>('users').insertMany([
        { _id: 'x', email: 'a@example.com', handle: 'x' },
        { _id: 'y', email: 'y@example.com', handle: 'b' },
      ]);
      // MongoDB names the index by keyPattern; FerretDB does not: add it as MongoDB would.
      const named = new Proxy(target, {
        get(t, prop, receiver) {
          if (prop !== 'collection') return Reflect.get(t, prop, receiver);
          return (name: string) => {
            const collection = t.collection(name);
            return new Proxy(collection, {
              get(c, p, r) {
                if (p === 'replaceOne') {
                  return async (filter: { _id: unknown }, doc: unknown, options: unknown) =>
                    c.replaceOne(filter as never, doc as never, options as never).catch((e: unknown) => {
                      throw Object.assign(e as object, { keyPattern: Number(filter._id) === 1 ? { email: 1 } : { handle: 1 } });
                    });
                }
                const value = Reflect.get(c, p, r);
                return typeof value === 'function' ? value.bind(c) : value;
              },
            });
          };
        },
      }) as Db;
      const error = await restore({ backup: { storage, id: 'latest' }, ifTargetNotEmpty: 'merge', target: mongoTarget({ db: named }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).code).toBe('RESTORE_INDEX_BUILD_FAILED');
      expect(((error as BackupError).problems ?? []).map((p) => p.message).sort()).toEqual(['unique index email_unique', 'unique index handle_unique']);
    } finally {
      await Promise.all([source.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
