/**
 * `applyRetention()`: deletes old backups, computed from verified backups only.
 * - keeps the newest `keepLast` verified backups and every verified backup newer than `keepMs`;
 * - never deletes the newest verified backup, nor the snapshot a retained point-in-time window
 *   (`pitrWindowMs`) starts from (the newest verified snapshot that ended before the window);
 * - deletes only backups older than the oldest one it keeps (unverified ones included: they
 *   were superseded without ever being proven);
 * - deletes the manifest first (the backup stops existing), then its verification record and
 *   segments; a failed delete throws `RetentionDeleteError` and nothing after it is deleted;
 * - with `stream`, also deletes stream objects (index first) that only the deleted backups needed:
 *   those older than every kept backup's start mark — and, with `job`, than the start mark
 *   of every other job's backup on that stream (retention of one job never prunes what
 *   another job's snapshot still needs for a point-in-time restore);
 * - cleans what is under `backups/` without a manifest and without a job checkpoint naming it
 *   (a run killed before its commit whose job was abandoned, a deletion that stopped part way)
 *   once nothing under it changed for `orphanGraceMs` (see retention-orphans.ts); retires job
 *   checkpoints abandoned for `abandonedCheckpointMs` (retention-checkpoints.ts); sweeps
 *   stream objects no index lists and no sink can still list (retention-streams.ts);
 * - stops starting deletes when the invocation's deadline nears (`ctx.remainingMs()` under
 *   `reserveMs` plus twice the expected time of the next deletes; a backup's deletes are
 *   started only together) or `ctx.signal` aborts, and after `orphanBatchSize` orphan deletes;
 *   it reports why (`stoppedBy`) and what is left, for the next run (retention-budget.ts); its
 *   listings stop between pages by the same rule (`left.listings`), a stream's sweep resuming
 *   from a saved cursor (retention-cursor.ts); nothing is judged from part of `backups/`: a run
 *   that cannot read it whole starts a pass the next runs continue (retention-pass.ts: a
 *   bounded summary first, the deletes below the line it draws in a second listing, then the
 *   unfinished uploads page by page), so a bucket too big for one invocation is still judged;
 * - removes what killed start-up probes left under `.probe/` (retention-probes.ts);
 * - runs under a lease (`retention/lease.json`, `@steadyfn/lease`'s S3 store): one retention
 *   run at a time, and a run that lost its lease stops before its next delete;
 * - `dryRun` returns the plan and deletes nothing (and takes no lease).
 * Keep S3 lifecycle expiration rules off this prefix: they delete without knowing which backup
 * is the last good one (see README).
 */
