/**
 * Report building (`applyRetention()`): the `RetentionReport` a run returns, made empty at its
 * start, filled by its steps, and completed at its end — what is left for the next run, why it
 * stopped — and the log lines that say it.
 */
import { logOf, type RunContext } from './context.js';
import type { DeleteBudget, StopReason } from './retention-budget.js';
import { noteDamaged, type DamagedObject } from './retention-damaged.js';
import type { StreamHolds, StreamPruneLeftAlone } from './retention-holds.js';
import type { OtherPolicy } from './retention-pass.js';
import type { OrphanReport } from './retention-orphans.js';
import type { ProbeLeftoverReport } from './retention-probes.js';
import { emptyStreamReport, type StreamOrphanReport } from './retention-streams.js';
import type { S3Location } from './s3/client.js';

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
   * the record is not written over; backups handled by the policy), or a backup's verification
   * record (the backup is held: never deleted, never the newest verified one or the
   * point-in-time base, not counted when the line of the deletes is drawn; listed in `kept`). Everything else
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
   * Run retention again: it continues where this run stopped. A run with no time past
   * `reserveMs` at its start stops before any S3 request (no lease taken, nothing listed):
   * `deadline`, with `left.listings: ['backups/']` and every other field empty (nothing read).
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

/** A report with nothing decided yet, which the run's steps fill. */
export function emptyReport(dryRun: boolean): RetentionReport {
  return { dryRun, kept: [], deleted: [], protected: {}, streamObjects: 0, streamPruneLeftAlone: [], damaged: [], otherPolicies: [], uncommitted: [], orphans: emptyOrphans(), streamOrphans: emptyStreamReport(), probeLeftovers: { objects: 0, uploadsAborted: 0, withinGrace: 0 }, left: { backups: 0, streamObjects: 0, orphanIds: 0, streamOrphans: 0, listings: [] } };
}

/**
 * The report of a run with no time past `reserveMs` at its start: it stopped before any S3
 * request (no lease, no listing), so nothing is known of what is left — `stoppedBy: 'deadline'`
 * and `left.listings: ['backups/']` (nothing under it was read), everything else empty.
 */
export function noTimeReport(dryRun: boolean, ctx: RunContext): RetentionReport {
  const report = emptyReport(dryRun);
  report.stoppedBy = 'deadline';
  report.left.listings = ['backups/'];
  logOf(ctx).info('retention applied', { dryRun, kept: 0, deleted: 0, stoppedBy: report.stoppedBy, left: report.left });
  return report;
}

/** Nothing cleaned under backups/ (yet). */
function emptyOrphans(): OrphanReport {
  return { cleaned: [], objects: 0, uploadsAborted: 0, remaining: false, idsLeft: 0, abandoned: [], leftAlone: [] };
}

/** A damaged stream checkpoint holds the prune at the stream's start (retention-holds.ts): reported. */
export function noted(report: RetentionReport, holds: StreamHolds | undefined): StreamHolds | undefined {
  if (holds?.damaged) noteDamaged(report.damaged, holds.damaged);
  return holds;
}

/** The run's end: what it left and why it stopped, from its budget, then the warning and the summary log lines. */
export function finishReport(report: RetentionReport, loc: S3Location, budget: DeleteBudget, ctx: RunContext): RetentionReport {
  report.left.orphanIds = report.orphans.idsLeft;
  report.left.streamOrphans = report.streamOrphans.left;
  const top = loc.prefix === '' ? '' : `${loc.prefix}/`;
  report.left.listings = budget.listingsCut.map((p) => p.slice(top.length));
  if (budget.stoppedBy) report.stoppedBy = budget.stoppedBy;
  // Key, code and problem only (never the object's content): every run says it until it is repaired.
  if (report.damaged.length > 0) logOf(ctx).warn('retention: damaged objects left alone', { damaged: report.damaged.map((d) => ({ key: d.key, code: d.code, problem: d.problem, leftAlone: d.leftAlone })) });
  logOf(ctx).info('retention applied', {
    dryRun: report.dryRun,
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
