/**
 * Review finding on snapshot runs, on FerretDB and moto: a run with `remainingMs` but no signal
 * checked its deadline first after the source yielded its first record — and FerretDB sorts a
 * whole collection before its first document (~3 s for 30k documents), so a run with no time
 * left still opened the cursor and overran. The clock is now read before the source is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, snapshotBackup, type SnapshotSource } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, timeOnlyAtStart } from './support.js';

describe('a snapshot run out of time before a dataset', () => {
  let db: Db;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    db = await freshDb('cursor');
    await db.collection('orders').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i as never, n: i })));
    s3 = await freshBucket(S3_SERVERS[0]!);
  });
  afterAll(async () => {
    await s3.drop();
    await db.dropDatabase();
    await closeMongo();
  });

  it('checkpoints without opening the source cursor', async () => {
    const real = mongoSource({ db });
    // Counts the reads the run starts pulling (a generator's body runs on its first next()).
    let opened = 0;
    const source: SnapshotSource = {
      ...real,
      async *read(...args) {
        opened++;
        yield* real.read(...args);
      },
    };
    const result = await snapshotBackup({ source, target: { client: s3.client, bucket: s3.bucket, prefix: 'cursor' } }).run(timeOnlyAtStart());
    expect(result).toMatchObject({ status: 'checkpointed', reason: 'deadline', datasetsDone: 0 });
    expect(opened).toBe(0);
  }, 60_000);
});