import { checkKnownKeys, intOption, invalidOption, msOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import { storageErrorOf } from './errors.js';
import { takeJobLease } from './job-lease.js';
import { deleteBudget, type DeleteBudget, type StopReason } from './retention-budget.js';
import { cleanOrphans, deleteOrThrow, type OrphanReport } from './retention-orphans.js';
import { emptyStreamReport, sweepStreams, type StreamOrphanReport } from './retention-streams.js';
import { sweepProbes, type ProbeLeftoverReport } from './retention-probes.js';
import { logOf, type RunContext } from './context.js';
import type { Manifest } from './format/manifest.js';
import { joinKey, type S3Location } from './s3/client.js';
import { probeS3, type S3Capabilities } from './s3/probe.js';
import { toLocation, keys, type S3Target } from './target.js';
import { newPass, PassRecord, summarise, type OtherPolicy, type PassPolicy, type PassState } from './retention-pass.js';
import { backupIdsPage, continuePass, entryOf, holdFor, readCandidate, type Candidate, type StreamMark } from './retention-pass-run.js';
import { readStreamCheckpoint, type StreamCheckpoint } from './stream/checkpoint.js';
import { isPruned, readPruned, recordPruned } from './stream/pruned.js';
import { readHourIndex, type HourIndex } from './stream/objects.js';
import { readStreamHolds, type StreamHolds, type StreamPruneLeftAlone } from './retention-holds.js';
import { damagedHourIndex, damagedStreamCheckpoint, damagedStreamPrunedRecord, isDamage, noteDamaged, type DamagedObject } from './retention-damaged.js';

/** Options of `applyRetention()`. */
export interface RetentionOptions {
  storage: S3Target;
  /** Verified backups to keep, newest first. @default 7 */
  keepLast?: number;
  /** Also keep verified backups that ended less than this long ago (ms). @default 0 */
  keepMs?: number;
  /**
   * Point-in-time window to keep restorable (ms): its base snapshot is kept — the newest verified
   * one (of `stream`, when given) that ended before the window, or, when none did, the oldest
   * verified one (the earliest point the window can be restored from). @default 0
   */
  pitrWindowMs?: number;
  /** Only backups of this job are considered. @default every job */
  job?: string;
  /**
   * Prune this stream's objects that no kept snapshot needs: those older than the start mark of
   * every backup kept (the oldest kept one's, and that of any kept one that ended later but
   * started earlier: jobs' snapshots can overlap) — and, with `job`, than that of every other job's backup on this
   * stream (verified or not: its own retention decides), so a point-in-time restore from
   * another job's kept snapshot still works.
   */
  stream?: string;
  /** Plan only (no lease taken, nothing deleted). @default false */
  dryRun?: boolean;
  /**
   * How long nothing under a backup id without a manifest (and without a job checkpoint naming
   * it) must have been written or started before retention deletes it (ms). Also the age a
   * stream object no index lists must reach before it is swept (its `LastModified`).
   * @default 86400000 (24 h)
   */
  orphanGraceMs?: number;
  /**
   * Most orphan deletes a run makes — objects deleted, uploads aborted and abandoned
   * checkpoints retired, under `backups/` and `streams/` together; the rest go next run
   * (`stoppedBy: 'orphanBatchSize'`). The retention policy's own deletes are bounded by the
   * deadline only.
   * @default 1000
   */
  orphanBatchSize?: number;
  /**
   * How long a snapshot job's checkpoint must show no sign of its job — no checkpoint write,
   * no lease claimed or renewed, nothing written under its backup id — before it counts as
   * abandoned (ms). Retention then deletes the checkpoint (under the job's lease, if its ETag
   * is still the one judged) and cleans its backup id as an orphan. Make it longer than the
   * longest pause between a job's invocations; `0` retires every checkpoint whose job is not
   * running. With `stream`, a checkpoint holds the stream's prune until it is retired: at its
   * start mark, or wholly while it has none yet (`streamPending`, reported as `snapshot
   * starting`) — a job abandoned then pauses the prune this long (see the README).
   * @default 604800000 (7 days)
   * @example
   * await applyRetention({ storage, abandonedCheckpointMs: 14 * 86_400_000 }); // a monthly job that may skip two weeks
   */
  abandonedCheckpointMs?: number;
  /**
   * Time kept back before the invocation's deadline (ms): no delete starts when
   * `ctx.remainingMs()` is under this plus twice the expected time of the deletes it would
   * start (a backup's are started together, so no backup is left half-deleted by the
   * deadline). The run then returns with `stoppedBy: 'deadline'` and counts of what is left.
   * @default 5000
   */
  reserveMs?: number;
  /** The retention lease's duration (ms), renewed every third of it while the run lasts. @default 300000 */
  leaseMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** What retention decided (and, unless a dry run, did). */
export interface RetentionReport {
  dryRun: boolean;
  kept: string[];
  deleted: string[];
  /** The newest verified backup and the point-in-time base: never deleted. */
  protected: { newestVerified?: string; pitrBase?: string };
  /** Stream objects deleted (or planned), with their hourly indexes. */
  streamObjects: number;
  /**
   * With `stream`: why this run pruned none of the stream's objects although the policy
   * would — a job's snapshot is starting and has not read the stream's position yet
   * (`snapshot starting`), a job checkpoint or a backup's manifest cannot be read (`job
   * checkpoint unreadable`, `manifest unreadable`: the position it needs is unknown). Empty when
   * nothing held the prune back. Running snapshots whose start mark is known hold the prune
   * at that mark instead (see the README).
   */
  streamPruneLeftAlone: StreamPruneLeftAlone[];
  /**
   * Objects this run met damaged (not JSON, another shape, another format version) and left
   * alone, with what it did not do because of them: a stream's hourly index below the prune's
   * mark (that hour's objects are neither pruned nor swept: which ones it lists is unknown), or
   * the checkpoint of `stream` (nothing of the stream is pruned: where it stands and which hours
   * hold objects is unknown; backups are still kept and deleted by the policy), or the pruned
   * record of `stream`, met when the prune has hours to delete (nothing of the stream is pruned,
   * the record is not written over; backups handled by the policy). Everything else
   * is done as usual. Reported (and logged as a warning) by every run that reads the object,
   * until it is repaired or removed (see the README). Empty when none.
   */
  damaged: DamagedObject[];
  /** Backup ids without a manifest (an id whose manifest is damaged or of a newer format is in neither list: left alone). */
  uncommitted: string[];
  /** What was cleaned of those (orphans: abandoned runs, deletions that stopped part way), and what was left alone and why. */
  orphans: OrphanReport;
  /** Stream objects that no index lists and no sink can still list, swept (see the README). */
  streamOrphans: StreamOrphanReport;
  /** Objects and unfinished uploads a start-up probe killed part way left under `.probe/`, removed after `orphanGraceMs`. */
  probeLeftovers: ProbeLeftoverReport;
  /**
   * Why the run stopped before it finished — `deadline` (`ctx.remainingMs()` ran low),
   * `signal` (`ctx.signal` aborted), `orphanBatchSize` — or undefined when it finished.
   * Run retention again: it continues where this run stopped.
   */
  stoppedBy?: StopReason;
  /**
   * Passes over `backups/` of other policies with the same scope (`job`, `stream`): another
   * schedule with other `keepLast`/`keepMs`/`pitrWindowMs` (each keeps its own pass object and
   * finishes it; together they delete what either policy would — its deletes can also end this
   * pass early, `restarted: 'kept backup changed'` — so check that both are meant), or a policy
   * changed since. One not written for `abandonedCheckpointMs` is deleted (`removed`). Also
   * logged as a warning. Empty in a dry run.
   */
  otherPolicies: OtherPolicy[];
  /**
   * Where the pass over `backups/` continues next run, when this run could not read every
   * backup (or list every unfinished upload under `backups/`, or check the manifests of the
   * ids those uploads and the job checkpoints name) and saved its place in
   * `retention/backups-pass/<scope>/<policy>.json` (one per scope and policy: see the README): `read` (reading every manifest into a
   * bounded summary; nothing deleted), `sweep` (deleting below the line the summary drew,
   * cleaning orphans id by id), `uploads` (ids with unfinished uploads and no object); `after`
   * is the last id handled, `startedAt` the clock of the pass's first run (its keep rules are
   * measured from it); after a `signal` stop (nothing more is written) they are the position
   * the object holds, where the next run continues. `restarted`: the pass ended early — a backup it kept changed, or one
   * below its line was verified after it was read, or a sweep run's clock (`now`) was
   * before `startedAt` (`'clock went back'`) — and a new one began. Undefined when no
   * pass continues. In a run of a pass, `kept`, `deleted`, `uncommitted` and `left.backups`
   * name what this run met, not every backup.
   */
  backupsPass?: { phase: 'read' | 'sweep' | 'uploads'; after: string; startedAt: string; restarted?: 'kept backup changed' | 'verified after it was read' | 'clock went back' };
  /** What this run left for the next one because it stopped (all 0 when it finished). */
  left: {
    /** Backups the policy would delete that this run did not start on (`deleted` lists those it did); in a pass (`backupsPass`), those it met. */
    backups: number;
    /** Stream objects the policy would delete that this run did not delete. */
    streamObjects: number;
    /** Ids without a manifest not finished (`orphans.idsLeft`). */
    orphanIds: number;
    /** Stream orphans found and not deleted (`streamOrphans.left`), in the streams it reached. */
    streamOrphans: number;
    /**
     * Listings (key prefixes under `storage.prefix`, e.g. `backups/`, `streams/orders/t`) this run
     * stopped between two pages, or before reading every manifest under `backups/` or every job
     * checkpoint under `jobs/` (the stream's prune then waits for a run that reads them all), or
     * before checking for a manifest every backup id an unfinished upload or a job checkpoint
     * names (`backups/`: a pass continues it, `backupsPass.phase: 'uploads'`): nothing was
     * judged from part of `backups/`, `jobs/` or an id's listing; a stream's sweep continues
     * from `streamOrphans.resumeAfter`.
     */
    listings: string[];
  };
}

const RETENTION_KEYS = keysOf<RetentionOptions>({
  storage: true,
  keepLast: true,
  keepMs: true,
  pitrWindowMs: true,
  job: true,
  stream: true,
  dryRun: true,
  orphanGraceMs: true,
  orphanBatchSize: true,
  abandonedCheckpointMs: true,
  reserveMs: true,
  leaseMs: true,
  now: true,
});

/**
 * Applies the retention policy.
 *
 * @example
 * await applyRetention({ storage, keepLast: 7, pitrWindowMs: 7 * 86_400_000, stream: 'orders' });
 * @example
 * // Inside a function: stops in time and reports what is left for the next invocation.
 * const report = await applyRetention({ storage, keepLast: 7, reserveMs: 10_000 }, ctx);
 * if (report.stoppedBy) ctx.log.info('retention continues next run', report.left);
 * @throws {RetentionDeleteError} a delete failed (permissions, a 5xx): the run stops there
 * @throws {LeaseHeldError} another retention run holds the lease (nothing was deleted)
 * @throws {FencedError} the lease was lost during the run: it stopped before its next delete
 * @throws {ConfigurationError} an invalid option
 * @throws the signal's reason, when `ctx.signal` aborted during a call (between deletes, and during the read of a backup's manifest or verification record, the run returns `stoppedBy: 'signal'` instead)
 */
export async function applyRetention(options: RetentionOptions, ctx: RunContext = {}): Promise<RetentionReport> {
  if (options === null || typeof options !== 'object') invalidOption('applyRetention', 'options', 'an object', options);
  checkKnownKeys('applyRetention', '', options, RETENTION_KEYS);
  const given = toLocation('applyRetention', options.storage, 'storage');
  const keepLast = intOption('applyRetention', 'keepLast', options.keepLast, 7, 1);
  const keepMs = msOption('applyRetention', 'keepMs', options.keepMs, 0, 0);
  const pitrWindowMs = msOption('applyRetention', 'pitrWindowMs', options.pitrWindowMs, 0, 0);
  const job = options.job === undefined ? undefined : stringOption('applyRetention', 'job', options.job);
  const stream = options.stream === undefined ? undefined : stringOption('applyRetention', 'stream', options.stream);
  const dryRun = options.dryRun === true;
  const orphanGraceMs = msOption('applyRetention', 'orphanGraceMs', options.orphanGraceMs, 86_400_000, 0);
  const orphanBatchSize = intOption('applyRetention', 'orphanBatchSize', options.orphanBatchSize, 1000, 1, 1_000_000);
  const abandonedCheckpointMs = msOption('applyRetention', 'abandonedCheckpointMs', options.abandonedCheckpointMs, 604_800_000, 0);
  const reserveMs = msOption('applyRetention', 'reserveMs', options.reserveMs, 5_000, 0);
  const leaseMs = msOption('applyRetention', 'leaseMs', options.leaseMs, 300_000, 1000);
  const now = (options.now ?? Date.now)();
  const signal = ctx.signal;
  const { client, capabilities } = await probeS3(given, signal);
  const loc = { ...given, client };
  const lease = dryRun ? undefined : await takeJobLease(loc, { key: keys.retentionLease(), label: 'retention', leaseMs }, signal);
  try {
    const budget = deleteBudget({ ctx, reserveMs, batchSize: orphanBatchSize, lease });
    return await retain(loc, capabilities, { keepLast, keepMs, pitrWindowMs, job, stream, dryRun, orphanGraceMs, abandonedCheckpointMs, leaseMs, now }, budget, ctx);
  } catch (error) {
    // A call the signal interrupted (a listing, a read): the invocation is ending; say so, as the jobs do.
    if (signal?.aborted) throw signal.reason ?? error;
    throw storageErrorOf(error, 'applyRetention: reading the backups');
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

interface RetainOptions {
  keepLast: number;
  keepMs: number;
  pitrWindowMs: number;
  job?: string | undefined;
  stream?: string | undefined;
  dryRun: boolean;
  orphanGraceMs: number;
  abandonedCheckpointMs: number;
  leaseMs: number;
  now: number;
}

async function retain(loc: S3Location, caps: S3Capabilities, o: RetainOptions, budget: DeleteBudget, ctx: RunContext): Promise<RetentionReport> {
  const { job, dryRun, now } = o;
  const signal = ctx.signal;
  const report: RetentionReport = { dryRun, kept: [], deleted: [], protected: {}, streamObjects: 0, streamPruneLeftAlone: [], damaged: [], otherPolicies: [], uncommitted: [], orphans: emptyOrphans(), streamOrphans: emptyStreamReport(), probeLeftovers: { objects: 0, uploadsAborted: 0, withinGrace: 0 }, left: { backups: 0, streamObjects: 0, orphanIds: 0, streamOrphans: 0, listings: [] } };
  const policy: PassPolicy = { keepLast: o.keepLast, keepMs: o.keepMs, pitrWindowMs: o.pitrWindowMs, job: job ?? null, stream: o.stream ?? null };
  const root = keys.backupsRoot(loc);
  // A pass over backups/ an earlier run could not finish continues where it stopped (retention-pass.ts).
  const record = dryRun ? undefined : await PassRecord.read(loc, caps, policy, signal);
  if (record) {
    // Each policy of a scope keeps its own pass (retention-pass.ts): say when another one runs too.
    report.otherPolicies = await record.others(now, o.abandonedCheckpointMs, budget, signal);
    const running = report.otherPolicies.filter((p) => !p.removed);
    if (running.length > 0) logOf(ctx).warn('retention: another policy runs passes over the same backups (its deletes apply too)', { job: job ?? null, stream: o.stream ?? null, policy: { keepLast: o.keepLast, keepMs: o.keepMs, pitrWindowMs: o.pitrWindowMs }, others: running });
  }
  // A damaged stream checkpoint holds the prune at the stream's start (retention-holds.ts): reported.
  const noted = (holds: StreamHolds | undefined): StreamHolds | undefined => {
    if (holds?.damaged) noteDamaged(report.damaged, holds.damaged);
    return holds;
  };
  const orphanOptions = { graceMs: o.orphanGraceMs, now, dryRun, abandonedMs: o.abandonedCheckpointMs, leaseMs: o.leaseMs, caps };
  if (record?.saved) {
    const stream = o.stream;
    const pruneBelow = stream === undefined ? {} : { pruneStream: async (oldest: Manifest, held: StreamMark | null) => void (report.streamObjects = await pruneStream(loc, stream, oldest, held, false, budget, report, signal)) };
    const readHolds = stream === undefined ? {} : { readHolds: async () => noted(await readStreamHolds(loc, stream, job, budget, signal)) };
    const out = await continuePass(loc, record, { ...record.saved }, { policy, now, orphans: orphanOptions, budget, ...(signal ? { signal } : {}), ...pruneBelow, ...readHolds }, report.orphans);
    Object.assign(report, { kept: out.kept, deleted: out.deleted, uncommitted: out.uncommitted, protected: out.protected });
    if (out.streamPruneLeftAlone) report.streamPruneLeftAlone = out.streamPruneLeftAlone;
    report.left.backups = out.backupsLeft;
    if (out.saved) report.backupsPass = { phase: out.saved.phase, after: out.saved.after, startedAt: new Date(out.saved.startedAt).toISOString(), ...(out.restarted ? { restarted: out.restarted } : {}) };
  } else {
    // The whole of backups/ in this run, page by page; the policy needs every backup, so a run
    // stopped here (its listing or manifests cut by the deadline) deletes none — and saves what
    // it read as the first part of a pass the next runs continue.
    const candidates: Candidate[] = [];
    const pass = newPass(now);
    // With `stream`: the stream's position and the running snapshots' start marks, read
    // before any manifest (retention-holds.ts); then, with `job`, the oldest start mark other
    // jobs' backups have on it. The prune stays below all of them.
    const holds = o.stream === undefined ? undefined : noted(await readStreamHolds(loc, o.stream, job, budget, signal));
    let held: StreamMark | null = holds ? holds.held : null;
    const hold = (m: Manifest): void => void (held = holdFor(held, m, o.stream));
    const unreadable = (id: string) => (): void => {
      if (o.stream !== undefined) report.streamPruneLeftAlone.push({ stream: o.stream, reason: 'manifest unreadable', backupId: id });
    };
    let complete = false;
    reading: for (;;) {
      if (!budget.allowsPage(root)) break;
      const started = Date.now();
      const page = await backupIdsPage(loc, pass.after, signal);
      budget.pageTook(Date.now() - started);
      for (const id of page.ids) {
        if (!budget.allowsPage(root)) break reading;
        const c = await readCandidate(loc, id, job, signal, hold, unreadable(id));
        if (c === 'stopped') {
          // The signal cut the manifest's read: a stop (the budget records it), not a damaged backup.
          budget.allowsPage(root);
          break reading;
        }
        if (c === 'uncommitted') report.uncommitted.push(id);
        else if (c !== 'skip') {
          candidates.push(c);
          if (c.verified) summarise(pass.summary, entryOf(c), policy, now);
        }
        pass.after = id;
      }
      if (!page.more) {
        complete = true;
        break;
      }
    }
    if (complete) {
      candidates.sort((a, b) => a.endedAt - b.endedAt || a.id.localeCompare(b.id));
      const verified = candidates.filter((c) => c.verified);
      if (holds) report.streamPruneLeftAlone.unshift(...holds.leftAlone);
      // A starting snapshot or an unreadable checkpoint or manifest: the stream is not pruned this run.
      const pruneHeld = holds && report.streamPruneLeftAlone.length === 0 ? held : 'no';
      if (verified.length > 0) await applyPolicy(loc, candidates, verified, pruneHeld, o, budget, report, signal);
      else report.kept = candidates.map((c) => c.id); // Nothing proven restorable: delete no backup.
      const cutBefore = budget.listingsCut.includes(root);
      report.orphans = await cleanOrphans(loc, report.uncommitted, { ...orphanOptions, budget, ...(signal ? { signal } : {}) });
      // Its listing of unfinished uploads cut: the next runs list them page by page (a pass's last phase).
      const uploadsCut = !cutBefore && budget.listingsCut.includes(root);
      if (record && uploadsCut && budget.stoppedBy !== 'signal') {
        const next: PassState = { ...newPass(now), phase: 'uploads' };
        await record.save(next, signal);
        report.backupsPass = { phase: 'uploads', after: '', startedAt: new Date(now).toISOString() };
      } else if (record && !uploadsCut) await record.end(signal); // one left by another policy or root, now moot
    } else if (record && pass.after !== '' && budget.stoppedBy !== 'signal') {
      await record.save(pass, signal);
      report.backupsPass = { phase: 'read', after: pass.after, startedAt: new Date(now).toISOString() };
      report.orphans = { ...report.orphans, remaining: report.uncommitted.length > 0, idsLeft: report.uncommitted.length };
    } else report.orphans = { ...report.orphans, remaining: report.uncommitted.length > 0, idsLeft: report.uncommitted.length };
  }

  const sweep = { graceMs: o.orphanGraceMs, now, dryRun, budget, leaseMs: o.leaseMs, ...(signal ? { signal } : {}) };
  // Once the signal aborted nothing more is read (counts of what is left are then partial).
  if (budget.stoppedBy !== 'signal') report.streamOrphans = await sweepStreams(loc, sweep);
  if (!budget.stoppedBy) report.probeLeftovers = await sweepProbes(loc, sweep);
  report.left.orphanIds = report.orphans.idsLeft;
  report.left.streamOrphans = report.streamOrphans.left;
  const top = loc.prefix === '' ? '' : `${loc.prefix}/`;
  report.left.listings = budget.listingsCut.map((p) => p.slice(top.length));
  if (budget.stoppedBy) report.stoppedBy = budget.stoppedBy;
  // Key, code and problem only (never the object's content): every run says it until it is repaired.
  if (report.damaged.length > 0) logOf(ctx).warn('retention: damaged objects left alone', { damaged: report.damaged.map((d) => ({ key: d.key, code: d.code, problem: d.problem, leftAlone: d.leftAlone })) });
  logOf(ctx).info('retention applied', {
    dryRun,
    kept: report.kept.length,
    deleted: report.deleted.length,
    streamObjects: report.streamObjects,
    orphansCleaned: report.orphans.cleaned.length,
    orphanObjects: report.orphans.objects + report.orphans.uploadsAborted,
    abandonedCheckpoints: report.orphans.abandoned.length,
    streamOrphans: report.streamOrphans.objects + report.streamOrphans.indexes + report.streamOrphans.uploadsAborted,
    streamsNeverCheckpointed: report.streamOrphans.neverCheckpointed.length,
    probeLeftovers: report.probeLeftovers.objects + report.probeLeftovers.uploadsAborted,
    stoppedBy: report.stoppedBy,
    left: report.left,
  });
  return report;
}

function emptyOrphans(): OrphanReport {
  return { cleaned: [], objects: 0, uploadsAborted: 0, remaining: false, idsLeft: 0, abandoned: [], leftAlone: [] };
}

/** Keeps and deletes backups by the policy (and, with `stream`, the stream objects only deleted backups needed). */
async function applyPolicy(loc: S3Location, candidates: Candidate[], verified: Candidate[], held: StreamMark | null | 'no', o: RetainOptions, budget: DeleteBudget, report: RetentionReport, signal?: AbortSignal): Promise<void> {
  const { keepLast, keepMs, pitrWindowMs, stream, dryRun, now } = o;
  const keep = new Set<string>();
  for (const c of verified.slice(-keepLast)) keep.add(c.id);
  for (const c of verified) if (now - c.endedAt < keepMs) keep.add(c.id);
  const newest = verified.at(-1)!;
  keep.add(newest.id);
  report.protected.newestVerified = newest.id;
  if (pitrWindowMs > 0) {
    const windowStart = now - pitrWindowMs;
    const ofStream = verified.filter((c) => stream === undefined || c.manifest.start.stream?.name === stream);
    // No snapshot ended before the window (it reaches past every one): the oldest is the
    // earliest point the window can be restored from, and is kept as its base.
    const base = [...ofStream].reverse().find((c) => c.endedAt <= windowStart) ?? ofStream[0];
    if (base) {
      keep.add(base.id);
      report.protected.pitrBase = base.id;
    }
  }
  const oldestKept = candidates.find((c) => keep.has(c.id))!;
  const doomed = candidates.filter((c) => !keep.has(c.id) && (c.endedAt < oldestKept.endedAt || (c.endedAt === oldestKept.endedAt && c.id < oldestKept.id)));
  report.kept = candidates.filter((c) => !doomed.includes(c)).map((c) => c.id);

  for (const [at, c] of doomed.entries()) {
    if (dryRun) {
      report.deleted.push(c.id);
      continue;
    }
    const objects = [keys.manifest(loc, c.id), keys.verification(loc, c.id), ...c.manifest.datasets.flatMap((d) => d.segments.map((s) => s.key))];
    // All of a backup's deletes or none: the deadline never leaves one half-deleted.
    if (!budget.allows(objects.length, false)) {
      report.left.backups = doomed.length - at;
      break; // the stream's obsolete objects are still counted below (nothing more is deleted)
    }
    // Manifest first: from here on the backup does not exist, whatever fails later.
    for (const key of objects) await budget.spend(false, () => deleteOrThrow(loc, key, signal));
    report.deleted.push(c.id);
  }
  if (stream === undefined || held === 'no' || budget.stoppedBy === 'signal') return;
  // Every kept backup's start mark holds the prune, not only the oldest kept one's: snapshots of
  // two jobs can overlap (one checkpointed across invocations), so one that ended later may
  // have started earlier on the stream.
  const keptMarks = candidates.filter((c) => !doomed.includes(c)).reduce<StreamMark | null>((h, c) => holdFor(h, c.manifest, stream), held);
  report.streamObjects = await pruneStream(loc, stream, oldestKept.manifest, keptMarks, o.dryRun, budget, report, signal);
}

/**
 * Deletes stream objects older than the oldest kept snapshot's start mark and than `held` (every kept backup's mark, the
 * oldest start mark on the stream of another job's backup, with `job`: never pruned for one
 * job what another job's snapshot needs), an hour's index first, then its objects, all or none.
 */
async function pruneStream(loc: S3Location, name: string, oldest: Manifest, held: StreamMark | null, dryRun: boolean, budget: DeleteBudget, report: RetentionReport, signal?: AbortSignal): Promise<number> {
  const own = oldest.start.stream;
  if (!own || own.name !== name) return 0;
  const mark = holdFor(held, oldest, name)!;
  // A stream that has never checkpointed (snapshots marked before its first sink ran) has nothing to prune.
  let checkpoint: StreamCheckpoint | undefined;
  try {
    checkpoint = (await readStreamCheckpoint(loc, name, signal))?.value;
  } catch (error) {
    // Damaged (or of a newer format): which hours hold objects is unknown, so none is deleted —
    // reported (once: the holds' read may have met it), the backups handled as usual. A failed or
    // aborted read still stops the run.
    if (!isDamage(error) || signal?.aborted) throw error;
    noteDamaged(report.damaged, damagedStreamCheckpoint(loc, name, keys.streamCheckpoint(loc, name), error));
    return 0;
  }
  if (!checkpoint) return 0;
  let count = 0;
  let recorded = false;
  let recordRead = false;
  // Each hour's index read is asked of the budget as one more page of the stream's listing (as
  // the sweep's are: retention-streams.ts): a checkpoint can list very many hours.
  const timelines = `${joinKey(loc.prefix, 'streams', encodeURIComponent(name))}/t`;
  for (const h of checkpoint.hours) {
    if (!isPruned(mark, h.timeline, h.lastSeq)) continue; // needed by the oldest kept snapshot (or by another job's backup)
    if (!dryRun && (budget.stoppedBy || !budget.allowsPage(timelines))) {
      report.left.streamObjects += h.lastSeq - h.firstSeq + 1; // from the checkpoint: nothing more is read once stopped
      continue;
    }
    if (!recordRead) {
      // The pruned record, read before the first index (dry runs too): damaged (or of a newer
      // format), nothing of the stream is deleted this run — a restore could not tell what it
      // deleted from lost — and the record is not written over: what it said is unknown, and one
      // saying less than was pruned would have restores call a pruned range lost. Reported; the
      // backups handled as usual. A failed or aborted read still stops the run.
      recordRead = true;
      try {
        await readPruned(loc, name, signal);
      } catch (error) {
        if (!isDamage(error) || signal?.aborted) throw error;
        noteDamaged(report.damaged, damagedStreamPrunedRecord(loc, name, keys.streamPruned(loc, name), error));
        return 0;
      }
    }
    const indexKey = `${keys.streamHour(loc, name, h.timeline, h.hour)}/index.json`;
    let index: HourIndex | undefined;
    try {
      index = await readHourIndex(loc, name, h.timeline, h.hour, signal);
    } catch (error) {
      // Damaged (or of a newer format): which objects it lists is unknown, so none of its hour is
      // deleted — reported, and every other hour pruned as usual (the sweep leaves the hour alone
      // too: retention-streams.ts). A failed or aborted read still stops the run.
      if (!isDamage(error) || signal?.aborted) throw error;
      report.damaged.push(damagedHourIndex(loc, name, indexKey, h, error));
      continue;
    }
    // No index (a run killed, or a delete failed, after it deleted the index and before every
    // object): nothing here is the policy's to delete. Its objects — below the mark, needed by no
    // kept snapshot, and no index lists them — are the stream sweep's orphans once `orphanGraceMs`
    // old (retention-streams.ts).
    if (!index) continue;
    if (!dryRun && !budget.allows(index.objects.length + 1, false)) {
      report.left.streamObjects += index.objects.length;
      continue; // counted; nothing more starts
    }
    count += index.objects.length;
    if (dryRun) continue;
    if (!recorded) {
      // Before the first delete: a restore that meets a pruned hour then says it was pruned, not lost.
      await recordPruned(loc, name, lastObsolete(checkpoint.hours, mark), signal);
      recorded = true;
    }
    await budget.spend(false, () => deleteOrThrow(loc, indexKey, signal));
    for (const o of index.objects) await budget.spend(false, () => deleteOrThrow(loc, o.key, signal));
  }
  return count;
}

/** The newest (timeline, object number) of the hours older than the mark: how far this run prunes. */
function lastObsolete(hours: StreamCheckpoint['hours'], mark: { timeline: number; seq: number }): { timeline: number; seq: number } {
  let through = { timeline: 1, seq: 0 };
  for (const h of hours) {
    if (isPruned(mark, h.timeline, h.lastSeq) && (h.timeline > through.timeline || (h.timeline === through.timeline && h.lastSeq > through.seq))) through = { timeline: h.timeline, seq: h.lastSeq };
  }
  return through;
}
