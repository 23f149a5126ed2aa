/**
 * The options of `applyRetention()` (retention.ts) and the keys it accepts: apart from the run,
 * so that the file of the run is its steps. Each option's default and range is checked there.
 */
import { keysOf } from '@steadyfn/handler/internal';
import type { S3Target } from './target.js';

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
  /**
   * Only backups of this job are considered. Without it the prefix must hold the backups of one
   * job only: when backups of more than one job are found, the run is refused before any
   * delete (`ConfigurationError`, `CONFIG_INVALID`, field `job`, naming the jobs found; a dry
   * run too), since one policy over all of them could delete a job's only backups. On a prefix
   * shared by several jobs, run retention once per job with `job`: each run takes and releases
   * the prefix's retention lease in turn, keeps its own pass (retention-pass.ts) and repeats the
   * prefix-wide sweeps (orphans, streams, probe leftovers). There is no per-job policy in one
   * run. Under a deadline, a loop that always starts with the same job can leave the others no
   * time on a prefix too large for one invocation (each run of the first begins a new pass once
   * its last one finished): give each job its own schedule, or start the loop after the job a
   * `stoppedBy` report stopped.
   * @default the prefix's one job
   * @example
   * for (const job of ['orders', 'cache']) await applyRetention({ storage, job, keepLast: 7 });
   */
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
   * At least 1,000 (less is refused with `ConfigurationError`: the run's last writes need it).
   * A run that starts with no more time than this sends no S3 request (no lease, no listing)
   * and returns `stoppedBy: 'deadline'`, `left.listings: ['backups/']`, warning on `ctx.log`.
   * @default 5000
   */
  reserveMs?: number;
  /** The retention lease's duration (ms), renewed every third of it while the run lasts. @default 300000 */
  leaseMs?: number;
  /**
   * The clock (tests: a `now` later than S3's stands for time having passed), epoch ms.
   * @default `Date.now()`, capped at S3's clock (the `Date` header of a GET, plus its 1 s
   *   resolution and the round trip): a runner whose clock runs ahead does not delete early.
   */
  now?: () => number;
}

/** Every key `applyRetention()` accepts (any other is refused: `checkKnownKeys`). */
export const RETENTION_KEYS = keysOf<RetentionOptions>({
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
