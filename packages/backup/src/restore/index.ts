/**
 * `restore()`: a snapshot backup back into a database, after checking all of it. Nothing is
 * written to the target until every checksum, count and content hash matches the manifest and
 * every record is one the target can store. The backup is read once: the checked parts are
 * spooled and written from the spool (up to `spoolBytes`); a larger backup is read a second
 * time, pinned to the objects that were checked.
 */
import { checkKnownKeys, intOption, invalidOption, keysOf, stringOption } from '@steadyfn/handler/internal';
import { BackupChangedError, BackupNotFoundError, RestoreApplyError, RestoreUnsupportedError, beforeWriting, describeError, storageErrorOf, withStorageErrors } from '../errors.js';
import { SteadyError } from '@steadyfn/handler/internal';
import { logOf, type RunContext } from '../context.js';
import type { Manifest, ManifestDataset } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import type { S3Location } from '../s3/client.js';
import { toLocation, type S3Target } from '../target.js';
import { checkData, datasetLines } from './check-data.js';
import { checkPartBody, checkPinsHold, fetchPart, latestManifest, loadManifest, type PartReader } from './load.js';
import { PartSpool } from './spool.js';
import type { RestoreIdentity, RestoreTarget } from './targets.js';
import type { RestoreNotice } from './notices.js';
import { lockMsOption, withRestoreLock, type TargetLock } from './lock.js';
import { ifTargetNotEmptyOption, refuseNotEmptyNowAndLocked, type IfTargetNotEmpty } from './not-empty.js';

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

/** Which restore a `restore()` of `manifest` is, as its partial-restore marker names it: the backup id, the manifest's self-checksum, kind `'snapshot'`. */
export function restoreIdentity(manifest: Manifest): RestoreIdentity {
  return { backupId: manifest.backupId, manifestSha256: manifest.selfChecksum.value, kind: 'snapshot' };
}

/** Resolves the storage location (probed) and the backup id; `beforeRead` runs once the options are valid and the storage probed, before the manifest is read. */
export async function openBackup(owner: string, ref: BackupRef, signal?: AbortSignal, beforeRead?: () => Promise<void>): Promise<{ loc: S3Location; manifest: Manifest }> {
  if (ref === null || typeof ref !== 'object') invalidOption(owner, 'backup', 'an object { storage, id }', ref);
  checkKnownKeys(owner, 'backup', ref, keysOf<BackupRef>({ storage: true, id: true, job: true }));
  // A restore only reads (a Multi-Region Access Point is taken); a verification records a verdict (refused).
  const given = toLocation(owner, ref.storage, 'backup.storage', owner === 'verifyBackup' ? 'verdict' : 'read');
  // An id names one folder under backups/: one that could name another ('../x', 'a/b') is refused.
  if (typeof ref.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref.id) || ref.id.includes('..')) invalidOption(owner, 'backup.id', "a backup id (letters, digits, '.', '_', '-'; no '..' or '/') or 'latest'", ref.id);
  const job = ref.job === undefined ? undefined : stringOption(owner, 'backup.job', ref.job);
  const { client } = await probeS3(given, signal);
  await beforeRead?.();
  const loc = { ...given, client };
  const where = `s3://${loc.bucket}/${loc.prefix}`;
  if (ref.id === 'latest') {
    const found = await latestManifest(loc, job, signal);
    if (found === undefined) throw new BackupNotFoundError(`no committed backup${job === undefined ? '' : ` of job "${job}"`} under ${where}`);
    return { loc, manifest: found };
  }
  const manifest = await loadManifest(loc, ref.id, signal);
  if (job !== undefined && manifest.job !== job) {
    throw new BackupNotFoundError(`backup ${ref.id} is of job "${manifest.job}", not "${job}"`, [{ key: ref.id, message: `job "${manifest.job}"` }]);
  }
  return { loc, manifest };
}

/**
 * Refuses a MongoDB backup for a Redis target and the reverse (the targets' `prepare` checks it
 * too; here it comes before the non-empty check, whose refusal would hide it).
 *
 * @throws {RestoreUnsupportedError} the backup's source kind is not the target's
 */
