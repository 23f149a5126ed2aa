/**
 * `applyRetention()`: deletes old backups, computed from verified backups only.
 * - keeps the newest `keepLast` verified backups and every verified backup newer than `keepMs`;
 * - never deletes the newest verified backup, nor the snapshot a retained point-in-time window
 *   (`pitrWindowMs`) starts from (the newest verified snapshot that ended before the window);
 * - deletes only backups older than the oldest one it keeps (unverified ones included: they
 *   were superseded without ever being proven);
 * - holds a backup whose verification record is damaged (not JSON, another shape): never
 *   deleted, never the newest verified backup or the point-in-time base, not counted when the
 *   line above is drawn, reported in `damaged` — the rest of the policy applies as without it
 *   (retention-damaged.ts);
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
 * - without `job`, refuses before any delete a prefix holding backups of more than one job
 *   (`ConfigurationError` on `job`; retention-jobs.ts): one policy over them all could delete
 *   one job's only backups;
 * - `dryRun` returns the plan and deletes nothing (and takes no lease).
 * Keep S3 lifecycle expiration rules off this prefix: they delete without knowing which backup
 * is the last good one (see README).
 *
 * This file checks the options (their shape: retention-options.ts), takes the lease and runs
 * the steps: retention-whole.ts (read every backup in this run) or a pass's run
 * (retention-pass-run.ts), retention-policy.ts (what the policy keeps and deletes),
 * retention-prune.ts (the stream's objects), the sweeps, and retention-report.ts (what the run
 * returns and logs).
 */
import { checkKnownKeys, intOption, invalidOption, msOption, stringOption } from '@steadyfn/handler/internal';
import { RETENTION_KEYS, type RetentionOptions } from './retention-options.js';
import { streamNameOption } from './stream/name.js';
import { storageErrorOf } from './errors.js';
import { takeJobLease } from './job-lease.js';
import { retentionNow } from './retention-clock.js';
import { deleteBudget, type DeleteBudget } from './retention-budget.js';
import { sweepStreams } from './retention-streams.js';
import { sweepProbes } from './retention-probes.js';
import { MIN_RESERVE_MS, logOf, warnUnderReserve, type RunContext } from './context.js';
import type { Manifest } from './format/manifest.js';
import type { S3Location } from './s3/client.js';
import { probeS3, type S3Capabilities } from './s3/probe.js';
import { toLocation, keys } from './target.js';
import { PassRecord } from './retention-pass.js';
import type { PassPolicy } from './retention-pass-summary.js';
import { continuePass } from './retention-pass-run.js';
import type { StreamMark } from './retention-candidates.js';
import { readStreamHolds } from './retention-holds.js';
import type { RetainOptions } from './retention-policy.js';
import { pruneStream } from './retention-prune.js';
import { emptyReport, finishReport, noTimeReport, noted, type RetentionReport } from './retention-report.js';
import { noteDamaged } from './retention-damaged.js';
import { retainWhole } from './retention-whole.js';

