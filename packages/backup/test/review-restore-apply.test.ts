/**
 * Review (try-to-break) findings on the MongoDB restore target's apply pipeline, on FerretDB:
 * a batch write that fails while the next records are still being read (a part downloading)
 * must surface as a typed error from `apply()` — never as an unhandled rejection, which
 * crashes a Node process (the default `--unhandled-rejections=throw`) instead of failing the
 * restore with a typed error. (The failure here is a unique index refusing a document:
 * `IndexBuildError`, not retryable; any other write failure is a retryable `RestoreApplyError`.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { EJSON } from 'bson';
import type { Db } from 'mongodb';
import { IndexBuildError, mongoSource, mongoTarget, snapshotBackup } from '../src/index.js';
import { loadManifest } from '../src/restore/load.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('mongoTarget apply', () => {
  it('a batch that fails while the next part is read is a typed error (IndexBuildError here), not an unhandled rejection', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const source: Db = await freshDb('applysrc');
    const target: Db = await freshDb('applydst');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await source.collection<{ _id: number; email: string }>('users').insertOne({ _id: 1, email: 'a@example.com' });
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'apply' };
      const done = await snapshotBackup({ source: mongoSource({ db: source }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      const manifest = await loadManifest(storage, done.backupId);

      // A non-empty target whose unique index refuses the restored document (another _id has its
      // email). The index appears after prepare() — which refuses a unique index the backup does
      // not define (IndexConflictError) — as when it is created while the restore runs.
      await target.collection<{ _id: string; email: string }>('users').insertOne({ _id: 'existing', email: 'a@example.com' });
      const restoreTarget = mongoTarget({ db: target, batchSize: 1 });
      await restoreTarget.prepare(manifest);
      await target.collection('users').createIndex({ email: 1 }, { unique: true });
      async function* lines(): AsyncGenerator<string> {
        yield EJSON.stringify({ _id: 1, email: 'a@example.com' }, { relaxed: false });
        // The next part downloading: the failed write settles meanwhile.
        await delay(1500);
        yield EJSON.stringify({ _id: 2, email: 'b@example.com' }, { relaxed: false });
      }
      await expect(restoreTarget.apply(manifest.datasets[0]!, lines())).rejects.toBeInstanceOf(IndexBuildError);
      await delay(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await s3.drop();
    }
  });
});