export function refuseOtherKind(manifest: Manifest, target: RestoreTarget): void {
  if (manifest.source.kind === target.kind) return;
  const name = { mongodb: 'MongoDB', redis: 'Redis' }[target.kind] ?? String(target.kind);
  throw new RestoreUnsupportedError(`backup ${manifest.backupId} is a ${manifest.source.kind} backup; this target is ${name}; nothing was written`);
}

/** The warning when the spool cannot be used: no path (the temporary directory may name a user). */
const NO_SPOOL =
  "the restore's temporary file (in the OS temporary directory) could not be created or written, so the backup was read twice (reads: 2), each read pinned to the checked objects; make the temporary directory writable with room for the backup (spoolBytes) to read it once";

/**
 * Checks the whole backup against the target, then writes it. Shared by `restore`, drills and
 * point-in-time restore.
 *
 * @throws {BackupChangedError} a segment changed after it was checked (see `written`)
 */
export async function restoreManifest(
  loc: S3Location,
  manifest: Manifest,
  target: RestoreTarget,
  signal?: AbortSignal,
  spoolBytes = DEFAULT_SPOOL_BYTES,
  /** Checked records not to write (a point-in-time restore writes those documents in their later state); counted as restored. */
  skip?: (dataset: ManifestDataset, line: string) => boolean,
  /** The target's lock (`restore`, point-in-time restores): taken after the checks, before the first write; the caller ends it. Drills take none. */
  lock?: TargetLock,
  /** Which restore the lock's marker names (a point-in-time restore's says its stream and time). @default restoreIdentity(manifest) */
  identity: RestoreIdentity = restoreIdentity(manifest),
): Promise<RestoreReport> {
  const checkStarted = Date.now();
  // `call`: this call's state in the target, handed back to its checks and writes (another call may prepare the same target object meanwhile).
  const { warnings, call } = await beforeWriting(`restore of backup ${manifest.backupId}: preparing the target`, () => target.prepare(manifest, signal), signal);
  const size = manifest.datasets.reduce((s, d) => s + d.segments.reduce((t, g) => t + g.bytes, 0), 0);
  const spool = size <= spoolBytes ? await PartSpool.open() : undefined;
  try {
    const checked = await checkData(loc, manifest, {
      check: (dataset, line) => target.check(dataset, line, call),
      ...(spool ? { keep: (key: string, part: number, body: Buffer) => spool.put(key, part, body) } : {}),
      ...(signal ? { signal } : {}),
    });
    if (checked.unsupportedCount > 0) {
      throw new RestoreUnsupportedError(`${checked.unsupportedCount} record(s) of backup ${manifest.backupId} cannot be stored by the target; nothing was written`, checked.unsupported);
    }
    // Without a spool (too large, or the disk refused it), the data is read again: it must find the
    // objects that were checked, and a change during the check is refused here, before any write.
    const spooled = spool !== undefined && !spool.failed;
    // Meant to spool (within spoolBytes) but the disk refused: said, not silent.
    const spoolWarnings = size <= spoolBytes && !spooled ? [NO_SPOOL] : [];
    if (!spooled) await checkPinsHold(loc, manifest, checked.pins, signal);
    const read: PartReader = spooled
      ? async (segment, part) => checkPartBody(segment, part, (await spool.get(segment.key, part.number)) ?? Buffer.alloc(0))
      : (segment, part) => fetchPart(loc, segment, part, signal, checked.pins.get(segment.key));
    // The target's own checks again where no other restore can write (MongoDB: its indexes).
    const checkLocked = target.checkLocked?.bind(target);
    if (checkLocked && lock) lock.whenTaken((locked) => checkLocked(manifest, locked));
    else if (checkLocked) await beforeWriting(`restore of backup ${manifest.backupId}: checking the target`, () => checkLocked(manifest, signal), signal);
    const lockWarnings = (await lock?.take(identity, signal)) ?? [];
    const applyStarted = Date.now();
    // Writes stop before their next batch once the lock is lost, not only between records handed over.
    const writing = lock ? lock.writeSignal(signal) : signal;
    const datasets: RestoreReport['datasets'] = [];
    let given = 0;
    let skipped = 0;
    const counted = async function* (dataset: ManifestDataset, lines: AsyncIterable<string>): AsyncGenerator<string> {
      for await (const line of lines) {
        // Per record, not only per dataset (a Redis backup is one dataset): cheap, no I/O.
        lock?.checkHeld();
        given++;
        if (skip?.(dataset, line)) skipped++;
        else yield line;
      }
    };
    try {
      for (const dataset of manifest.datasets) {
        signal?.throwIfAborted();
        lock?.checkHeld();
        skipped = 0;
        const records = await target.apply(dataset, counted(dataset, datasetLines(loc, dataset, signal, read)), writing, call);
        await target.finish(dataset, writing);
        datasets.push({ name: dataset.name, records: records + skipped });
      }
      await target.finishAll?.(manifest, writing);
    } catch (error) {
      // A lost lock first: whatever failed after it, this restore no longer holds the target.
      lock?.checkHeld();
      if (error instanceof BackupChangedError && given > 0) {
        throw new BackupChangedError(
          `backup ${manifest.backupId} changed after it was verified, while it was being written: up to ${given} record(s) of the verified backup may be in the target (whole records; none of the changed part). Restore again (idempotent) from an intact backup`,
          error.problems,
          true,
        );
      }
      // A driver error the target did not type itself (a collection created, an index listed):
      // after the checks, so the target may hold part of the backup; the restore is idempotent.
      if (!(error instanceof SteadyError) && !signal?.aborted) {
        // An S3 read of the second download stays a StorageError; anything else came from the target.
        const storage = storageErrorOf(error, 'restore: reading the backup', loc.bucket);
        throw storage !== error ? storage : new RestoreApplyError(`writing backup ${manifest.backupId} to the target failed (${describeError(error)})`, error);
      }
      throw error;
    }
    const notices = target.notices?.(call) ?? [];
    return {
      backupId: manifest.backupId,
      datasets,
      records: datasets.reduce((s, d) => s + d.records, 0),
      bytes: spooled ? checked.bytes : checked.bytes * 2,
      reads: spooled ? 1 : 2,
      checkMs: applyStarted - checkStarted,
      applyMs: Date.now() - applyStarted,
      warnings: [...manifest.warnings, ...warnings, ...(target.checkWarnings?.(call) ?? []), ...lockWarnings, ...spoolWarnings],
      ...(notices.length > 0 ? { notices } : {}),
    };
  } finally {
    await spool?.close();
  }
}

