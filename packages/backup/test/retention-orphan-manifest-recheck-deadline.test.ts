/**
 * Just before the first delete of a backup id without a manifest (an orphan), retention HEADs
 * its manifest again — a snapshot may have committed meanwhile (retention-orphans.ts,
 * `cleanOrphanIds`). That HEAD was not asked of the run's deadline budget: a run whose clock
 * fell under the reserve after the job checkpoints' re-read still sent it. Now it is asked like
 * one more page of the id's listing: the run stops before it (`stoppedBy: 'deadline'`, the id's
 * folder in `left.listings`, the id counted in `left.orphanIds`), deletes nothing of the id,
 * and the next run cleans it.
 *
 * An orphan id (two objects, no manifest, no job checkpoint), no backup; the clock falls under
 * the reserve once `jobs/` has been listed twice (the first listing, then the re-read before
 * the first orphan delete). On both S3 servers (moto, gofakes3).
 */
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { applyRetention, type S3Target } from '../src/index.js';
import { countingRequests, freshBucket, listAll, S3_SERVERS, type Sender } from './support.js';

/** `client`, counting the listings of `jobs/` (the job checkpoints) in `state.count`. */
function countingJobListings(client: Sender) {
  const state = { count: 0 };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof ListObjectsV2Command && command.input.Prefix === 'r/jobs/') state.count++;
        return client.send(command, options);
      },
    },
  };
}

describe.each(S3_SERVERS)("retention's manifest HEAD before an orphan's first delete, the deadline reached just before it, on $name", (server) => {
  it('stops before the HEAD with nothing of the id deleted; the next run cleans it', async () => {
    const s3 = await freshBucket(server);
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      const id = uuidv7();
      const objects = [`r/backups/${id}/orders-000001.ndjson.gz`, `r/backups/${id}/orders-000002.ndjson.gz`];
      for (const key of objects) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'left by a run killed before its commit' }));
      const manifest = new RegExp(`^r/backups/${id}/manifest\\.json$`);
      const heads = countingRequests(s3.client, HeadObjectCommand, manifest);
      const jobs = countingJobListings(heads.client);
      // A clock a minute ahead: the objects are past the grace whatever the servers' clocks say.
      const policy = { storage: { ...storage, client: jobs.client }, orphanGraceMs: 0, now: () => Date.now() + 60_000 };

      const cut = await applyRetention(policy, { remainingMs: () => (jobs.state.count < 2 ? 60_000 : 1_000) });
      expect(jobs.state.count).toBe(2);
      // Before: the HEAD was sent with 1 s left of the 5 s reserve (and the run stopped at the delete after it).
      expect(heads.state.count).toBe(0);
      expect(cut).toMatchObject({ stoppedBy: 'deadline', uncommitted: [id], orphans: { cleaned: [], objects: 0, remaining: true, idsLeft: 1 }, left: { orphanIds: 1, listings: [`backups/${id}/`] } });
      expect(await listAll(s3.client, s3.bucket, 'r/backups/')).toEqual(objects);

      const next = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(heads.state.count).toBe(1);
      expect(next.stoppedBy).toBeUndefined();
      expect(next).toMatchObject({ orphans: { cleaned: [id], objects: 2, idsLeft: 0 }, left: { orphanIds: 0, listings: [] } });
      expect(await listAll(s3.client, s3.bucket, 'r/backups/')).toEqual([]);
    } finally {
      await s3.drop();
    }
  });
});
