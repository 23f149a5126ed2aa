/**
 * Review (as a new user): `mongoSource({ collections: ['ordres'] })` — a typo, or a collection
 * dropped since the job was written — failed every run with `SourceReadError`
 * (`BACKUP_SOURCE_FAILED`, retryable: the schedule retries it forever) and a message that only
 * said "describing the source failed (MongoServerError 26)". It must be a `ConfigurationError`
 * (`CONFIG_INVALID`, not retryable) naming the field and the missing collection, with nothing
 * written. Real FerretDB and gofakes3.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('a collections list naming a collection the database lacks', () => {
  it('is refused with ConfigurationError naming collections and the missing one', async () => {
    const bucket = await freshBucket(S3_SERVERS[1]!);
    try {
      const db = await freshDb('src');
      await db.collection('orders').insertOne({ _id: 1 } as never);
      const job = snapshotBackup({ source: mongoSource({ db, collections: ['orders', 'ordres'] }), target: { client: bucket.client, bucket: bucket.bucket, prefix: 'shop' } });
      const error = await job.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigurationError).retryable).toBe(false);
      expect((error as ConfigurationError).field).toBe('collections');
      expect((error as Error).message).toContain('"ordres"');
      // Nothing but the job's lease was written: no checkpoint, no backup object.
      expect((await listAll(bucket.client, bucket.bucket)).filter((k) => !k.endsWith('/lease.json'))).toEqual([]);
    } finally {
      await bucket.drop();
    }
  }, 60_000);
});
