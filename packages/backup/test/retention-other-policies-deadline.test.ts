/**
 * Each retention run (but a dry run) lists the pass objects of the other policies in its scope
 * (`retention/backups-pass/<scope>/`: another schedule, or a policy changed since) to report
 * them in `otherPolicies`, and deletes those not written for `abandonedCheckpointMs`
 * (retention-pass.ts, `PassRecord.others`). That listing and those deletes were not asked of
 * the run's deadline budget: a run whose clock was already under its reserve still listed the
 * folder and deleted a stale pass object. Now the listing is asked like any page (refused: the
 * folder is named in `left.listings`, `stoppedBy: 'deadline'`) and each delete like a delete;
 * the next run with time reports and removes it.
 *
 * Another policy's pass object written by the test, `abandonedCheckpointMs: 0` (so it counts as
 * abandoned at once), and a clock (`remainingMs`) under the 5 s reserve once past the start
 * (`timeOnlyAtStart`: a run with no time at its start sends no request at all). On both
 * S3 servers (moto, gofakes3).
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { applyRetention, type S3Target } from '../src/index.js';
import { countingRequests, freshBucket, listAll, S3_SERVERS, timeOnlyAtStart } from './support.js';

const FOLDER = 'r/retention/backups-pass/all/';
const OTHER = `${FOLDER}keepLast=30&keepMs=0&pitrWindowMs=0.json`;

describe.each(S3_SERVERS)("retention's look at other policies' passes, the clock under the reserve, on $name", (server) => {
  it('neither lists their folder nor deletes a stale one past the reserve; the next run with time does', async () => {
    const s3 = await freshBucket(server);
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: OTHER, Body: '{}' }));
      const deletes = countingRequests(s3.client, DeleteObjectCommand, /^r\/retention\/backups-pass\//);
      const policy = { storage: { ...storage, client: deletes.client }, keepLast: 7, abandonedCheckpointMs: 0 };

      const cut = await applyRetention(policy, timeOnlyAtStart());
      expect(cut.stoppedBy).toBe('deadline');
      // Before: the folder was listed and the stale object deleted with 1 s left of a 5 s reserve.
      expect(deletes.state.count).toBe(0);
      expect(cut.otherPolicies).toEqual([]);
      expect(cut.left.listings).toContain('retention/backups-pass/all/');
      expect(await listAll(s3.client, s3.bucket, FOLDER)).toEqual([OTHER]);

      const next = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(next.stoppedBy).toBeUndefined();
      expect(next.otherPolicies).toMatchObject([{ keepLast: 30, keepMs: 0, pitrWindowMs: 0, removed: true }]);
      expect(deletes.state.count).toBe(1);
      expect(await listAll(s3.client, s3.bucket, FOLDER)).toEqual([]);
    } finally {
      await s3.drop();
    }
  });
});
