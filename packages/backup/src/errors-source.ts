/** Typed errors of reading a backup's source (MongoDB, Redis, a stream source); errors.ts re-exports them. */
import { BackupError, type BackupProblem } from './error-base.js';

/**
 * Reading the source database failed. Code `BACKUP_SOURCE_FAILED`, or
 * `BACKUP_SOURCE_COPY_LOST`: the point-in-time copy a big Redis list or string was read from
 * was gone between two chunks (evicted, deleted); the next run resumes and writes the key again
 * from its first chunk. Retryable.
 */
export class SourceReadError extends BackupError {
  override readonly name = 'SourceReadError';
  constructor(message: string, cause?: unknown, code: 'BACKUP_SOURCE_FAILED' | 'BACKUP_SOURCE_COPY_LOST' = 'BACKUP_SOURCE_FAILED') {
    super(code, message, { retryable: true, cause });
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
