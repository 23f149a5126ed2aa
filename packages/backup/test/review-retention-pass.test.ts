/**
 * Review of retention passes that span runs (retention-pass.ts), on moto and gofakes3: the
 * promise is that a pass never deletes a backup one complete, unbounded run would keep at the
 * time of the delete. Pages of `backups/` are made small by the client (`MaxKeys` 3) and the
 * deadline is a clock that moves ten seconds per page, so one page is handled per run (as in
 * retention-pass.test.ts). Each case compares what the pass deleted with the plan of a dry run
 * (one complete listing) made at the moment of the sweep:
 * - a verification landing, after the read phase passed a backup, while fewer than `keepLast`
 *   backups were verified (the count rule keeps it: it must not be deleted);
 * - a clock that goes back between the read phase and the sweep (`keepMs` then keeps more);
 * - a `pitrWindowMs` window across a pass whose clock moves on (its base is kept);
 * - `ctx.signal` aborting mid-sweep (the pass object is left as it was, the next runs finish);
 * - `ctx.signal` aborting mid-page of the read phase (the report names the position saved in
 *   the pass object, not the ids the stopped run read after it);
 * - a dry run in the middle of a pass (it neither reads nor moves the pass object);
 * - a `pitrWindowMs` window longer than the history (no snapshot ended before it): every
 *   instant from the oldest verified snapshot on stays restorable, in one run and in a pass;
 * - a pass object saved by the release before `summary.pitrFirst`: continued without
 *   `pitrWindowMs`, discarded with it (its line may be past the window's oldest snapshot); one
 *   at the key of a release before per-policy objects continued at the new key;
 * - two schedules on one prefix, one of every job and one of job `a`, their passes interleaved
 *   run by run (each deletes only what its own complete run would delete at that moment);
 * - two schedules of one scope with different policies, interleaved run by run: each keeps its
 *   own pass and finishes it (they used to discard each other's, so neither ever finished).
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { EJSON } from 'bson';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisStreamSource, snapshotBackup, streamBackup, verifyBackup, type RetentionOptions, type RetentionReport, type SnapshotResult } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { PassRecord } from '../src/retention-pass.js';
import { probeS3 } from '../src/s3/probe.js';
import { closeMongo, freshBucket, freshDb, listAll, readJson, redisClient, S3_SERVERS, unique, verifiedBackups } from './support.js';

afterAll(closeMongo);

/** The pass object of `keepLast: 2` over every job (one per scope and policy). */
const PASS = 'p/retention/backups-pass/all/keepLast=2&keepMs=0&pitrWindowMs=0.json';

type Sender = { send(command: unknown, options?: unknown): Promise<unknown> };

/**
 * Pages of `p/backups/` of 3 ids, counted; `onDelete` is called before each DeleteObject of a
 * backup's object, `onVerificationRead` after each GET of a verification record returned.
 */
function smallPages(client: Sender) {
  const state = { pages: 0, onDelete: undefined as (() => void) | undefined, onVerificationRead: undefined as (() => void) | undefined };
  return {
    state,
    client: {
      async send(command: unknown, options?: unknown) {
        if (command instanceof ListObjectsV2Command && command.input.Prefix === 'p/backups/') {
          state.pages++;
          command.input.MaxKeys = 3;
        }
        if (command instanceof DeleteObjectCommand && String(command.input.Key).startsWith('p/backups/')) state.onDelete?.();
        const out = await client.send(command, options);
        if (command instanceof GetObjectCommand && String(command.input.Key).endsWith('/verification.json')) state.onVerificationRead?.();
        return out;
      },
    },
  };
}

async function setUp(server: (typeof S3_SERVERS)[number], name: string, count: number, minGapMs = 0) {
  const s3 = await freshBucket(server);
  const db = await freshDb(name);
  const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
  await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
  const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db }), target: storage }), storage, count, minGapMs);
  const small = smallPages(s3.client);
  /** One run of the pass: one page of backups/ (23 s left, 10 s a page, 3 s kept back). */
  const run = (options: Omit<RetentionOptions, 'storage'>, signal?: AbortSignal): Promise<RetentionReport> => {
    small.state.pages = 0;
    return applyRetention({ storage: { ...storage, client: small.client }, reserveMs: 3_000, ...options }, { remainingMs: () => 22_999 - 10_000 * small.state.pages, ...(signal ? { signal } : {}) });
  };
  const verify = (id: string, ok: boolean) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `p/backups/${id}/verification.json`, Body: JSON.stringify({ backupId: id, level: 'full', ok, at: new Date().toISOString(), problems: ok ? [] : ['x'] }) }));
  const manifests = async () => (await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.endsWith('/manifest.json')).map((k) => k.split('/')[2]!);
  const endedAt = async (id: string) => Date.parse((await readJson<{ end: { time: string } }>(s3.client, s3.bucket, `p/backups/${id}/manifest.json`))!.end.time);
  return { s3, db, storage, ids, small, run, verify, manifests, endedAt, drop: () => Promise.all([db.dropDatabase(), s3.drop()]) };
}

