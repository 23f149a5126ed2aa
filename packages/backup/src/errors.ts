/**
 * Typed errors of `@steadyfn/backup`. Every failure a caller can act on has its own stable
 * `code`; messages name the backup, object or option at fault but never a document, a key's
 * value or a secret. Option mistakes are the handler's `ConfigurationError` (`CONFIG_INVALID`).
 */
// From the internal entry: the root entry would load every provider adapter.
import { SteadyError, errorFacts } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '@steadyfn/lease';
import { statusOf } from './s3/client.js';
import { summary } from './error-summary.js';

export { ConfigurationError } from '@steadyfn/handler/internal';

/** Where a backup problem was found: an S3 key, with the part number or line when known. */
export interface BackupProblem {
  /** S3 key of the object at fault (the manifest, a segment, a stream object, an index). */
  key: string;
  /** What is wrong, in words (never the data). */
  message: string;
  /** Part number inside a segment, when the problem is one part. */
  part?: number;
}

/** Base class: a backup problem with the list of objects at fault. */
export class BackupError extends SteadyError {
  override readonly name: string = 'BackupError';
  /** Each object at fault. */
  readonly problems: ReadonlyArray<BackupProblem>;
  constructor(code: string, message: string, options: { retryable?: boolean; problems?: ReadonlyArray<BackupProblem>; cause?: unknown } = {}) {
    const problems = options.problems ?? [];
    super(code, summary(message, problems), {
      status: options.retryable ? 503 : 500,
      retryable: options.retryable ?? false,
      expose: false,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.problems = problems;
  }
}

/** No manifest at the given backup id or key: the backup does not exist (or was never committed). Code `BACKUP_NOT_FOUND`. */
export class BackupNotFoundError extends BackupError {
  override readonly name = 'BackupNotFoundError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_NOT_FOUND', message, { problems });
  }
}

/** A checksum, size, count or content hash does not match the manifest; or the manifest's own self-checksum fails. Code `BACKUP_CORRUPTED`. */
export class BackupCorruptedError extends BackupError {
  override readonly name = 'BackupCorruptedError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_CORRUPTED', message, { problems });
  }
}

/** An object the manifest or index lists is missing. Code `BACKUP_INCOMPLETE`. */
export class BackupIncompleteError extends BackupError {
  override readonly name = 'BackupIncompleteError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_INCOMPLETE', message, { problems });
  }
}

/** The manifest's `formatVersion` (or a stream object's) is one this version cannot read. Code `BACKUP_FORMAT_UNSUPPORTED`. */
export class UnsupportedFormatError extends BackupError {
  override readonly name = 'UnsupportedFormatError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_FORMAT_UNSUPPORTED', message, { problems });
  }
}

/**
 * The streamed changes have a gap (a trimmed Redis stream, a `seq` gap, SQS retention passed,
 * a missing object in the chain): a restore or point-in-time target across it is refused.
 * Code `BACKUP_TIMELINE_GAP`.
 */
export class TimelineGapError extends BackupError {
  override readonly name = 'TimelineGapError';
  /**
   * Why the timeline broke, as the sink recorded it (e.g. a trimmed Redis stream, an outbox `seq`
   * gap); absent when the stream has no such timeline. It can name an aggregate id, so it is kept
   * out of the message and problems (which get logged).
   */
  readonly reason?: string;
  constructor(message: string, problems: ReadonlyArray<BackupProblem> = [], details: { reason?: string } = {}) {
    super('BACKUP_TIMELINE_GAP', message, { problems });
    if (details.reason !== undefined) this.reason = details.reason;
  }
}

/**
 * `restoreStream` of a timeline that began at a break (any timeline after the first): it holds
 * only the changes since the break, so its replay alone would leave out every document no
 * change since touched — a partial state. Refused before anything is written; restore with
 * `pointInTimeRestore` from a snapshot taken after the break, or pass `allowPartial: true` to
 * `restoreStream` to replay the timeline anyway. Code `BACKUP_TIMELINE_PARTIAL`.
 */
export class TimelinePartialError extends BackupError {
  override readonly name = 'TimelinePartialError';
  /** The timeline asked for (began at a break). */
  readonly timeline: number;
  /** When the previous timeline broke (ISO): the replay holds no change from before it. */
  readonly brokenAt: string;
  /**
   * Why it broke, as the sink recorded it (e.g. a trimmed Redis stream, an outbox `seq` gap). It can
   * name an aggregate id, so it is kept out of the message and problems (which get logged).
   */
  readonly reason: string;
  constructor(message: string, details: { timeline: number; brokenAt: string; reason: string }, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_TIMELINE_PARTIAL', message, { problems });
    this.timeline = details.timeline;
    this.brokenAt = details.brokenAt;
    this.reason = details.reason;
  }
}

