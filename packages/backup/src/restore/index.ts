/**
 * `restore()`: a snapshot backup back into a database, after checking all of it (options.ts:
 * its options and report; open-backup.ts: the backup it reads; restore-manifest.ts: the checks
 * and the writes, shared with drills and point-in-time restore), under the target's restore
 * lock (lock.ts) and its non-empty check (not-empty.ts).
 */
import { checkKnownKeys, intOption, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { withStorageErrors } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import { lockMsOption, withRestoreLock } from './lock.js';
import { ifTargetNotEmptyOption, refuseNotEmptyNowAndLocked } from './not-empty.js';
import { openBackup, refuseOtherKind, restoreIdentity } from './open-backup.js';
import { DEFAULT_SPOOL_BYTES, type RestoreOptions, type RestoreReport } from './options.js';
import { restoreManifest } from './restore-manifest.js';

export { openBackup, refuseOtherKind, restoreIdentity } from './open-backup.js';
export { DEFAULT_SPOOL_BYTES, type BackupRef, type RestoreOptions, type RestoreReport } from './options.js';
export { restoreManifest } from './restore-manifest.js';

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
