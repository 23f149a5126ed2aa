/**
 * Brief lf item 1, on FerretDB and both S3 servers: a snapshot run read the clock before it
 * opened a dataset's source but not again at the first record, so a run whose deadline passed
 * while the source opened (FerretDB sorts a whole collection before its first document) went on
 * and wrote the dataset (a segment, completed). The first record is checked as every later
 * part's start is: the run stops before writing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, snapshotBackup, type SnapshotSource } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, listAll, openUploads, S3_SERVERS } from './support.js';

describe.each(S3_SERVERS)('a snapshot whose deadline passes while the source opens, on $name', (server) => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb('firstrec');
    await db.collection('orders').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i as never, n: i })));
  });
  afterAll(async () => {
    await db.dropDatabase();
    await closeMongo();
  });

  it('stops at the first record: no upload, no segment, the run checkpointed by the deadline', async () => {
    const s3 = await freshBucket(server);
    try {
      const real = mongoSource({ db });
      // The clock has ample time until the source is opened (the generator's body runs on the
      // run's first next()), then 1 ms: the time the opening took used the rest.
      let opened = false;
      const source: SnapshotSource = {
        ...real,
        async *read(...args) {
          opened = true;
          yield* real.read(...args);
        },
      };
      const result = await snapshotBackup({ source, target: { client: s3.client, bucket: s3.bucket, prefix: 'first' } }).run({ remainingMs: () => (opened ? 1 : 600_000) });
      expect(opened).toBe(true);
      expect(result).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect((await listAll(s3.client, s3.bucket, 'first/backups/')).filter((k) => k.endsWith('.ndjson.gz'))).toEqual([]);
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