/** A point-in-time target that no verified snapshot plus streamed changes can reach (before the first snapshot, after the last streamed object). Code `PITR_TARGET_OUT_OF_RANGE`. */
export class PitrTargetError extends BackupError {
  override readonly name = 'PitrTargetError';
  constructor(message: string) {
    super('PITR_TARGET_OUT_OF_RANGE', message);
  }
}

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

/** Another runner holds the backup job's lease. Retryable: the next tick (or the lease's expiry) lets one through. Code `BACKUP_LEASE_HELD`. */
export class LeaseHeldError extends BackupError {
  override readonly name = 'LeaseHeldError';
  constructor(message: string) {
    super('BACKUP_LEASE_HELD', message, { retryable: true });
  }
}

/** This runner lost its lease or its checkpoint was replaced by another runner (fencing): it stops without committing. Code `BACKUP_FENCED`. */
export class FencedError extends BackupError {
  override readonly name = 'FencedError';
  constructor(message: string) {
    super('BACKUP_FENCED', message, { retryable: true });
  }
}

/** An S3 call failed in a way a later invocation may not repeat (throttling, a 5xx, a network error). The upload was aborted or checkpointed. Code `BACKUP_STORAGE_FAILED`. */
export class StorageError extends BackupError {
  override readonly name = 'StorageError';
  constructor(message: string, cause?: unknown) {
    super('BACKUP_STORAGE_FAILED', message, { retryable: true, cause });
  }
}

/** Reading the source database failed. Code `BACKUP_SOURCE_FAILED`. */
export class SourceReadError extends BackupError {
  override readonly name = 'SourceReadError';
  constructor(message: string, cause?: unknown) {
    super('BACKUP_SOURCE_FAILED', message, { retryable: true, cause });
  }
}

/**
 * The source refused the job's credentials: authentication failed (MongoDB `AuthenticationFailed`,
 * Redis `WRONGPASS`/`NOAUTH`) or the user lacks a permission (MongoDB `Unauthorized`, Redis
 * `NOPERM`). A retry as is fails the same way, so a scheduled job is not retried: fix the
 * credentials or permissions. Nothing was written past what the run had checkpointed. The
 * message carries the driver error's class and code only (never the user name or address).
 * Code `BACKUP_SOURCE_REFUSED`; not retryable.
 */
export class SourceRefusedError extends BackupError {
  override readonly name = 'SourceRefusedError';
  constructor(message: string, cause?: unknown) {
    super('BACKUP_SOURCE_REFUSED', message, { cause });
  }
}

/**
 * A record of a stream source is not what the source promises (an `envelopeField` or SQS body
 * that is not an outbox envelope: not JSON, a missing or mistyped field, an `occurredAt` that is
 * not an ISO time with its zone (`Z` or an offset: one without would be read in local time), a `change.after` that is not Extended JSON). Nothing of its batch was archived
 * and the checkpoint did not move; `problems` gives its position (never its content). Code
 * `BACKUP_SOURCE_RECORD_INVALID`; not retryable as is: remove or fix the record, or archive the
 * source without envelopes.
 */
export class SourceRecordInvalidError extends BackupError {
  override readonly name = 'SourceRecordInvalidError';
  constructor(message: string, problems: BackupProblem[] = []) {
    super('BACKUP_SOURCE_RECORD_INVALID', message, { problems });
  }
}

/**
 * The source is no longer the one the backup began reading (a Redis master restarted, failed
 * over or resharded between two invocations of a snapshot): a resume would miss keys, so the
 * unfinished backup is abandoned (its upload aborted, its checkpoint removed) and the next
 * invocation starts a new one. Code `BACKUP_SOURCE_CHANGED`; not retryable as is.
 */
export class SourceChangedError extends BackupError {
  override readonly name = 'SourceChangedError';
  constructor(message: string) {
    super('BACKUP_SOURCE_CHANGED', message);
  }
}

/**
 * A backup object changed (replaced or deleted) after the restore verified it: the bytes the
 * restore would write are no longer the ones it checked. Detected by the read pinned to what
 * was verified (`If-Match` with the verified ETag, `VersionId` in a versioned bucket, and the
 * SHA-256 of every part). `written` says whether the target was touched: `false` when the
 * change was seen before the first write (always, when the backup fit the restore's spool);
 * `true` when a re-read (a backup larger than `spoolBytes`) met it part way — every record
 * written is a whole record of the verified backup, none of the changed part was written, and
 * the target holds part of the backup: restore again (idempotent) from an intact backup.
 * Code `BACKUP_CHANGED`; not retryable as is (the backup itself changed).
 */
