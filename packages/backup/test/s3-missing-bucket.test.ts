/**
 * Brief lf item 2, on moto and gofakes3: S3 answers a request to a bucket that does not exist
 * with a 404 (`NoSuchBucket`; a HEAD's bodiless `NotFound`), which the shared `isNotFound`
 * read as "the object is missing": a deleted or misspelt bucket became "no checkpoint", "no
 * backup", "already gone". It is the permanent `StorageError` naming the bucket, from the
 * package's reads, multipart listing, conditional writes and deletes; a missing object in a
 * bucket that exists still reads as absent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError, mongoSource, mongoTarget, restore, snapshotBackup } from '../src/index.js';
import { getObject, headObject } from '../src/s3/client.js';
import { listParts } from '../src/s3/multipart.js';
import { deleteIfUnchanged, putIfAbsent, putIfMatch } from '../src/s3/conditional.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

/** The permanent StorageError naming `bucket`. */
function expectNoSuchBucket(error: unknown, bucket: string): void {
  expect(error).toBeInstanceOf(StorageError);
  expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable: false, bucket });
  expect((error as Error).message).toContain(`"${bucket}" does not exist`);
}

describe.each(S3_SERVERS)('a bucket that does not exist, on $name', (server) => {
  it('is a permanent StorageError naming it for every read, listing, conditional write and delete — not a missing object', async () => {
    const s3 = await freshBucket(server);
    await s3.drop();
    const loc = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    for (const both of [true, false]) {
      const caps = { ifMatch: both, ifNoneMatch: both };
      const attempts: Array<() => Promise<unknown>> = [
        () => getObject(loc, 'p/checkpoint.json'),
        () => headObject(loc, 'p/manifest.json'),
        () => listParts(loc, 'p/segment', 'upload-id'),
        () => putIfMatch(loc, caps, 'p/checkpoint.json', '"etag"', '{}'),
        () => putIfAbsent(loc, caps, 'p/checkpoint.json', '{}'),
        () => deleteIfUnchanged(loc, caps, 'p/checkpoint.json', '"etag"'),
      ];
      for (const attempt of attempts) expectNoSuchBucket(await attempt().catch((e: unknown) => e), s3.bucket);
    }
  });

  it('leaves a missing object in a bucket that exists absent', async () => {
    const s3 = await freshBucket(server);
    try {
      const loc = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
      expect(await getObject(loc, 'p/none')).toBeUndefined();
      expect(await headObject(loc, 'p/none')).toBeUndefined();
      expect(await deleteIfUnchanged(loc, { ifMatch: false }, 'p/none', '"etag"')).toBe('gone');
      expect(await putIfMatch(loc, { ifMatch: false }, 'p/none', '"etag"', '{}')).toEqual({ written: false });
    } finally {
      await s3.drop();
    }
  });

  it('deleted after a backup: a restore of that backup id names the bucket, not "no such backup"', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('nsbrestore');
    const to = await freshDb('nsbrestoreto');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      await db.collection('a').insertOne({ _id: 1 } as never);
      const done = await snapshotBackup({ source: mongoSource({ db }), target: storage }).run();
      expect(done.status).toBe('complete');
      await s3.drop(); // the same client: its probe of the location is remembered
      const error = await restore({ backup: { storage, id: done.backupId! }, target: mongoTarget({ db: to }) }).catch((e: unknown) => e);
      expectNoSuchBucket(error, s3.bucket);
    } finally {
      await Promise.all([db.dropDatabase(), to.dropDatabase()]);
    }
  }, 60_000);
});
