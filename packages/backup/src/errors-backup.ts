/** Typed errors of backups in S3 (missing, damaged, changed, pruned), leases, storage, verification and retention; errors.ts re-exports them. */
import { BackupError, type BackupProblem } from './error-base.js';
import { isRetryableStorageFailure, s3ErrorFacts } from './s3/retryable.js';

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
 * `pointInTimeRestore` whose streamed changes after the snapshot's mark touch a collection the
 * snapshot does not hold: the replay would restore only the documents those changes touched —
 * a partial state. Refused before anything is written; take a snapshot that holds the
 * collections, or pass `allowPartial: true`. Code `PITR_PARTIAL`.
 */
export class PitrPartialError extends BackupError {
  override readonly name = 'PitrPartialError';
  /** The collections (namespaces of the streamed changes) the snapshot does not hold, sorted. */
  readonly collections: string[];
  constructor(message: string, collections: string[]) {
    super('PITR_PARTIAL', message, { problems: collections.slice(0, 20).map((name) => ({ key: name, message: 'not in the snapshot' })) });
    this.collections = collections;
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

/**
 * An S3 call failed. Code `BACKUP_STORAGE_FAILED`. `retryable` follows the cause, as the AWS
 * SDK's own retry strategy reads it (s3/retryable.ts): `true` for throttling (`SlowDown`, 429),
 * a 5xx, a timeout or a network error (a later invocation may not meet it again; the SDK's own
 * attempts are spent), and for a typed cause that is retryable; `false` for an answer a retry
 * as is gets again — S3 refused the request (`AccessDenied`, `NoSuchBucket`,
 * `InvalidAccessKeyId`, `SignatureDoesNotMatch`, any other 4xx) or gave one we could not use —
 * so a queue or scheduler does not redeliver the job forever: fix the bucket, its permissions
 * or the credentials. Without a cause (a contention the thrower met) it is retryable.
 * `s3Error` and `httpStatus` name the SDK error; `bucket` the bucket, when the thrower knew it.
 * The message carries the SDK error's name and status only, never its message or credentials.
 */
export class StorageError extends BackupError {
  override readonly name = 'StorageError';
  /** The bucket the failed call addressed, when the thrower knew it. */
  readonly bucket?: string;
  /** S3's error code (the SDK error's `name`: `AccessDenied`, `NoSuchBucket`, `SlowDown`…), when the cause is an AWS SDK error. */
  readonly s3Error?: string;
  /** The HTTP status S3 answered, when the cause is an AWS SDK error that has one. */
  readonly httpStatus?: number;
  /**
   * @param cause the failure (an AWS SDK error, a network error, a typed error): it decides `retryable`
   * @param details `bucket`: the bucket the call addressed (kept in `bucket`; the message should name it)
   */
  constructor(message: string, cause?: unknown, details: { bucket?: string } = {}) {
    super('BACKUP_STORAGE_FAILED', message, { retryable: isRetryableStorageFailure(cause), cause });
    const facts = s3ErrorFacts(cause);
    if (details.bucket !== undefined) this.bucket = details.bucket;
    if (facts) {
      this.s3Error = facts.name;
      if (facts.status !== undefined) this.httpStatus = facts.status;
    }
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