export class BackupChangedError extends BackupError {
  override readonly name = 'BackupChangedError';
  /** Whether any record was written to the target before the change was seen. */
  readonly written: boolean;
  constructor(message: string, problems: ReadonlyArray<BackupProblem>, written: boolean) {
    super('BACKUP_CHANGED', message, { problems });
    this.written = written;
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

/** Where retention pruned a stream: every object of a timeline before `timeline`, and of `timeline` up to object `seq`. */
export interface PrunedThrough {
  timeline: number;
  seq: number;
  /** ISO time of the retention run that pruned this far. */
  prunedAt: string;
}

/**
 * A stream restore reached objects that retention deleted on purpose: no kept snapshot needed
 * them. `range` is the part of the stream asked for that is gone (a timeline and its object
 * numbers), `prunedThrough` how far retention pruned. Restore from a kept snapshot
 * (`pointInTimeRestore`) or a later timeline instead. Code `BACKUP_STREAM_PRUNED`; not retryable.
 */
export class StreamPrunedError extends BackupError {
  override readonly name = 'StreamPrunedError';
  /** The pruned objects the restore needed: their timeline and first and last object numbers. */
  readonly range: { timeline: number; firstSeq: number; lastSeq: number };
  readonly prunedThrough: PrunedThrough;
  constructor(message: string, range: StreamPrunedError['range'], prunedThrough: PrunedThrough, problems: ReadonlyArray<BackupProblem> = []) {
    super('BACKUP_STREAM_PRUNED', message, { problems });
    this.range = range;
    this.prunedThrough = prunedThrough;
  }
}

/** `verifyBackup` found a problem (checksums, counts, content hashes, a drill mismatch). Fails the invocation so the provider's alarm fires. Code `BACKUP_VERIFY_FAILED`. */
export class VerificationFailedError extends BackupError {
  override readonly name = 'VerificationFailedError';
  /** The report that was written (or would have been), with every check. */
  readonly report: unknown;
  /** @param cause the error that stopped verification before any check ran (e.g. `BackupCorruptedError` for a damaged manifest), if one did */
  constructor(message: string, problems: ReadonlyArray<BackupProblem>, report: unknown, cause?: unknown) {
    super('BACKUP_VERIFY_FAILED', message, { problems, ...(cause === undefined ? {} : { cause }) });
    this.report = report;
  }
}

/** Retention could not delete an object (permissions, a 5xx): nothing after it was deleted. Code `RETENTION_DELETE_FAILED`. */
export class RetentionDeleteError extends BackupError {
  override readonly name = 'RetentionDeleteError';
  constructor(message: string, problems: ReadonlyArray<BackupProblem>, cause?: unknown) {
    super('RETENTION_DELETE_FAILED', message, { retryable: true, problems, cause });
  }
}

/** A short, payload-free description of a driver or SDK error for logs: class, code and HTTP status, never the message. */
export function describeError(error: unknown): string {
  if (error instanceof SteadyError) return `${error.name} ${error.code}`;
  const facts = errorFacts(error);
  const status = statusOf(error);
  return [facts.cause, facts.causeCode === undefined ? '' : String(facts.causeCode), status === undefined ? '' : `HTTP ${String(status)}`].filter(Boolean).join(' ');
}

/**
 * Runs a public call; an AWS SDK error (it carries `$metadata`) that escaped as is becomes a
 * `StorageError` (class and HTTP status only: the SDK's message may carry request details).
 * Typed errors, other errors and a call the signal ended pass unchanged.
 */
export async function withStorageErrors<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw signal?.aborted ? error : storageErrorOf(error, what);
  }
}

/** `error` as a `StorageError` when it is an AWS SDK error (see `withStorageErrors`), else unchanged. */
export function storageErrorOf(error: unknown, what: string): unknown {
  if (error instanceof SteadyError || error === null || typeof error !== 'object' || !('$metadata' in error)) return error;
  return new StorageError(`${what} failed (${describeError(error)})`, error);
}

/** MongoDB codes of a refusal a retry does not change: Unauthorized, AuthenticationFailed. */
const MONGO_REFUSED_CODES = new Set([13, 18]);
/**
 * MongoDB server codes that pass (the driver's retryable set: host unreachable or not found,
 * network timeout, shutdown, step-down, not primary, time limit, socket exception).
 */
const MONGO_TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
/** Redis reply prefixes of the same: a bad password or user, no AUTH given, an ACL denial. */
const REDIS_REFUSED = /^(?:WRONGPASS|NOAUTH|NOPERM)\b/;

