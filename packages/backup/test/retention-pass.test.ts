/**
 * A bucket whose `backups/` one run cannot read whole (its deadline always cuts the listing)
 * is still judged, on moto and gofakes3: the runs continue a pass saved in
 * `retention/backups-pass.json` (read into a bounded summary, sweep below the line it draws,
 * unfinished uploads page by page) and finish in a bounded number of runs with the outcome a
 * single unbounded run plans (its dry run). Pages are made small by the client (`MaxKeys` 3 on
 * the listing of `backups/`, `MaxUploads` 2: moto ignores that one) rather than with thousands
 * of keys, and the deadline is a clock that moves ten seconds per page of `backups/`, so where
 * a run stops is exact. Without the pass object the same runs never get past the first page
 * (the livelock). A run killed mid-pass, a pass object another run wrote after it (the stale
 * writer is fenced), a second schedule's pass of another policy kept beside it (and removed once
 * not written for `abandonedCheckpointMs`), a damaged one, a kept backup that stopped being
 * verified and one below the line verified after the pass read it are each seen to be resumed
 * or safely discarded.
 */
import { CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, FencedError, mongoSource, redisStreamSource, RetentionDeleteError, snapshotBackup, streamBackup, verifyBackup, type RetentionReport, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { PassRecord } from '../src/retention-pass.js';
import { probeS3 } from '../src/s3/probe.js';
import { closeMongo, freshBucket, freshDb, listAll, openUploads, pagedRetention, readJson, redisClient, S3_SERVERS, smallPages, unique, verifiedBackups } from './support.js';

afterAll(closeMongo);

const later = () => Date.now() + 86_400_000 + 3_600_000; // the default orphan grace (24 h) has passed
/** The pass object of `keepLast: 2` over every job (retention-pass.ts: one per scope and policy). */
const PASS = 'p/retention/backups-pass/all/keepLast=2&keepMs=0&pitrWindowMs=0.json';

describe.each(S3_SERVERS)('retention of a bucket one run cannot read whole, on $name', (server) => {
  it('a pass saved across runs finishes in a bounded number of runs with the unbounded outcome; a killed run is resumed, a stale or foreign pass discarded', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retpass');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }, { _id: 2 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 6);
      // Orphans: ids with objects and no manifest (one with an upload too), ids with only an upload.
      const withObjects = ['o1', 'o2', 'o3', 'o4', 'o5'].map((n) => `0000-${n}`);
      for (const id of withObjects) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/${id}/part-1`, Body: 'x' }));
      const uploadOnly = ['u1', 'u2', 'u3'].map((n) => `ffff-${n}`);
      for (const id of [...uploadOnly, withObjects[0]!]) await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `p/backups/${id}/seg` }));
      const keptKeys = (await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.includes(ids[4]!) || k.includes(ids[5]!));

      const policy = { keepLast: 2, now: later, reserveMs: 3_000 };
      // What one unbounded run does: its plan.
      const plan = await applyRetention({ storage, ...policy, dryRun: true });
      expect(plan.deleted).toEqual(ids.slice(0, 4));
      expect(plan.orphans.cleaned.sort()).toEqual([...withObjects, ...uploadOnly].sort());

      const small = smallPages(s3.client);
      const options = { storage: { ...storage, client: small.client }, ...policy };
      // 23 s left, 10 s per page, 3 s kept back: one page (3 ids) handled per run; the second is
      // listed, and its ids refused (a read or delete must leave twice the last page's time).
      const clock = () => ({ remainingMs: () => 22_999 - 10_000 * small.state.pages });
      const run = async (): Promise<RetentionReport> => {
        small.state.pages = 0;
        return applyRetention(options, clock());
      };

      const reports: RetentionReport[] = [];
      // The first run cannot read backups/ whole: it deletes nothing and starts a pass.
      reports.push(await run());
      expect(reports[0]).toMatchObject({ stoppedBy: 'deadline', deleted: [], left: { listings: ['backups/'] }, backupsPass: { phase: 'read' } });
      const saved = await readJson<{ formatVersion: number; root: string; phase: string; after: string; summary: { top: Array<{ id: string }> } }>(s3.client, s3.bucket, PASS);
      expect(saved).toMatchObject({ formatVersion: 1, root: 'p', phase: 'read', after: reports[0]!.backupsPass!.after });
      expect(saved!.summary.top.length).toBeLessThanOrEqual(2); // bounded: keepLast entries, not every backup

      // The same first run without the pass would never get further: every run would start again.
      // Here the runs continue: in the read phase nothing is deleted.
      while (reports.at(-1)!.backupsPass?.phase === 'read') {
        const before = await listAll(s3.client, s3.bucket, 'p/backups/');
        reports.push(await run());
        expect(reports.at(-1)!.deleted).toEqual([]);
        expect(await listAll(s3.client, s3.bucket, 'p/backups/')).toEqual(before);
        expect(reports.length).toBeLessThan(10);
      }
      expect(reports.at(-1)!.backupsPass).toMatchObject({ phase: 'sweep' });

      // A run killed in the middle of a backup's deletes (its manifest gone, the rest left):
      // the pass object stands at the last page saved.
      small.state.deletes = 0;
      small.state.failDeleteAt = 2;
      let killed: unknown;
      let beforeKill: { phase: string; after: string } | undefined;
      for (let i = 0; !killed; i++) {
        expect(i).toBeLessThan(5);
        beforeKill = await readJson<{ phase: string; after: string }>(s3.client, s3.bucket, PASS);
        await run().then((r) => reports.push(r), (error: unknown) => (killed = error));
      }
      expect(killed).toBeInstanceOf(RetentionDeleteError);
      small.state.failDeleteAt = 0;
      expect(beforeKill).toMatchObject({ phase: 'sweep' });
      // Its manifest was deleted first: the backup no longer exists, its other objects remain.
      expect((await listAll(s3.client, s3.bucket, `p/backups/${ids[0]}/`)).some((k) => k.endsWith('/manifest.json'))).toBe(false);
      expect(await listAll(s3.client, s3.bucket, `p/backups/${ids[0]}/`)).not.toEqual([]);
      expect(await readJson(s3.client, s3.bucket, PASS)).toEqual(expect.objectContaining(beforeKill));

      // A run that lost its lease and still writes the pass object is refused (its ETag is stale).
      const caps = (await probeS3(storage)).capabilities;
      const stale = await PassRecord.read({ ...storage }, caps, { keepLast: 2, keepMs: 0, pitrWindowMs: 0, job: null, stream: null });
      expect(stale.saved).toBeDefined();

      // Until the pass ends (a run that then stops at the deadline would start another: this clock cuts every run).
      for (let i = 0; reports.at(-1)!.backupsPass; i++) {
        reports.push(await run());
        expect(reports.length).toBeLessThan(25); // bounded: 4 pages of ids read, swept, and the uploads
      }
      await expect(stale.save(stale.saved!)).rejects.toBeInstanceOf(FencedError);
      expect(await readJson(s3.client, s3.bucket, PASS)).toBeUndefined(); // the pass ended: its object removed

      // The outcome of the unbounded run: the four oldest backups gone (one of them, killed
      // part way, cleaned as an orphan), every orphan object and upload gone, the two newest kept.
      const deleted = reports.flatMap((r) => r.deleted);
      const cleaned = reports.flatMap((r) => r.orphans.cleaned);
      // (The killed run's report is lost with it: what it cleaned shows in the bucket only.)
      const planned = new Set([...plan.deleted, ...plan.orphans.cleaned]);
      expect([...deleted, ...cleaned].filter((id) => !planned.has(id))).toEqual([]);
      expect(cleaned).toContain(ids[0]);
      expect(await listAll(s3.client, s3.bucket, 'p/backups/')).toEqual(keptKeys);
      expect(await openUploads(s3.client, s3.bucket)).toEqual([]);
      expect(reports.some((r) => r.backupsPass?.phase === 'uploads')).toBe(true);

      // A run after the pass (without a deadline): backups/ is small now, read whole in one run (no pass).
      const after = await applyRetention(options);
      expect(after).toMatchObject({ deleted: [], kept: ids.slice(4), left: { listings: [] } });
      expect(after.backupsPass).toBeUndefined();
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 300_000);

  it('with `stream`: the pass prunes, once the sweep is done, the stream objects only the deleted backups needed (as one run plans)', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('retpassstream');
    const redis = await redisClient();
    const key = unique('pass-outbox');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const app = outboxApp(redis, key, 'orders', source);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
      const snapshot = snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' });
      const ids: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) await app.put(`r${round}-${i}`, { round, pad: 'x'.repeat(300) });
        if (round === 1) {
          // Events lost before the sink saw them: timeline 1 ends, so its hour is behind later marks.
          await redis.xtrim(key, 'MAXLEN', 0);
          await app.put(`r${round}-after`, { round });
        }
        await stream.run();
        const r = (await snapshot.run()) as SnapshotResult;
        if (r.status !== 'complete') throw new Error('snapshot did not complete');
        await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
        ids.push(r.backupId);
      }
      await app.put('last', { pad: 'y' });
      await stream.run();
      // Ids without a manifest, recent (left alone): backups/ takes three pages of three.
      for (let i = 0; i < 4; i++) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/zzzz-${i}/part-1`, Body: 'x' }));
      const policy = { keepLast: 1, stream: 'orders', reserveMs: 3_000 };
      const plan = await applyRetention({ storage, ...policy, dryRun: true });
      expect(plan.deleted).toEqual(ids.slice(0, 2));
      expect(plan.streamObjects).toBeGreaterThan(0);

      // Until the pass ends (this clock cuts every run: the run after would start another).
      const reports = await pagedRetention(storage).untilDone(policy);
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read' });
      expect(reports.flatMap((r) => r.deleted)).toEqual(plan.deleted);
      expect(reports.reduce((n, r) => n + r.streamObjects, 0)).toBe(plan.streamObjects);
      expect(reports.reduce((n, r) => n + r.left.streamObjects, 0)).toBe(0);
      // Nothing more to prune or delete: a plan now is empty.
      const again = await applyRetention({ storage, ...policy, dryRun: true });
      expect(again).toMatchObject({ deleted: [], streamObjects: 0, kept: [ids[2]] });
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 300_000);

  it('a pass drawn for another policy, or damaged, is discarded; a kept backup no longer verified ends the pass before any delete', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retpass2');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 7);
      const small = smallPages(s3.client);
      const options = { storage: { ...storage, client: small.client }, keepLast: 2, reserveMs: 3_000 };
      const run = async (extra: { keepLast?: number; job?: string; abandonedCheckpointMs?: number } = {}): Promise<RetentionReport> => {
        small.state.pages = 0;
        return applyRetention({ ...options, ...extra }, { remainingMs: () => 22_999 - 10_000 * small.state.pages });
      };
      // Without the pass object (removed after each run) every run starts again from the first
      // page and none ever gets past it: nothing is ever judged (the livelock the pass removes).
      for (let i = 0; i < 6; i++) {
        const report = await run();
        expect(report).toMatchObject({ stoppedBy: 'deadline', deleted: [], backupsPass: { phase: 'read', after: ids[2] } });
        await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: PASS }));
      }
      const first = await run();
      expect(first.backupsPass).toMatchObject({ phase: 'read', after: ids[2] });

      // Another policy of the same scope (a second schedule): a pass of its own, this one's left
      // as it is (it used to be discarded, so neither ever finished); each run names the other.
      const mineBefore = await readJson(s3.client, s3.bucket, PASS);
      const other = await run({ keepLast: 3 });
      expect(other.backupsPass).toMatchObject({ phase: 'read', after: ids[2] });
      expect(other.otherPolicies).toEqual([{ keepLast: 2, keepMs: 0, pitrWindowMs: 0, savedAt: expect.any(String), removed: false }]);
      expect(await readJson(s3.client, s3.bucket, PASS)).toEqual(mineBefore);
      const PASS3 = 'p/retention/backups-pass/all/keepLast=3&keepMs=0&pitrWindowMs=0.json';
      expect(await readJson(s3.client, s3.bucket, PASS3)).toMatchObject({ policy: { keepLast: 3 }, after: ids[2] });
      const continued = await run();
      expect(continued.backupsPass).toMatchObject({ phase: 'read', after: ids[5] });
      expect(continued.otherPolicies).toMatchObject([{ keepLast: 3, removed: false }]);
      // Not written for abandonedCheckpointMs (here 0: a policy changed since): removed.
      expect((await run({ abandonedCheckpointMs: 0 })).otherPolicies).toMatchObject([{ keepLast: 3, removed: true }]);
      expect(await readJson(s3.client, s3.bucket, PASS3)).toBeUndefined();

      // Damaged: replaced by a new pass.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: PASS, Body: '{"formatVersion": 1, "phase": ' }));
      const fresh = await run();
      expect(fresh.backupsPass).toMatchObject({ phase: 'read', after: ids[2] });

      // Retention of one job keeps its own pass (its own key): the other pass is left as it is.
      const mine = await readJson(s3.client, s3.bucket, PASS);
      expect(await run({ job: 'other job' })).toMatchObject({ backupsPass: { phase: 'read', after: ids[2] } });
      expect(await readJson(s3.client, s3.bucket, PASS)).toEqual(mine);
      expect(await readJson(s3.client, s3.bucket, 'p/retention/backups-pass/job=other%20job/keepLast=2&keepMs=0&pitrWindowMs=0.json')).toMatchObject({ policy: { job: 'other job' }, after: ids[2] });

      // Read to the end (3 ids a run), then the newest backup stops being verified before the sweep.
      let report = fresh;
      while (report.backupsPass?.phase === 'read') report = await run();
      expect(report.backupsPass?.phase).toBe('sweep');
      const record = await readJson<{ summary: { top: Array<{ id: string }> } }>(s3.client, s3.bucket, PASS);
      expect(record!.summary.top.map((e) => e.id)).toEqual([ids[6], ids[5]]);
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/${ids[6]}/verification.json`, Body: JSON.stringify({ backupId: ids[6], level: 'full', ok: false, at: new Date().toISOString(), problems: ['x'] }) }));
      const restarted = await run();
      expect(restarted.backupsPass).toMatchObject({ restarted: 'kept backup changed' });
      expect(restarted.deleted).toEqual([]);
      expect((await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.endsWith('/manifest.json'))).toHaveLength(7);

      // The new pass keeps the two newest verified (ids 5 and 4): ids 0-3 go, 6 (unverified, newer) stays.
      for (let i = 0; report.backupsPass; i++) {
        report = await run();
        expect(i).toBeLessThan(20);
      }
      const manifests = (await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.endsWith('/manifest.json'));
      expect(manifests).toEqual([ids[4], ids[5], ids[6]].map((id) => `p/backups/${id}/manifest.json`));
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 300_000);

  it('a backup below the line verified after the read phase passed it, that keepMs keeps: kept, and the pass starts again', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('retpass3');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    const unverify = (id: string, ok: boolean) =>
      s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/${id}/verification.json`, Body: JSON.stringify({ backupId: id, level: 'full', ok, at: new Date().toISOString(), problems: ok ? [] : ['x'] }) }));
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, 7);
      for (const id of ids.slice(0, 5)) await unverify(id, false); // only the two newest are verified
      const small = smallPages(s3.client);
      const run = async (): Promise<RetentionReport> => {
        small.state.pages = 0;
        return applyRetention({ storage: { ...storage, client: small.client }, keepLast: 1, keepMs: 86_400_000, reserveMs: 3_000 }, { remainingMs: () => 22_999 - 10_000 * small.state.pages });
      };
      let report = await run();
      while (report.backupsPass?.phase === 'read') report = await run();
      // The line: the oldest verified within keepMs (ids[5]); ids 0-4 are below it. Then ids[2] is verified.
      expect(report.backupsPass?.phase).toBe('sweep');
      await unverify(ids[2]!, true);
      const reports: RetentionReport[] = [];
      do {
        report = await run();
        reports.push(report);
        expect(reports.length).toBeLessThan(20);
      } while (report.backupsPass && !report.backupsPass.restarted);
      expect(report.backupsPass).toMatchObject({ phase: 'read', restarted: 'verified after it was read' });
      // ids 0 and 1 went (a complete listing now deletes them too: older than ids[2]); ids[2] was kept.
      expect(reports.flatMap((r) => r.deleted)).toEqual(ids.slice(0, 2));
      expect(report.kept).toContain(ids[2]);
      while (report.backupsPass) report = await run();
      const manifests = (await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.endsWith('/manifest.json'));
      expect(manifests).toEqual(ids.slice(2).map((id) => `p/backups/${id}/manifest.json`));
      // The same as one unbounded run now plans: nothing more to delete.
      expect((await applyRetention({ storage, keepLast: 1, keepMs: 86_400_000, dryRun: true })).deleted).toEqual([]);
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 300_000);
});
