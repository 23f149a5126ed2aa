/**
 * Review (try-to-break) findings on the MongoDB restore target's apply pipeline, on FerretDB:
 * a batch write that fails while the next records are still being read (a part downloading)
 * must surface as a typed error from `apply()` — never as an unhandled rejection, which
 * crashes a Node process (the default `--unhandled-rejections=throw`) instead of failing the
 * restore with a typed error. (The failure here is a document the server refuses: an array
 * `_id`, a retryable `RestoreApplyError`; a document a unique index refuses is written again
 * after the last batch, so it no longer fails a batch.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { EJSON } from 'bson';
import type { Db } from 'mongodb';
import { RestoreApplyError, mongoSource, mongoTarget, snapshotBackup } from '../src/index.js';
import { loadManifest } from '../src/restore/load.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('mongoTarget apply', () => {
  it('a batch that fails while the next part is read is a typed error (RestoreApplyError here), not an unhandled rejection', async () => {
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

      // The first batch holds a document the server refuses (MongoDB and FerretDB: an _id cannot be an array).
      const restoreTarget = mongoTarget({ db: target, batchSize: 1 });
      await restoreTarget.prepare(manifest);
      async function* lines(): AsyncGenerator<string> {
        yield EJSON.stringify({ _id: [1, 2], email: 'a@example.com' }, { relaxed: false });
        // The next part downloading: the failed write settles meanwhile.
        await delay(1500);
        yield EJSON.stringify({ _id: 2, email: 'b@example.com' }, { relaxed: false });
      }
      await expect(restoreTarget.apply(manifest.datasets[0]!, lines())).rejects.toBeInstanceOf(RestoreApplyError);
      await delay(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await s3.drop();
    }
  });
});