/**
 * Restores a snapshot backup. Reads the manifest (self-checksum, format version), checks every
 * segment and part (sizes, SHA-256, record counts, content hashes) and every record against
 * the target, and only then applies the data idempotently (upsert by `_id`; `RESTORE …
 * REPLACE`) and creates indexes. The data written is the data checked: from the spool (one
 * read, up to `spoolBytes`), or read again pinned to the checked objects, every part's
 * SHA-256 checked again before any of its records is written.
 *
 * Before its first write it takes the target's restore lock (in the target: see `restoreStatus`)
 * and marks the target incomplete; it releases the lock when it ends and removes the mark only
 * when it completes. A restore finding an earlier restore's mark (it failed or was killed) says
 * so in `warnings` and goes on; it does not resume where that one stopped: it checks and writes
 * the whole backup again (idempotently). A target already holding data where it writes is
 * refused unless `ifTargetNotEmpty` is `'merge'` (not when that mark is there).
 *
 * @example
 * const report = await restore({ backup: { storage: { client: s3, bucket: 'backups', prefix: 'shop' }, id: 'latest' }, target: mongoTarget({ db }) });
 * @throws {BackupNotFoundError} no such backup (no manifest)
 * @throws {BackupCorruptedError} a tampered manifest, a corrupted part, a count or content-hash mismatch
 * @throws {BackupIncompleteError} a missing segment
 * @throws {UnsupportedFormatError} an unknown manifest format version
 * @throws {RestoreUnsupportedError} a backup of the other kind (MongoDB for Redis or the reverse: checked before the non-empty check), or records or metadata the target cannot store (nothing written)
 * @throws {IndexConflictError} a MongoDB target's existing indexes clash with the backup's (nothing written)
 * @throws {IndexBuildError} a unique index of the backup cannot be built on the restored data, or (the target already has it) still refuses a document of the backup written again after the collection's last batch, or refuses more than 1,000 documents (16 MiB) of a collection (thrown at once): the target already held other documents with the same unique value (not retryable; the data, or part of it, was written)
 * @throws {RestoreApplyError} a write to the target failed after the checks passed (retryable: the restore is idempotent)
 * @throws {BackupChangedError} a segment was replaced or deleted after it was checked (`written` says whether the target was touched)
 * @throws {StorageError} S3 failed a read (retryable: the restore is idempotent; during the checks, nothing was written; `retryable: false` when S3 refused the request — AccessDenied, NoSuchBucket, bad credentials)
 * @throws {RestoreTargetBusyError} another restore holds the target's lock (nothing was written; retryable)
 * @throws {RestoreTargetNotEmptyError} the target already holds data where the restore writes and `ifTargetNotEmpty` is not `'merge'` (checked before the backup's data is read, and again once the target's lock is held, before the first write — another restore may have filled it in between; nothing was written)
 * @throws {RestoreTargetPartialError} the target holds an unfinished restore of another backup (its partial-restore marker) and `ifTargetNotEmpty` is not `'merge'` (checked as `RestoreTargetNotEmptyError` is; nothing was written)
 * @throws {FencedError} this restore lost the target lock (paused past `lockMs`, or its renewals failed for `lockMs`): it stopped before its next write batch (the batch in flight settles), or before completing (its marker stays)
 * @throws {ConfigurationError} an invalid option (also `ifTargetNotEmpty: 'refuse'`, the default, for a custom target without `heldData`; `id: 'latest'` without `backup.job` on a prefix holding backups of more than one job)
 */
