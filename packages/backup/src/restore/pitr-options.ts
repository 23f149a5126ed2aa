/**
 * `pointInTimeRestore()`'s options and report, and the target time it takes (`toTime`, also
 * `restoreStream`'s `until`).
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { zonedIsoMs } from '../format/zoned-time.js';
import type { S3Target } from '../target.js';
import type { RestoreReport } from './index.js';
import type { IfTargetNotEmpty } from './not-empty.js';
import type { RestoreTarget } from './targets.js';

/** Options of `pointInTimeRestore()`. */
export interface PointInTimeRestoreOptions {
  storage: S3Target;
  /** The stream backup (its `name`) whose changes are replayed. */
  stream: string;
  /**
   * The state to reproduce: a time (Date, epoch ms, or an ISO string with its zone — `Z` or an
   * offset; one without is refused with `ConfigurationError`, as it would be read in local time,
   * and so is a day the calendar lacks, such as `2026-02-29`, or epoch ms past a `Date`'s range).
   */
  at: Date | string | number;
  /** A MongoDB target (`mongoTarget(...)`): changes are applied as upserts and deletes by `_id`. */
  target: RestoreTarget;
  /**
   * Only snapshots of this job are candidates. Without it, the snapshots marked with `stream`
   * must all be of one job: where several jobs' are, the restore is refused with
   * `ConfigurationError` on `job` naming them (as `restore()` refuses `'latest'` without
   * `backup.job`). @default the one job whose snapshots are marked with `stream`
   */
  job?: string;
  /** Use snapshots that no `verifyBackup` has passed yet. @default false (verified only) */
  allowUnverified?: boolean;
  /**
   * How long the target's restore lock runs without a renewal (ms), as `restore()`'s `lockMs`:
   * renewed every third of it while the restore writes, released when it ends; a killed
   * restore's lock runs out after it, and another restore into the target is refused until then
   * (`RestoreTargetBusyError`). An integer from 1000 to 2147483647 (2^31−1).
   * @default 60000
   * @example
   * lockMs: 5 * 60_000 // a restore that may pause for minutes (a frozen instance)
   */
  lockMs?: number;
  /**
   * What to do when the target already holds documents in a collection the replay writes:
   * see `RestoreOptions.ifTargetNotEmpty` (`'refuse'`: `RestoreTargetNotEmptyError` once the
   * stream is checked, before anything is written; `'merge'`: the changes are applied over it).
   * @default 'refuse'
   */
  ifTargetNotEmpty?: IfTargetNotEmpty;
  /**
   * Restore a collection the snapshot does not hold (not among its datasets) that streamed
   * changes after the snapshot's mark touch: it gets only the documents those changes wrote —
   * a partial state, as `restoreStream`'s `allowPartial` replays a timeline that began at a
   * break. Without it such a restore is refused with `PitrPartialError` before anything is
   * written; with it the report's `partial` and `warnings` name the collections, and a warning
   * is logged. Take the snapshot with those collections (`mongoSource`'s `collections`) for
   * their whole state.
   * @default false
   * @example
   * await pointInTimeRestore({ storage, stream: 'orders', at, target: mongoTarget({ db: scratch }), allowPartial: true });
   */
  allowPartial?: boolean;
}

/** What a point-in-time restore did. */
export interface PointInTimeReport {
  snapshot: RestoreReport;
  /** The target time (ISO). */
  at: string;
  timeline: number;
  /** Streamed changes applied (records up to `at`, repeats and stale records left out). */
  changes: number;
  /** Records dropped as repeats of an event id. */
  duplicates: number;
  /**
   * Stale outbox records left out: a redelivered or late event whose aggregate's later `seq`
   * was archived before the snapshot's mark, so the snapshot already holds a newer state.
   */
  stale: number;
  /** Stream objects read. */
  objects: number;
  /** Collections restored from streamed changes alone (not in the snapshot; `allowPartial`), sorted; empty when none. */
  partial: string[];
  /** What the restore found and did anyway (a `partial` collection); empty when none. */
  warnings: string[];
}

/** The largest epoch milliseconds a Date holds (either side of 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * A point in time as epoch ms: a `Date`, epoch ms, or an ISO time with its zone on a real
 * calendar day.
 * @param owner - The call, for the error (`pointInTimeRestore`, `restoreStream`).
 * @param field - The option, for the error (`at`, `until`).
 * @throws {ConfigurationError} anything else (a string without a zone, a day the calendar lacks, past a Date's range)
 */
export function toTime(value: unknown, owner = 'pointInTimeRestore', field = 'at'): number {
  // A string without a zone would be read in the machine's local time (UTC on a function, hours
  // off on a laptop): a restore to another moment than the one written. It must say its zone,
  // and name a day the calendar has.
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? zonedIsoMs(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) invalidOption(owner, field, 'a Date, an ISO time with its zone (Z or an offset, e.g. 2026-11-30T10:15:00Z) on a real calendar day, or epoch milliseconds', value);
  return ms;
}