/**
 * The code of an authentication or permission refusal a retry does not change (MongoDB code 13
 * or 18; the first word of a Redis `WRONGPASS`/`NOAUTH`/`NOPERM` reply), else undefined.
 */
function credentialRefusal(error: unknown): string | undefined {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof e.code === 'number' && MONGO_REFUSED_CODES.has(e.code)) return String(e.code);
  return typeof e.message === 'string' ? REDIS_REFUSED.exec(e.message)?.[0] : undefined;
}

/**
 * A failure reading a source as a typed error: an authentication or permission refusal is a
 * terminal `SourceRefusedError`, anything else a retryable `SourceReadError` (class and code only).
 */
export function sourceErrorOf(error: unknown, what: string): SourceReadError | SourceRefusedError {
  const described = describeError(error) || 'an error';
  const refusal = credentialRefusal(error);
  if (refusal === undefined) return new SourceReadError(`${what} failed (${described})`, error);
  // Redis reply errors have no code: the reply's first word is its code, never the rest.
  const facts = described.includes(refusal) ? described : `${described} ${refusal}`;
  return new SourceRefusedError(`${what} failed: the source refused the credentials (${facts}); fix them or the user's permissions`, error);
}

/**
 * A driver error met before the target was written to, as a typed error: an answer the server
 * gave on purpose (authentication, permissions, another command error) is a
 * `RestoreTargetRefusedError`; anything else (refused connection, no server selected, a
 * timeout, a closed connection) a `RestoreTargetUnavailableError`. Typed errors pass unchanged.
 */
export function targetErrorOf(error: unknown, what: string): unknown {
  // The restore lock is a lease in the target (@steadyfn/lease): an unreachable target reaches us
  // as the lease store's LEASE_STORE_UNAVAILABLE, which backup does not export. It is the target's
  // unavailability (what MongoDB gives), its driver error kept as the cause for logs.
  if (error instanceof LeaseStoreUnavailableError) {
    const inner = error.cause ?? error;
    return new RestoreTargetUnavailableError(`${what}: the target could not be reached (${describeError(inner) || 'an error'}); nothing was written`, inner);
  }
  if (error instanceof SteadyError) return error;
  const e = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown; hasErrorLabel?: (label: string) => boolean };
  const label = (name: string): boolean => typeof e.hasErrorLabel === 'function' && e.hasErrorLabel(name);
  // A credential refusal (the same test as a source's), or any other answer the server gave on purpose.
  const refused =
    credentialRefusal(error) !== undefined ||
    (e.name === 'MongoServerError' && !label('RetryableWriteError') && !label('ResetPool') && !(typeof e.code === 'number' && MONGO_TRANSIENT_CODES.has(e.code))) ||
    (e.name === 'ReplyError' && typeof e.message === 'string' && !/^(?:LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/.test(e.message));
  const described = describeError(error) || 'an error';
  // Redis reply errors have no code: the reply's first word (e.g. WRONGPASS) is its code, never the rest.
  const replyCode = e.name === 'ReplyError' && typeof e.message === 'string' ? /^[A-Z]+\b/.exec(e.message)?.[0] : undefined;
  const facts = replyCode ? `${described} ${replyCode}` : described;
  return refused
    ? new RestoreTargetRefusedError(`${what}: the target refused it (${facts}); nothing was written`, error)
    : new RestoreTargetUnavailableError(`${what}: the target could not be reached (${facts}); nothing was written`, error);
}

/** Driver errors of a target that could not be reached (MongoDB: no connection, no server selected, a network timeout, a closed client). */
const UNREACHABLE_NAMES = /^Mongo(?:Network|NetworkTimeout|ServerSelection|TopologyClosed|PoolClosed)Error$/;

/**
 * Whether a restore failed because its target could not be reached: a
 * `RestoreTargetUnavailableError`, or a typed error (e.g. `RestoreApplyError`) whose cause is a
 * MongoDB driver error of no connection, no server selected, a network timeout or a closed
 * client. Any other error (a refusal, a server's answer, a Redis error) is false.
 */
export function targetUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RestoreTargetUnavailableError) return true;
    if (!(e instanceof SteadyError)) return typeof (e as { name?: unknown }).name === 'string' && UNREACHABLE_NAMES.test((e as { name: string }).name);
  }
  return false;
}

/** Runs target work that comes before any write; driver errors become `targetErrorOf`'s typed errors (a call the signal ended passes unchanged). */
export async function beforeWriting<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw signal?.aborted ? error : targetErrorOf(error, what);
  }
}