export type { RetentionReport } from './retention-report.js';
export type { RetentionOptions } from './retention-options.js';

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
 * @throws {ConfigurationError} an invalid option, or no `job` on a prefix holding backups of more than one job (field `job`; nothing deleted)
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
  const stream = options.stream === undefined ? undefined : streamNameOption('applyRetention', 'stream', options.stream);
  const dryRun = options.dryRun === true;
  const orphanGraceMs = msOption('applyRetention', 'orphanGraceMs', options.orphanGraceMs, 86_400_000, 0);
  const orphanBatchSize = intOption('applyRetention', 'orphanBatchSize', options.orphanBatchSize, 1000, 1, 1_000_000);
  const abandonedCheckpointMs = msOption('applyRetention', 'abandonedCheckpointMs', options.abandonedCheckpointMs, 604_800_000, 0);
  const reserveMs = msOption('applyRetention', 'reserveMs', options.reserveMs, 5_000, MIN_RESERVE_MS);
  const leaseMs = msOption('applyRetention', 'leaseMs', options.leaseMs, 300_000, 1000);
  if (options.now !== undefined && typeof options.now !== 'function') invalidOption('applyRetention', 'now', 'a function returning epoch ms', options.now);
  // No time past the reserve: stop before any work — no S3 probe, no lease, no listing (those
  // took seconds, past a 3 s function's deadline, and a run cut off there held the lease).
  if (warnUnderReserve(ctx, reserveMs, 'retention')) return noTimeReport(dryRun, ctx);
  const signal = ctx.signal;
  const { client, capabilities } = await probeS3(given, signal);
  const loc = { ...given, client };
  const lease = dryRun ? undefined : await takeJobLease(loc, { key: keys.retentionLease(), label: 'retention', leaseMs }, signal);
  try {
    // A runner whose clock runs ahead of S3's must not delete early (retention-clock.ts).
    const now = options.now ? options.now() : await retentionNow(loc, signal);
    const budget = deleteBudget({ ctx, reserveMs, batchSize: orphanBatchSize, lease });
    return await retain(loc, capabilities, { keepLast, keepMs, pitrWindowMs, job, stream, dryRun, orphanGraceMs, abandonedCheckpointMs, leaseMs, now }, budget, ctx);
  } catch (error) {
    // A call the signal interrupted (a listing, a read): the invocation is ending; say so, as the jobs do.
    if (signal?.aborted) throw signal.reason ?? error;
    throw storageErrorOf(error, 'applyRetention: reading the backups', given.bucket);
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

/** One run under the lease: a pass an earlier run saved continues, else the whole of backups/ is read; then the sweeps and the report. */
async function retain(loc: S3Location, caps: S3Capabilities, o: RetainOptions, budget: DeleteBudget, ctx: RunContext): Promise<RetentionReport> {
  const { job, dryRun, now } = o;
  const signal = ctx.signal;
  const report = emptyReport(dryRun);
  const policy: PassPolicy = { keepLast: o.keepLast, keepMs: o.keepMs, pitrWindowMs: o.pitrWindowMs, job: job ?? null, stream: o.stream ?? null };
  // A pass over backups/ an earlier run could not finish continues where it stopped (retention-pass.ts).
  const record = dryRun ? undefined : await PassRecord.read(loc, caps, policy, signal);
  if (record) {
    // Each policy of a scope keeps its own pass (retention-pass.ts): say when another one runs too.
    report.otherPolicies = await record.others(now, o.abandonedCheckpointMs, budget, signal);
    const running = report.otherPolicies.filter((p) => !p.removed);
    if (running.length > 0) logOf(ctx).warn('retention: another policy runs passes over the same backups (its deletes apply too)', { job: job ?? null, stream: o.stream ?? null, policy: { keepLast: o.keepLast, keepMs: o.keepMs, pitrWindowMs: o.pitrWindowMs }, others: running });
  }
  const orphanOptions = { graceMs: o.orphanGraceMs, now, dryRun, abandonedMs: o.abandonedCheckpointMs, leaseMs: o.leaseMs, caps };
  if (record?.saved) {
    const stream = o.stream;
    const pruneBelow = stream === undefined ? {} : { pruneStream: async (oldest: Manifest, held: StreamMark | null) => void (report.streamObjects = await pruneStream(loc, stream, oldest, held, false, budget, report, signal)) };
    const readHolds = stream === undefined ? {} : { readHolds: async () => noted(report, await readStreamHolds(loc, stream, job, budget, signal)) };
    const out = await continuePass(loc, record, { ...record.saved }, { policy, now, orphans: orphanOptions, budget, ...(signal ? { signal } : {}), ...pruneBelow, ...readHolds }, report.orphans);
    Object.assign(report, { kept: out.kept, deleted: out.deleted, uncommitted: out.uncommitted, protected: out.protected });
    for (const d of out.damaged) noteDamaged(report.damaged, d);
    if (out.streamPruneLeftAlone) report.streamPruneLeftAlone = out.streamPruneLeftAlone;
    report.left.backups = out.backupsLeft;
    if (out.saved) report.backupsPass = { phase: out.saved.phase, after: out.saved.after, startedAt: new Date(out.saved.startedAt).toISOString(), ...(out.restarted ? { restarted: out.restarted } : {}) };
  } else await retainWhole({ loc, o, policy, budget, report, signal, orphanOptions }, record);

  const sweep = { graceMs: o.orphanGraceMs, now, dryRun, budget, leaseMs: o.leaseMs, ...(signal ? { signal } : {}) };
  // Once the signal aborted nothing more is read (counts of what is left are then partial).
  if (budget.stoppedBy !== 'signal') report.streamOrphans = await sweepStreams(loc, sweep);
  if (!budget.stoppedBy) report.probeLeftovers = await sweepProbes(loc, sweep);
  return finishReport(report, loc, budget, ctx);
}
