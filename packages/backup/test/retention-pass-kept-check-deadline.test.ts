/**
 * At each sweep run's start, a retention pass over `backups/` checks again that the backups its
 * summary keeps still stand: a HEAD of each one's manifest and a GET of its verification record
 * (retention-candidates.ts, `keptStillStand`). Up to `keepLast` + 2 backups, and those reads were
 * not asked of the run's deadline budget: a run could send them all past its reserve. Now each
 * read is asked like a page of `backups/`: the run stops before the one that would pass the
 * reserve (`stoppedBy: 'deadline'`, `backups/` in `left.listings`), saves the pass at its sweep,
 * and the next run checks the kept backups again and finishes.
 *
 * Four verified snapshots (FerretDB), `keepLast: 7` (all kept). A first run whose clock falls
 * under the reserve after two manifest GETs starts a pass (read phase); the second run's clock
 * falls under it after two manifest HEADs — the kept check's — so it stops among them. On both
 * S3 servers (moto, gofakes3).
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, snapshotBackup, type S3Target } from '../src/index.js';
import { closeMongo, countingRequests, freshBucket, freshDb, listAll, S3_SERVERS, verifiedBackups } from './support.js';

afterAll(closeMongo);

const BACKUPS = 4;
/** Reads the clock allows before it falls under the reserve. */
const ALLOWED = 2;
const MANIFEST = /^r\/backups\/[^/]+\/manifest\.json$/;

describe.each(S3_SERVERS)("a retention pass's check of its kept backups, the deadline reached among its reads, on $name", (server) => {
  it('stops before the read that would pass the reserve, the pass saved at its sweep; the next run checks them again and finishes', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('kcdsrc');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'r' };
    try {
      await db.collection<{ _id: number }>('orders').insertMany([{ _id: 1 }, { _id: 2 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, BACKUPS);

      // A run that reads two manifests of four: a pass starts, in its read phase.
      const gets = countingRequests(s3.client, GetObjectCommand, MANIFEST);
      const first = await applyRetention({ storage: { ...storage, client: gets.client }, keepLast: 7 }, { remainingMs: () => (gets.state.count < ALLOWED ? 60_000 : 1_000) });
      expect(first).toMatchObject({ stoppedBy: 'deadline', backupsPass: { phase: 'read' } });

      // The next run reads the rest, draws the line, and checks the four kept backups: two HEADs allowed.
      const heads = countingRequests(s3.client, HeadObjectCommand, MANIFEST);
      const policy = { storage: { ...storage, client: heads.client }, keepLast: 7 };
      const second = await applyRetention(policy, { remainingMs: () => (heads.state.count < ALLOWED ? 60_000 : 1_000) });
      // Before: every kept backup's manifest was HEADed (and its record read) past the reserve.
      expect(heads.state.count).toBe(ALLOWED);
      expect(second).toMatchObject({ stoppedBy: 'deadline', backupsPass: { phase: 'sweep', after: '' }, left: { listings: ['backups/'] }, deleted: [] });
      expect(second.backupsPass?.restarted).toBeUndefined();

      heads.state.count = 0;
      const third = await applyRetention(policy, { remainingMs: () => 60_000 });
      expect(heads.state.count).toBeGreaterThanOrEqual(BACKUPS); // checked again, whole
      expect(third.stoppedBy).toBeUndefined();
      expect(third.backupsPass).toBeUndefined();
      expect(third).toMatchObject({ deleted: [], kept: ids });
      for (const id of ids) expect(await listAll(s3.client, s3.bucket, `r/backups/${id}/`)).toContain(`r/backups/${id}/manifest.json`);
      expect(await listAll(s3.client, s3.bucket, 'r/retention/backups-pass/')).toEqual([]);
    } finally {
      await db.dropDatabase();
      await s3.drop();
    }
  });
});
