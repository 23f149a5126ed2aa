/**
 * The options and report of `restore()`: which backup (`BackupRef`), the target and how it is
 * written (`RestoreOptions`), and what it did (`RestoreReport`).
 */
import type { S3Target } from '../target.js';
import type { RestoreTarget } from './targets.js';
import type { RestoreNotice } from './notices.js';
import type { IfTargetNotEmpty } from './not-empty.js';

/**
 * Which backup: its id, or `'latest'` (the newest with a manifest), optionally of one job. A
 * damaged newest manifest makes `'latest'` fail (`BackupCorruptedError`, or
 * `UnsupportedFormatError` for an unknown format) rather than pick an older backup; the error
 * names the newest older backup whose manifest reads.
 */
export interface BackupRef {
  storage: S3Target;
  /** A backup id (letters, digits, `.`, `_`, `-`, starting with a letter or digit, no `..`: one folder under `backups/`; anything else is a `ConfigurationError` on `backup.id`), or `'latest'`. */
  id: string | 'latest';
  /**
   * The snapshot job (`snapshotBackup({ job })`) the backup must come from. With `'latest'`,
   * the newest backup of that job. On a prefix shared by several jobs (a MongoDB and a Redis
   * one), `'latest'` without `job` is refused with `ConfigurationError` on `backup.job` (it would
   * pick whichever job ran last); on a one-job prefix it is that job's newest. With an id, a
   * backup of another job is refused (`BackupNotFoundError`).
   * @default any job
   * @example
   * await restore({ backup: { storage, id: 'latest', job: 'orders' }, target: mongoTarget({ db }) });
   * @throws {ConfigurationError} not a non-empty string
   */
  job?: string;
}

/** Options of `restore()`. */
export interface RestoreOptions {
  backup: BackupRef;
  /** `mongoTarget(...)` or `redisTarget(...)`. */
  target: RestoreTarget;
  /**
   * Largest backup (compressed bytes, the sum of its segments) read only once: its parts are
   * kept in a temporary file (the OS temporary directory, e.g. Lambda's `/tmp`) while they are
   * checked, and written from there. A larger backup is downloaded a second time to be written,
   * each read pinned to the object that was checked (`If-Match`, `VersionId`), so a backup
   * changed in between is still refused, but possibly after some records were written
   * (`BackupChangedError` with `written: true`). `0` always reads twice; so does a restore
   * whose temporary file cannot be created or written (a full or read-only disk).
   * @default 268435456 (256 MiB)
   */
  spoolBytes?: number;
  /**
   * How long the target's restore lock runs without a renewal (ms). The lock is renewed every
   * third of it while the restore writes, and released when it ends; a killed restore's lock
   * runs out after `lockMs`, and another restore into the target is refused until then
   * (`RestoreTargetBusyError`). A renewal that fails is retried until the lock may have run
   * out; then the restore stops (`FencedError`). An integer from 1000 to 2147483647 (2^31−1).
   * @default 60000
   */
  lockMs?: number;
  /**
   * What to do when the target already holds data where the restore writes (MongoDB: a
   * restored collection holding documents; Redis: keys under `keyPrefix`, or without one, keys
   * in the database): `'refuse'` the restore before anything is written
   * (`RestoreTargetNotEmptyError`, code `RESTORE_TARGET_NOT_EMPTY`, naming each collection or
   * the prefix), or `'merge'` into it — records the backup has replace the target's (by `_id`,
   * by key), the others stay, and the report's warnings say where the target held data (like
   * `mongorestore` without `--drop`). Nothing is ever dropped. A target holding only what an
   * earlier restore that did not finish wrote (its partial-restore marker, see `restoreStatus`)
   * is not refused: restoring again completes it. A custom target without `heldData` cannot say
   * what it holds: `'refuse'` with it is a `ConfigurationError` (pass `'merge'` to restore into it).
   * @default 'refuse'
   * @example
   * await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db }), ifTargetNotEmpty: 'merge' });
   */
  ifTargetNotEmpty?: IfTargetNotEmpty;
}

/** Default `spoolBytes`: 256 MiB of compressed parts (Lambda's `/tmp` is at least 512 MB). */
export const DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;

/** What a restore did. */
export interface RestoreReport {
  backupId: string;
  datasets: Array<{ name: string; records: number }>;
  records: number;
  /** Compressed bytes read from S3: once when the backup fit the spool, twice otherwise. */
  bytes: number;
  /** Whether the data was written from the spool (one read) or read again pinned (two reads). */
  reads: 1 | 2;
  /** Time checking the backup before writing, and applying it (ms). */
  checkMs: number;
  applyMs: number;
  /**
   * What the restore did not do as asked, or found: the backup's own warnings, metadata skipped
   * (`unsupportedMetadata: 'skip'`), and a target that was not empty (`ifTargetNotEmpty: 'merge'`) — per restored MongoDB
   * collection that already held documents (estimated count), or a Redis database without
   * `keyPrefix` that held keys — whose other documents or keys the restore kept (it merges; it
   * never deletes), an earlier restore into the target that did not finish (its
   * partial-restore marker was there), and a backup within `spoolBytes` read twice because the
   * temporary file could not be made or written (no path named).
   */
  warnings: string[];
  /**
   * The same findings typed, where the target gives them (notices.ts: a stable `code`, a count,
   * where): `STREAM_PENDING_NOT_RESTORED` — pending entries of a typed stream's consumer groups
   * whose stream entry was deleted before the backup (Redis recreates none); `TARGET_VERSION_ASSUMED`
   * — the Redis target refused `INFO` and `HELLO`. Absent when there are none.
   */
  notices?: RestoreNotice[];
}
