/** Typed errors of writing a restore into its target; errors.ts re-exports them. */
import { BackupError, type BackupProblem } from './error-base.js';

/**
 * The target cannot store what the backup holds (FerretDB and NaN, Decimal128, MinKey/MaxKey,
 * nested arrays, keys with '.' or a leading '$'; TTL indexes or validators; a Redis DUMP
 * payload newer than the target's RDB version). Refused before anything is written.
 * Code `RESTORE_UNSUPPORTED`.
 */
export class RestoreUnsupportedError extends BackupError {
  override readonly name = 'RestoreUnsupportedError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = []) {
    super('RESTORE_UNSUPPORTED', message, { problems });
  }
}

/**
 * The target already has indexes that clash with the backup's (the same name with another key
 * or other options — `unique`, `sparse`, `partialFilterExpression`, `expireAfterSeconds`; the
 * same key under another name; a unique index the backup does not define). Found before
 * anything is written; `problems` name each index (`key`: collection, `message`: index and what
 * differs). Drop or rename the target's index, or restore into another collection
 * (`collectionName`). Code `RESTORE_INDEX_CONFLICT`.
 */
export class IndexConflictError extends BackupError {
  override readonly name = 'IndexConflictError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem>) {
    super('RESTORE_INDEX_CONFLICT', message, { problems });
  }
}

/**
 * A unique index of the backup could not be built on the restored collection: the target
 * already held documents (not in the backup, other `_id`s) with the same unique value as
 * restored ones. Found after the data was written (the target holds the backup's documents and
 * its own), or — the target collection already has the index — when a document it refused is
 * written again after the collection's last batch (point-in-time: after the snapshot's
 * collection, or after each batch of up to 2,000 streamed changes; not across the two) and still
 * refused, or at once when more than 1,000 documents (or 16 MiB) of a collection are refused
 * ("at least N documents"); a retry as is fails the same way. `problems` name each index (`key`: the target
 * collection, `message`: the index). Remove the clashing documents or restore into an empty
 * collection (`collectionName`, or drop it first), then restore again. Code
 * `RESTORE_INDEX_BUILD_FAILED`; not retryable.
 */
export class IndexBuildError extends BackupError {
  override readonly name = 'IndexBuildError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem>, cause?: unknown) {
    super('RESTORE_INDEX_BUILD_FAILED', message, { problems, cause });
  }
}

/** Writing to the restore target failed after verification passed. Code `RESTORE_APPLY_FAILED`. */
export class RestoreApplyError extends BackupError {
  override readonly name = 'RestoreApplyError';
  constructor(message: string, cause?: unknown) {
    super('RESTORE_APPLY_FAILED', message, { retryable: true, cause });
  }
}

/**
 * The restore target could not be reached before anything was written: a refused or dropped
 * connection, no server selected in time, a network timeout (MongoDB's `hello` in `prepare`, a
 * scratch target's emptiness check). Nothing was written; run again. The message carries the
 * driver error's class and code only (its message may carry addresses or credentials).
 * Code `RESTORE_TARGET_UNAVAILABLE`; retryable.
 */
export class RestoreTargetUnavailableError extends BackupError {
  override readonly name = 'RestoreTargetUnavailableError';
  constructor(message: string, cause?: unknown) {
    super('RESTORE_TARGET_UNAVAILABLE', message, { retryable: true, cause });
  }
}

/**
 * The restore target refused the restore before anything was written: authentication failed
 * (MongoDB `AuthenticationFailed`, Redis `WRONGPASS`/`NOAUTH`), the user lacks a permission
 * (`Unauthorized`, `NOPERM`), or the server answered a command with another error. Nothing was
 * written; a retry as is fails the same way (fix the credentials or permissions). The message
 * carries the driver error's class and code only. Code `RESTORE_TARGET_REFUSED`; not retryable.
 */
export class RestoreTargetRefusedError extends BackupError {
  override readonly name = 'RestoreTargetRefusedError';
  constructor(message: string, cause?: unknown) {
    super('RESTORE_TARGET_REFUSED', message, { cause });
  }
}

/**
 * Another restore holds the target's restore lock (the same MongoDB database; in one Redis
 * database, the same `keyPrefix` or an overlapping one — one starts with the other, `''`
 * overlaps every prefix; disjoint prefixes restore at once): this restore wrote nothing.
 * `restoreStatus` reports such a lock as `locked`. Names the backup the other restore
 * writes and until when its lock runs (it is renewed while that restore writes; a killed
 * restore's lock runs out by itself). Code `RESTORE_TARGET_BUSY`; retryable once it ends.
 */
export class RestoreTargetBusyError extends BackupError {
  override readonly name = 'RestoreTargetBusyError';
  /** The backup the restore holding the lock writes, when its lock says. */
  readonly heldFor: string | undefined;
  /** Until when the lock runs, unless renewed (epoch ms, this process's clock). */
  readonly heldUntil: number;
  constructor(message: string, heldFor: string | undefined, heldUntil: number) {
    super('RESTORE_TARGET_BUSY', message, { retryable: true });
    this.heldFor = heldFor;
    this.heldUntil = heldUntil;
  }
}

/**
 * The restore target already holds data where the restore would write — documents in a
 * collection it restores, keys under its `keyPrefix` (or, without one, in its database) — and
 * the restore was not told to merge (`ifTargetNotEmpty: 'merge'`): nothing was written.
 * `problems` name each collection (with its estimated document count) or the key prefix;
 * `field` is the option that allows it. Not refused: a target holding only what an earlier
 * restore of the same backup that did not finish wrote (its partial-restore marker is there;
 * another backup's is `RestoreTargetPartialError`). Code
 * `RESTORE_TARGET_NOT_EMPTY`; not retryable as is.
 */
export class RestoreTargetNotEmptyError extends BackupError {
  override readonly name = 'RestoreTargetNotEmptyError';
  /** The option that lets a restore merge into a non-empty target. */
  readonly field = 'ifTargetNotEmpty';
  constructor(message: string, problems: ReadonlyArray<BackupProblem>) {
    super('RESTORE_TARGET_NOT_EMPTY', message, { problems });
  }
}

/**
 * The restore target holds what an earlier restore of **another** backup (or stream) wrote and
 * did not finish — its partial-restore marker names a different backup id or manifest checksum
 * (`partial`) — and the restore was not told to merge (`ifTargetNotEmpty: 'merge'`): writing
 * this backup over it would leave a mix of the two. Nothing was written. Clear the target (empty
 * what the earlier restore wrote and remove its marker: MongoDB, drop the collection
 * `steadyfn_restore_marker`; Redis, delete the key `steadyfn:restore-marker:<keyPrefix>`),
 * restore that earlier backup again to complete it, or pass `ifTargetNotEmpty: 'merge'`.
 * `field` is the option that allows it. Code `RESTORE_TARGET_PARTIAL`; not retryable as is.
 */
export class RestoreTargetPartialError extends BackupError {
  override readonly name = 'RestoreTargetPartialError';
  /** The option that lets a restore merge into a target holding another restore's partial data. */
  readonly field = 'ifTargetNotEmpty';
  /** The unfinished restore's marker: its backup id (or `stream <name>`), manifest checksum when it has one, and start time. */
  readonly partial: { backupId: string; startedAt: string; manifestSha256?: string };
  constructor(message: string, partial: { backupId: string; startedAt: string; manifestSha256?: string }, problems: ReadonlyArray<BackupProblem>) {
    super('RESTORE_TARGET_PARTIAL', message, { problems });
    this.partial = partial;
  }
}
