/**
 * Review (try-to-break) finding on a snapshot stopped by its signal (the invocation's deadline)
 * mid-run, on FerretDB and moto: it rejected with whatever call the abort interrupted — a
 * `SourceReadError` "reading items from the source failed" (retryable, pointing at the database)
 * or the SDK's raw `AbortError`. It must reject with the signal's reason, as every steadyfn call
 * does, and the next run must resume and complete.
 *
 * The timed aborts land wherever the machine's speed puts them (on a loaded machine all of them
 * can come before the first checkpoint: the S3 probe alone took ~0.8 s at load 15); one more run
 * is stopped right after it saved its checkpoint, so the resume is there to check however slow
 * the run.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup, type S3Target } from '../src/index.js';
import { closeMongo, freshBucket, freshDb, leaseRunsOut, S3_SERVERS } from './support.js';

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
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'abort' };
    try {
      const job = (client: S3Target['client'] = s3.client) =>
        snapshotBackup({ source: mongoSource({ db: source, batchSize: 10 }), target: { ...storage, client }, partSizeBytes: 5 * 1024 * 1024, partsInFlight: 1, memoryBudgetBytes: 64 * 1024 * 1024, leaseMs: 2000 });
      /** One run stopped by `controller` with `reason` (after `afterMs` from its start, when given): what it ended with. */
      const stopped = async (controller: AbortController, reason: Error, { afterMs, client }: { afterMs?: number; client?: S3Target['client'] }): Promise<string> => {
        // An abort that lands while a run's lease claim is in flight can leave that lease written
        // (S3 took the PUT; the run never learnt it held it) until it runs out: wait for it, so the
        // outcome is this run's own, not a refusal by the lease.
        await leaseRunsOut(storage, 'jobs/snapshot/lease.json');
        const timer = afterMs === undefined ? undefined : setTimeout(() => controller.abort(reason), afterMs);
        try {
          return await job(client)
            .run({ signal: controller.signal })
            .then(
              (result) => (result.status === 'checkpointed' ? `checkpointed:${result.reason}` : result.status),
              (error: unknown) => (error === reason ? 'reason' : `other:${(error as Error).name}`),
            );
        } finally {
          clearTimeout(timer);
        }
      };
      const outcomes: string[] = [];
      // Aborts landing at different moments: during a read, an upload, or between them.
      for (const afterMs of [150, 400, 700, 1000, 1400]) {
        const outcome = await stopped(new AbortController(), new Error(`deadline after ${afterMs} ms`), { afterMs });
        outcomes.push(outcome);
        if (outcome === 'complete') break;
      }
      if (!outcomes.includes('complete')) {
        // And one abort right after a run saved its checkpoint (the timed ones may all have come
        // before it): the next run has a backup to resume.
        const controller = new AbortController();
        const reason = new Error('deadline after the checkpoint');
        const client: S3Target['client'] = {
          async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
            const out: unknown = await s3.client.send(command as never, options);
            if (command instanceof PutObjectCommand && command.input.Key === 'abort/jobs/snapshot/checkpoint.json') controller.abort(reason);
            return out;
          },
        };
        outcomes.push(await stopped(controller, reason, { client }));
        expect(controller.signal.aborted).toBe(true);
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
