/**
 * How many requests `jobs/` costs a retention run (a measurement, recorded in the README's
 * limits). Every run that needs the job checkpoints lists `jobs/` whole and GETs each
 * `checkpoint.json`: with `stream`, once before any manifest (the prune's holds), once before
 * judging the first id without a manifest, and once more just before the run's first orphan
 * delete. Nothing of it is carried over between runs (the holds need one consistent view).
 *
 * N jobs, two shapes: idle (each has its `lease.json` only: a job's checkpoint is removed when
 * its snapshot commits) and checkpointed (each has a `checkpoint.json` naming a backup id with
 * no manifest: a snapshot started or checkpointed between invocations). One orphan id (so the
 * re-read before the first delete happens) and `stream`. Counts per command are printed and
 * checked against the formula: per read of `jobs/`, ⌈keys / 1,000⌉ LIST pages and one GET per
 * checkpoint. On both S3 servers (moto, gofakes3).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { applyRetention, type S3Target } from '../src/index.js';
import { freshBucket, listAll, S3_SERVERS, type Sender } from './support.js';

/** Enough to show the scaling (the README records a run with 150); writing them dominates the test's time. */
const N = 60;

/** `client`, counting LIST pages of `jobs/`, checkpoint GETs, and every other request by command name. */
function tally(client: Sender) {
  const state = { jobsPages: 0, checkpointGets: 0, other: new Map<string, number>() };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        const input = (command as { input?: { Key?: unknown; Prefix?: unknown } }).input;
        if (command instanceof ListObjectsV2Command && input?.Prefix === 'r/jobs/') state.jobsPages++;
        else if (command instanceof GetObjectCommand && /^r\/jobs\/[^/]+\/checkpoint\.json$/.test(String(input?.Key))) state.checkpointGets++;
        else {
          const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
          state.other.set(name, (state.other.get(name) ?? 0) + 1);
        }
        return client.send(command, options);
      },
    },
  };
}

describe.each(S3_SERVERS)(`the requests jobs/ costs a retention run, with ${N} jobs, on $name`, (server) => {
  it.each(['idle', 'checkpointed'] as const)('%s jobs: jobs/ read whole three times (holds, orphans, re-read before the first delete)', async (shape) => {
    const s3 = await freshBucket(server);
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const put = (Key: string, Body: string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body }));
      for (let i = 0; i < N; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, N - i) }, (_, j) => {
            const job = `job-${String(i + j).padStart(4, '0')}`;
            return shape === 'idle' ? put(`r/jobs/${job}/lease.json`, '{}') : put(`r/jobs/${job}/checkpoint.json`, JSON.stringify({ backupId: uuidv7(), updatedAt: new Date().toISOString() }));
          }),
        );
      }
      const orphan = uuidv7();
      await put(`r/backups/${orphan}/orders-000001.ndjson.gz`, 'left by a killed run');
      const counted = tally(s3.client);
      const report = await applyRetention({ storage: { ...storage, client: counted.client }, stream: 'orders', orphanGraceMs: 0, now: () => Date.now() + 60_000 });
      expect(report.stoppedBy).toBeUndefined();
      expect(report.orphans.cleaned).toEqual([orphan]);
      expect(await listAll(s3.client, s3.bucket, `r/backups/${orphan}/`)).toEqual([]);

      const reads = 3;
      const other = Object.fromEntries([...counted.state.other].sort());
      console.log(`jobs/ with ${N} ${shape} jobs on ${server.name}: ${counted.state.jobsPages} LIST pages of jobs/, ${counted.state.checkpointGets} checkpoint GETs; other requests ${JSON.stringify(other)}`);
      expect(counted.state.jobsPages).toBe(reads * Math.ceil(N / 1000));
      expect(counted.state.checkpointGets).toBe(shape === 'idle' ? 0 : reads * N);
      // Each checkpoint's id without a manifest: one HEAD, and its own listing (left alone: within abandonedCheckpointMs).
      if (shape === 'checkpointed') expect(report.orphans.leftAlone).toHaveLength(N);
      expect(counted.state.other.get('HeadObject') ?? 0).toBeGreaterThanOrEqual(shape === 'idle' ? 1 : N + 1);
    } finally {
      await s3.drop();
    }
  }, 120_000);
});
