/**
 * Review (try-to-break) finding on a snapshot stopped by its signal (the invocation's deadline)
 * mid-run, on FerretDB and moto: it rejected with whatever call the abort interrupted — a
 * `SourceReadError` "reading items from the source failed" (retryable, pointing at the database)
 * or the SDK's raw `AbortError`. It must reject with the signal's reason, as every steadyfn call
 * does, and the next run must resume and complete.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe('a snapshot aborted mid-run', () => {
  let source: Db;
  beforeAll(async () => {
    source = await freshDb('abortsrc');
    const items = source.collection<{ _id: number; blob: string }>('items');
    for (let i = 0; i < 160; i += 20) await items.insertMany(Array.from({ length: 20 }, (_, j) => ({ _id: i + j, blob: randomBytes(75_000).toString('base64') })));
  }, 120_000);

  it('stops with the signal’s reason (or checkpoints), whatever it interrupts; the next run completes', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      const job = () =>
        snapshotBackup({ source: mongoSource({ db: source, batchSize: 10 }), target: { client: s3.client, bucket: s3.bucket, prefix: 'abort' }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024, leaseMs: 2000 });
      const outcomes: string[] = [];
      // Aborts landing at different moments: during a read, an upload, or between them.
      for (const afterMs of [150, 400, 700, 1000, 1400]) {
        const controller = new AbortController();
        const reason = new Error(`deadline after ${afterMs} ms`);
        const timer = setTimeout(() => controller.abort(reason), afterMs);
        const outcome = await job()
          .run({ signal: controller.signal })
          .then(
            (result) => (result.status === 'checkpointed' ? `checkpointed:${result.reason}` : result.status),
            (error: unknown) => (error === reason ? 'reason' : `other:${(error as Error).name}`),
          );
        clearTimeout(timer);
        outcomes.push(outcome);
        if (outcome === 'complete') break;
      }
      expect(outcomes.filter((o) => o !== 'reason' && o !== 'checkpointed:signal' && o !== 'complete')).toEqual([]);
      let next;
      for (let attempt = 0; attempt < 20 && !next; attempt++) {
        next = await job()
          .run()
          .catch(async (error: unknown) => {
            if ((error as { code?: string }).code !== 'BACKUP_LEASE_HELD') throw error;
            await new Promise((r) => setTimeout(r, 500));
            return undefined;
          });
      }
      if (!outcomes.includes('complete')) expect(next).toMatchObject({ status: 'complete', resumed: true });
    } finally {
      await s3.drop();
    }
  }, 120_000);
});
