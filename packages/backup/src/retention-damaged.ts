/**
 * Stored objects a retention run met damaged — not JSON, not the shape this version writes, or
 * of a format version it cannot read — and what it left alone because of them. Such an object
 * is outside bytes (anyone with access to the bucket can change it) and stays damaged until
 * someone repairs or removes it: one of them must not stop every later run, nor be taken for
 * an absent one (which would make what it lists look unlisted). The run reports it
 * (`RetentionReport.damaged`, and a warning in the log with the key and the code) and goes on
 * with everything that does not depend on it.
 */
import { BackupCorruptedError, UnsupportedFormatError, type BackupError } from './errors.js';
import type { S3Location } from './s3/client.js';

/**
 * A damaged object a retention run left alone, with what depends on it: a stream's hourly
 * index below every kept snapshot's mark (`DamagedHourIndex`), the checkpoint of the
 * retention's `stream` (`DamagedStreamCheckpoint`), that stream's pruned record
 * (`DamagedStreamPrunedRecord`), or a backup's verification record
 * (`DamagedVerificationRecord`). See the README.
 */
export type DamagedObject = DamagedHourIndex | DamagedStreamCheckpoint | DamagedStreamPrunedRecord | DamagedVerificationRecord;

/** What every damaged object's entry says. */
interface DamagedBase {
  /** Its key, relative to `storage.prefix` (e.g. `streams/orders/checkpoint.json`). */
  key: string;
  /** The code of the typed error reading it gave: `BACKUP_CORRUPTED` (not JSON, another shape) or `BACKUP_FORMAT_UNSUPPORTED` (another `formatVersion`). */
  code: 'BACKUP_CORRUPTED' | 'BACKUP_FORMAT_UNSUPPORTED';
  /** What was expected of it. */
  expected: string;
  /** What is wrong with it (the first problem found: `not JSON`, a field and what it should be, `unknown format version`), never its content. */
  problem: string;
}

/** What the entry of a damaged stream object says besides. */
interface DamagedStreamBase extends DamagedBase {
  /** The stream it belongs to. */
  stream: string;
}

/**
 * A stream's hourly index below every kept snapshot's mark (the prune's): its hour's objects
 * are not deleted — which objects it lists is unknown — nor swept as orphans (the sweep leaves
 * an hour whose index cannot be read alone too), and a restore that needs the hour fails with
 * the same typed error.
 */
export interface DamagedHourIndex extends DamagedStreamBase {
  /** What it should be. */
  what: 'hourly index';
  /** The timeline and hour (ISO 8601) the index is of, and the object numbers its stream's checkpoint files under that hour. */
  timeline: number;
  hour: string;
  firstSeq: number;
  lastSeq: number;
  /** What the run did not do because of it. */
  leftAlone: 'prune of the hour';
}

/**
 * The checkpoint of retention's `stream` (`streams/<name>/checkpoint.json`): where the stream
 * stands and which hours hold its objects are unknown, so nothing of the stream is pruned
 * (backups are still kept and deleted by the policy), the stream sweep leaves it alone
 * (`checkpoint unreadable`), and the stream's sink and restores fail with the same typed error.
 */
export interface DamagedStreamCheckpoint extends DamagedStreamBase {
  /** What it should be. */
  what: 'stream checkpoint';
  /** What the run did not do because of it. */
  leftAlone: 'prune of the stream';
}

/**
 * The pruned record of retention's `stream` (`streams/<name>/pruned.json`: how far retention
 * pruned it, which restores read to say a missing range was pruned, not lost). Met only when
 * the prune has hours to delete: none is deleted (nothing deleted without a readable record to
 * say so), the record is not written over (what it said is unknown: a new one could say less
 * than was pruned), and backups are still kept and deleted by the policy. A restore that meets
 * a pruned hour of the stream fails with the same typed error.
 */
export interface DamagedStreamPrunedRecord extends DamagedStreamBase {
  /** What it should be. */
  what: 'stream pruned record';
  /** What the run did not do because of it. */
  leftAlone: 'prune of the stream';
}