/** Runs until the read phase has ended (the pass is at its sweep). */
async function readWhole(run: () => Promise<RetentionReport>): Promise<RetentionReport> {
  let report = await run();
  for (let i = 0; report.backupsPass?.phase === 'read'; i++) {
    expect(i).toBeLessThan(10);
    report = await run();
  }
  expect(report.backupsPass?.phase).toBe('sweep');
  return report;
}

/** Runs until the pass ends; the reports of those runs. */
async function finish(run: () => Promise<RetentionReport>): Promise<RetentionReport[]> {
  const reports: RetentionReport[] = [];
  do {
    reports.push(await run());
    expect(reports.length).toBeLessThan(20);
  } while (reports.at(-1)!.backupsPass);
  return reports;
}

describe.each(S3_SERVERS)('review: retention passes across runs, on $name', (server) => {
  it('a backup verified after the read phase passed it, while fewer than keepLast were verified, is kept (the count rule keeps it)', async () => {
    const t = await setUp(server, 'revpass1', 5);
    try {
      for (const id of t.ids.slice(0, 4)) await t.verify(id, false); // only the newest is verified
      const policy = { keepLast: 7 };
      await readWhole(() => t.run(policy));
      // The read phase saw one verified backup: its line is ids[4]. Then ids[1] is verified.
      await t.verify(t.ids[1]!, true);
      const plan = await applyRetention({ storage: t.storage, ...policy, dryRun: true });
      expect(plan.deleted).toEqual([t.ids[0]]); // two verified, both within keepLast: ids[1] kept
      const reports = await finish(() => t.run(policy));
      const deleted = reports.flatMap((r) => r.deleted);
      expect(deleted.filter((id) => !plan.deleted.includes(id))).toEqual([]);
      expect(await t.manifests()).toContain(t.ids[1]);
    } finally {
      await t.drop();
    }
  }, 300_000);

  it('a clock that went back between the read phase and the sweep: nothing keepMs keeps at the sweep is deleted', async () => {
    const t = await setUp(server, 'revpass2', 7);
    try {
      const e = await Promise.all(t.ids.map((id) => t.endedAt(id)));
      // At T, keepMs keeps ids 5 and 6; at T - back it also keeps ids 3 and 4.
      const T = e[6]! + 3_600_000;
      const keepMs = T - e[5]! + 1;
      const back = e[5]! - e[3]! + 1;
      const policy = { keepLast: 1, keepMs };
      await readWhole(() => t.run({ ...policy, now: () => T }));
      const plan = await applyRetention({ storage: t.storage, ...policy, now: () => T - back, dryRun: true });
      expect(plan.kept).toEqual(expect.arrayContaining([t.ids[3], t.ids[4]]));
      const reports = await finish(() => t.run({ ...policy, now: () => T - back }));
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read', restarted: 'clock went back' });
      expect(reports[0]!.deleted).toEqual([]);
      expect(reports.flatMap((r) => r.deleted).filter((id) => !plan.deleted.includes(id))).toEqual([]);
      expect(await t.manifests()).toEqual(expect.arrayContaining(plan.kept));
    } finally {
      await t.drop();
    }
  }, 300_000);

  it('pitrWindowMs across a pass whose clock moves on: the base of the window is kept, as one run at each sweep would keep it', async () => {
    const t = await setUp(server, 'revpass3', 7, 30); // 30 ms between backups: room for the clock's 1 ms steps
    try {
      const e = await Promise.all(t.ids.map((id) => t.endedAt(id)));
      const pitrWindowMs = 3_600_000;
      // At the pass's start the window starts just after ids[3] ended: ids[3] is its base.
      let clock = e[3]! + pitrWindowMs + 1;
      expect(e[4]! - e[3]!).toBeGreaterThan(20); // room for the clock's 1 ms steps below
      const policy = { keepLast: 1, pitrWindowMs };
      const plan = await applyRetention({ storage: t.storage, ...policy, now: () => clock, dryRun: true });
      expect(plan).toMatchObject({ deleted: t.ids.slice(0, 3), protected: { pitrBase: t.ids[3], newestVerified: t.ids[6] } });
      const reports: RetentionReport[] = [];
      for (let i = 0; !reports.at(-1) || reports.at(-1)!.backupsPass; i++) {
        expect(i).toBeLessThan(20);
        // Before each run: what one complete run now would delete; the run deletes no more.
        const now = clock;
        const planNow = await applyRetention({ storage: t.storage, ...policy, now: () => now, dryRun: true });
        const report = await t.run({ ...policy, now: () => now });
        expect(report.deleted.filter((id) => !planNow.deleted.includes(id))).toEqual([]);
        reports.push(report);
        clock += 1; // the clock moves on (never past ids[4]'s end plus the window)
      }
      expect(reports.flatMap((r) => r.deleted)).toEqual(plan.deleted);
      expect(await t.manifests()).toEqual(t.ids.slice(3));
    } finally {
      await t.drop();
    }
  }, 300_000);

  it('ctx.signal aborting mid-sweep leaves the pass object as it was; a dry run mid-pass does not touch it; the next runs finish as planned', async () => {
    const t = await setUp(server, 'revpass4', 7);
    try {
      const policy = { keepLast: 2 };
      const plan = await applyRetention({ storage: t.storage, ...policy, dryRun: true });
      expect(plan.deleted).toEqual(t.ids.slice(0, 5));
      await readWhole(() => t.run(policy));
      const before = await readJson<{ phase: string; after: string }>(t.s3.client, t.s3.bucket, PASS);
      expect(before).toMatchObject({ phase: 'sweep', after: '' });

      // A dry run in the middle: the plan of one complete listing, the pass object untouched.
      const dry = await applyRetention({ storage: t.storage, ...policy, dryRun: true });
      expect(dry.deleted).toEqual(plan.deleted);
      expect(dry.backupsPass).toBeUndefined();
      expect(await readJson(t.s3.client, t.s3.bucket, PASS)).toEqual(before);

      // The signal aborts as the first backup's deletes start.
      const abort = new AbortController();
      t.small.state.onDelete = () => abort.abort(new Error('invocation ending'));
      const outcome = await t.run(policy, abort.signal).then(
        (r) => r,
        (error: unknown) => error,
      );
      t.small.state.onDelete = undefined;
      if (!(outcome instanceof Error)) expect(outcome).toMatchObject({ stoppedBy: 'signal' });
      expect(await readJson(t.s3.client, t.s3.bucket, PASS)).toEqual(before);

      const reports = await finish(() => t.run(policy));
      expect(reports.flatMap((r) => r.deleted).filter((id) => !plan.deleted.includes(id))).toEqual([]);
      expect(await t.manifests()).toEqual(t.ids.slice(5));
      expect(await readJson(t.s3.client, t.s3.bucket, PASS)).toBeUndefined();
    } finally {
      await t.drop();
    }
  }, 300_000);

  it("ctx.signal aborting mid-page of the read phase: the report's backupsPass is the position saved, where the next run continues", async () => {
    const t = await setUp(server, 'revpass7', 7);
    try {
      const policy = { keepLast: 2 };
      const plan = await applyRetention({ storage: t.storage, ...policy, dryRun: true });
      const first = await t.run(policy);
      expect(first.backupsPass).toMatchObject({ phase: 'read', after: t.ids[2] });
      const saved = await readJson<{ phase: string; after: string }>(t.s3.client, t.s3.bucket, PASS);
      expect(saved).toMatchObject({ phase: 'read', after: t.ids[2] });

      // The signal aborts once the next page's first backup has been read (its verification record returned).
      const abort = new AbortController();
      t.small.state.onVerificationRead = () => abort.abort(new Error('invocation ending'));
      const stopped = await t.run(policy, abort.signal);
      t.small.state.onVerificationRead = undefined;
      expect(stopped.stoppedBy).toBe('signal');
      expect(await readJson(t.s3.client, t.s3.bucket, PASS)).toEqual(saved);
      // Not ids[3], read by the stopped run but not saved.
      expect(stopped.backupsPass).toMatchObject({ phase: 'read', after: t.ids[2] });

      const reports = await finish(() => t.run(policy));
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read', after: t.ids[5] });
      expect(reports.flatMap((r) => r.deleted)).toEqual(plan.deleted);
    } finally {
      await t.drop();
    }
  }, 300_000);

  it('two schedules of one scope with different policies, interleaved run by run: each finishes its own pass; together they delete what the stricter one plans', async () => {
    const t = await setUp(server, 'revpass8', 7);
    try {
      const loose = { keepLast: 4 };
      const strict = { keepLast: 2 };
      const planStrict = await applyRetention({ storage: t.storage, ...strict, dryRun: true });
      expect(planStrict.deleted).toEqual(t.ids.slice(0, 5));
      const finished = { loose: 0, strict: 0 };
      const deleted: string[] = [];
      const named: RetentionReport['otherPolicies'] = [];
      for (let round = 0; finished.loose === 0 || finished.strict === 0; round++) {
        expect(round).toBeLessThan(30);
        for (const [name, policy] of [['loose', loose], ['strict', strict]] as const) {
          const report = await t.run(policy);
          deleted.push(...report.deleted);
          named.push(...report.otherPolicies);
          if (round > 0 && !report.backupsPass) finished[name]++;
        }
      }
      // Never more than the stricter policy plans; every backup it keeps is there.
      expect(deleted.filter((id) => !planStrict.deleted.includes(id))).toEqual([]);
      expect(await t.manifests()).toEqual(expect.arrayContaining(t.ids.slice(5)));
      // Each schedule's runs named the other's pass (not stale: not removed).
      expect(named.some((p) => p.keepLast === 4 && !p.removed)).toBe(true);
      expect(named.some((p) => p.keepLast === 2 && !p.removed)).toBe(true);
    } finally {
      await t.drop();
    }
  }, 300_000);

  it('a pitrWindowMs window no snapshot ended before: the oldest verified snapshot and the stream after it are kept, so every instant of the window since then stays restorable', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('revpitr');
    const redis = await redisClient();
    const key = unique('revpitr-outbox');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    const dump = async (db: typeof source) => (await db.collection('orders').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
    try {
      const app = outboxApp(redis, key, 'orders', source);
      const stream = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, buffer: { maxBytes: 1024, maxMs: 60_000 } });
      const snapshot = snapshotBackup({ source: mongoSource({ db: source, collections: ['orders'] }), target: storage, stream: 'orders' });
      const ids: string[] = [];
      let at = 0;
      let stateAt: string[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 3; i++) await app.put(`r${round}-${i}`, { round, pad: 'x'.repeat(300) });
        await stream.run();
        const r = (await snapshot.run()) as SnapshotResult;
        if (r.status !== 'complete') throw new Error('snapshot did not complete');
        await verifyBackup({ backup: { storage, id: r.backupId }, level: 'full' });
        ids.push(r.backupId);
        if (round === 0) {
          // An instant between the first and the second snapshot, inside the window.
          await app.put('between', { pad: 'z' });
          await stream.run();
          stateAt = await dump(source);
          await new Promise((r) => setTimeout(r, 20));
          at = Date.now();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      await app.put('last', { pad: 'y' });
      await stream.run();
      const policy = { keepLast: 1, pitrWindowMs: 7 * 86_400_000, stream: 'orders' };
      // The window reaches past the first snapshot: it is the earliest point the window can be restored from.
      const plan = await applyRetention({ storage, ...policy, dryRun: true });
      expect(plan).toMatchObject({ deleted: [], streamObjects: 0, protected: { pitrBase: ids[0] } });

      // In a pass (pages of 3 ids: 4 backups, 2 pages), as in one run.
      const small = smallPages(s3.client);
      const reports: RetentionReport[] = [];
      do {
        small.state.pages = 0;
        reports.push(await applyRetention({ ...policy, storage: { ...storage, client: small.client }, reserveMs: 3_000 }, { remainingMs: () => 22_999 - 10_000 * small.state.pages }));
        expect(reports.length).toBeLessThan(15);
      } while (reports.at(-1)!.backupsPass);
      expect(reports[0]!.backupsPass).toMatchObject({ phase: 'read' });
      expect(reports.flatMap((r) => r.deleted)).toEqual([]);
      expect(reports.reduce((n, r) => n + r.streamObjects, 0)).toBe(0);

      const restored = await freshDb('revpitrat');
      try {
        const report = await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: restored }) });
        expect(report.snapshot.backupId).toBe(ids[0]);
        expect(await dump(restored)).toEqual(stateAt);
      } finally {
        await restored.dropDatabase();
      }
      // And one complete run (no deadline) keeps it too.
      expect(await applyRetention({ storage, ...policy })).toMatchObject({ deleted: [], streamObjects: 0 });
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 300_000);

  it('two schedules on one prefix (job b, and job a) with their passes interleaved: each run deletes only what its own complete run plans at that moment', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('revscopes');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      await db.collection<{ _id: number }>('a').insertMany([{ _id: 1 }]);
      const ofA = snapshotBackup({ source: mongoSource({ db }), target: storage, job: 'a' });
      const ofB = snapshotBackup({ source: mongoSource({ db }), target: storage, job: 'b' });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(...(await verifiedBackups(ofA, storage, 1)), ...(await verifiedBackups(ofB, storage, 1)));
      const small = smallPages(s3.client);
      // (Without `job` a prefix of two jobs' backups is refused: retention-shared-prefix-jobs.test.ts.)
      const schedules: Array<Omit<RetentionOptions, 'storage'>> = [{ keepLast: 3, job: 'b' }, { keepLast: 1, job: 'a' }];
      const running = [true, true];
      const passes = [0, 0];
      const deleted: string[] = [];
      for (let turn = 0; running.some(Boolean); turn++) {
        expect(turn).toBeLessThan(40);
        const which = turn % 2;
        if (!running[which]) continue;
        const policy = schedules[which]!;
        const plan = await applyRetention({ storage, ...policy, dryRun: true });
        small.state.pages = 0;
        const report = await applyRetention({ storage: { ...storage, client: small.client }, reserveMs: 3_000, ...policy }, { remainingMs: () => 22_999 - 10_000 * small.state.pages });
        expect(report.deleted.filter((id) => !plan.deleted.includes(id))).toEqual([]);
        deleted.push(...report.deleted);
        running[which] = report.backupsPass !== undefined;
        if (running[which]) passes[which]!++;
      }
      expect(passes.every((n) => n >= 2)).toBe(true); // each schedule's pass took runs, interleaved
      expect(deleted.length).toBeGreaterThan(0);
      // Both finished: neither plans more deletes, and the kept backups are what both keep.
      expect((await applyRetention({ storage, ...schedules[0]!, dryRun: true })).deleted).toEqual([]);
      expect((await applyRetention({ storage, ...schedules[1]!, dryRun: true })).deleted).toEqual([]);
      const left = (await listAll(s3.client, s3.bucket, 'p/backups/')).filter((k) => k.endsWith('/manifest.json')).map((k) => k.split('/')[2]!);
      expect(left).toContain(ids[6]); // the newest of job a
      expect(left).toContain(ids[7]); // the newest of job b
    } finally {
      await Promise.all([db.dropDatabase(), s3.drop()]);
    }
  }, 300_000);

  it('a pass saved before summary.pitrFirst existed: continued without pitrWindowMs, discarded (a new pass) with it', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const caps = (await probeS3(storage)).capabilities;
      const entry = { id: '01a00000-0000-7000-8000-000000000001', endedAt: 1_000, stream: 'orders' };
      // `seenJob` recorded (the pitrFirst rule alone); a pass without `job` saved before it was is discarded (below).
      const older = (pitrWindowMs: number, seenJob: { seenJob?: null } = { seenJob: null }) => ({
        formatVersion: 1,
        root: 'p',
        policy: { keepLast: 1, keepMs: 0, pitrWindowMs, job: null, stream: 'orders' },
        phase: 'sweep',
        after: '',
        startedAt: 2_000,
        summary: { top: [entry], oldestRecent: null, pitrBase: null },
        ...seenJob,
        savedAt: new Date().toISOString(),
      });
      const key = 'p/retention/backups-pass/stream=orders.json';
      for (const pitrWindowMs of [0, 3_600_000]) {
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: JSON.stringify(older(pitrWindowMs)) }));
        const record = await PassRecord.read(storage, caps, { keepLast: 1, keepMs: 0, pitrWindowMs, job: null, stream: 'orders' });
        if (pitrWindowMs === 0) expect(record.saved).toMatchObject({ phase: 'sweep', summary: { top: [entry], pitrFirst: null } });
        else expect(record.saved).toBeUndefined();
      }
      // Without `seenJob` (the jobs it read unknown: another job's backups may be behind it): a new pass.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: JSON.stringify(older(0, {})) }));
      expect((await PassRecord.read(storage, caps, { keepLast: 1, keepMs: 0, pitrWindowMs: 0, job: null, stream: 'orders' })).saved).toBeUndefined();
      // Saved at the key of an earlier release (one object per scope): continued at the
      // per-policy key, the old object removed at the first write.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: JSON.stringify(older(0)) }));
      const policy = { keepLast: 1, keepMs: 0, pitrWindowMs: 0, job: null, stream: 'orders' };
      const adopted = await PassRecord.read(storage, caps, policy);
      await adopted.save(adopted.saved!);
      expect(await readJson(s3.client, s3.bucket, key)).toBeUndefined();
      expect(await readJson(s3.client, s3.bucket, 'p/retention/backups-pass/stream=orders/keepLast=1&keepMs=0&pitrWindowMs=0.json')).toMatchObject({ phase: 'sweep', after: '', startedAt: 2_000 });
    } finally {
      await s3.drop();
    }
  }, 60_000);
});