export async function restore(options: RestoreOptions, ctx: RunContext = {}): Promise<RestoreReport> {
  if (options === null || typeof options !== 'object') invalidOption('restore', 'options', 'an object { backup, target }', options);
  checkKnownKeys('restore', '', options, keysOf<RestoreOptions>({ backup: true, target: true, spoolBytes: true, lockMs: true, ifTargetNotEmpty: true }));
  if (!options.target || typeof options.target.apply !== 'function') invalidOption('restore', 'target', 'a restore target (mongoTarget(...) or redisTarget(...))', options.target);
  const spoolBytes = intOption('restore', 'spoolBytes', options.spoolBytes, DEFAULT_SPOOL_BYTES, 0);
  const ifTargetNotEmpty = ifTargetNotEmptyOption('restore', options.ifTargetNotEmpty, options.target);
  const report = await withRestoreLock(options.target, lockMsOption('restore', options.lockMs), (lock) =>
    withStorageErrors(
      'restore: reading the backup',
      async () => {
        // Fail fast while another restore holds the target, once the options are valid and before
        // the backup is read (the claim before the first write decides).
        const { loc, manifest } = await openBackup('restore', options.backup, ctx.signal, () => lock.checkFree(ctx.signal));
        // A backup of the other kind is refused first: whether the target holds data does not matter then.
        refuseOtherKind(manifest, options.target);
        await refuseNotEmptyNowAndLocked(lock, options.target, manifest.datasets.map((d) => d.name), ifTargetNotEmpty, restoreIdentity(manifest), `backup ${manifest.backupId}`, ctx.signal);
        return restoreManifest(loc, manifest, options.target, ctx.signal, spoolBytes, undefined, lock);
      },
      ctx.signal,
      options.backup?.storage?.bucket,
    ),
  );
  // `reads: 2`: the backup was read twice (no usable temporary file, or spoolBytes 0) — said here, as the warning's text is not logged.
  logOf(ctx).info('restore complete', { backupId: report.backupId, records: report.records, reads: report.reads, checkMs: report.checkMs, applyMs: report.applyMs });
  // Counts and codes only: a warning's text can name a Redis key (user data); it stays in the returned report.
  if (report.warnings.length > 0) logOf(ctx).warn('restore warnings', { backupId: report.backupId, warnings: report.warnings.length, ...(report.notices ? { notices: report.notices.map((n) => ({ code: n.code, count: n.count })) } : {}) });
  return report;
}
