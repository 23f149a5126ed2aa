/**
 * A restore under a deadline: once `ctx.signal` aborts, the MongoDB target writes no further
 * batch (the one in flight settles) and the restore rejects with the signal's reason; what is
 * in the target is whole batches of the verified backup, and running the restore again
 * (idempotent) completes it. On FerretDB 1.24 and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { mongoSource, mongoTarget, restore, snapshotBackup, type RestoreTarget } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const DOCS = 3000;
const BATCH = 100;

describe('a restore whose signal aborts mid-restore', () => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'abort' });
  beforeAll(async () => {
    s3 = await freshBucket(S3_SERVERS[0]!);
    source = await freshDb('abortsrc');
    await source.collection<{ _id: number; v: string }>('orders').insertMany(Array.from({ length: DOCS }, (_, i) => ({ _id: i, v: `v${i}` })));
    expect(await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run()).toMatchObject({ status: 'complete' });
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  it('MongoDB: stops between batches, rejects with the reason, and a second restore completes', async () => {
    const target = await freshDb('abortdst');
    const controller = new AbortController();
    const reason = new Error('deadline');
    const real = mongoTarget({ db: target, batchSize: BATCH });
    // Aborts once the restore has handed the target 2.5 batches (the writes are the real target's).
    const aborting: RestoreTarget = {
      ...real,
      apply: (dataset, lines, signal) =>
        real.apply(
          dataset,
          (async function* () {
            let n = 0;
            for await (const line of lines) {
              if (++n === BATCH * 2.5) controller.abort(reason);
              yield line;
            }
          })(),
          signal,
        ),
    };
    const error = await restore({ backup: { storage: storage(), id: 'latest' }, target: aborting }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    // Let anything still going settle, then count: only the batches before the abort (the third one,
    // started after it, never is).
    await new Promise((r) => setTimeout(r, 500));
    const written = await target.collection('orders').countDocuments();
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(BATCH * 2);
    expect(written % BATCH).toBe(0);

    expect(await restore({ backup: { storage: storage(), id: 'latest' }, target: mongoTarget({ db: target, batchSize: BATCH }) })).toMatchObject({ records: DOCS });
    expect(await target.collection('orders').countDocuments()).toBe(DOCS);
    await target.dropDatabase();
  });
});