/**
 * A backup's verification record (`backups/<id>/verification.json`) that cannot be read: whether
 * the backup was verified is unknown, so it is **held** — never deleted (by the policy: it may
 * be a verified backup `keepMs` or `keepLast` would keep), never taken as the newest verified
 * backup or a point-in-time base (it may not be verified), and not counted when the policy
 * draws the line of what it deletes (every other backup is kept or deleted as it would be
 * without it). Its start mark on the stream holds the stream's prune, as a kept backup's does.
 * `verifyBackup` of it (`full` or `drill`) writes a good record again.
 */
export interface DamagedVerificationRecord extends DamagedBase {
  /** What it should be. */
  what: 'verification record';
  /** The backup it belongs to. */
  backupId: string;
  /** What the run did not do because of it. */
  leftAlone: 'backup held';
}

/** Whether `error` says the object was read and is damaged (not a failed or aborted read: those still stop the run). */
export function isDamage(error: unknown): error is BackupCorruptedError | UnsupportedFormatError {
  return error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError;
}

/** The report entry of a damaged hourly index of `stream` that the prune met (`fullKey` under the bucket). */
export function damagedHourIndex(loc: S3Location, stream: string, fullKey: string, hour: { timeline: number; hour: number; firstSeq: number; lastSeq: number }, error: BackupError): DamagedHourIndex {
  return {
    ...streamBase(loc, stream, fullKey, error, 'a JSON hourly index of format version 1 listing the objects of its hour (name, timeline, hour, objects)'),
    what: 'hourly index',
    timeline: hour.timeline,
    hour: new Date(hour.hour).toISOString(),
    firstSeq: hour.firstSeq,
    lastSeq: hour.lastSeq,
    leftAlone: 'prune of the hour',
  };
}

/** The report entry of the damaged checkpoint of retention's `stream` (`fullKey` under the bucket). */
export function damagedStreamCheckpoint(loc: S3Location, stream: string, fullKey: string, error: BackupError): DamagedStreamCheckpoint {
  return {
    ...streamBase(loc, stream, fullKey, error, 'a JSON stream checkpoint of format version 1 (name, position, timelines, the hours holding objects), matching its self-checksum, its members consistent'),
    what: 'stream checkpoint',
    leftAlone: 'prune of the stream',
  };
}

/** The report entry of the damaged pruned record of retention's `stream` (`fullKey` under the bucket). */
export function damagedStreamPrunedRecord(loc: S3Location, stream: string, fullKey: string, error: BackupError): DamagedStreamPrunedRecord {
  return {
    ...streamBase(loc, stream, fullKey, error, 'a JSON stream pruned record of format version 1 (name, timeline, seq, prunedAt)'),
    what: 'stream pruned record',
    leftAlone: 'prune of the stream',
  };
}

/** The report entry of the damaged verification record of backup `backupId` (`fullKey` under the bucket). */
export function damagedVerificationRecord(loc: S3Location, backupId: string, fullKey: string, error: BackupError): DamagedVerificationRecord {
  return {
    ...base(loc, fullKey, error, 'a JSON verification record (backupId, level, ok, at, problems)'),
    what: 'verification record',
    backupId,
    leftAlone: 'backup held',
  };
}

/** Adds `entry` to `damaged` unless an entry of its key is there already (a run can read an object twice). */
export function noteDamaged(damaged: DamagedObject[], entry: DamagedObject): void {
  if (!damaged.some((d) => d.key === entry.key)) damaged.push(entry);
}

function base(loc: S3Location, fullKey: string, error: BackupError, expected: string): DamagedBase {
  const top = loc.prefix === '' ? '' : `${loc.prefix}/`;
  return {
    key: fullKey.startsWith(top) ? fullKey.slice(top.length) : fullKey,
    code: error instanceof UnsupportedFormatError ? 'BACKUP_FORMAT_UNSUPPORTED' : 'BACKUP_CORRUPTED',
    expected,
    problem: error.problems[0]?.message ?? error.code,
  };
}

function streamBase(loc: S3Location, stream: string, fullKey: string, error: BackupError, expected: string): DamagedStreamBase {
  return { ...base(loc, fullKey, error, expected), stream };
}
