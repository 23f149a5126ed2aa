/**
 * `restore()`: a snapshot backup back into a database, after checking all of it. Nothing is
 * written to the target until every checksum, count and content hash matches the manifest and
 * every record is one the target can store.
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { BackupNotFoundError, RestoreUnsupportedError } from '../errors.js';
import { logOf, type RunContext } from '../context.js';
import type { Manifest } from '../format/manifest.js';
import { probeS3 } from '../s3/probe.js';
import type { S3Location } from '../s3/client.js';
import { toLocation, type S3Target } from '../target.js';
import { checkData, datasetLines } from './check-data.js';
import { latestBackupId, loadManifest } from './load.js';
import type { RestoreTarget } from './targets.js';

/** Which backup: its id, or `'latest'` (the newest with a manifest). */
export interface BackupRef {
  storage: S3Target;
  id: string | 'latest';
}

/** Options of `restore()`. */
export interface RestoreOptions {
  backup: BackupRef;
  /** `mongoTarget(...)` or `redisTarget(...)`. */
  target: RestoreTarget;
}

/** What a restore did. */
export interface RestoreReport {
  backupId: string;
  datasets: Array<{ name: string; records: number }>;
  records: number;
  /** Compressed bytes read from S3 (once to check, once to apply). */
  bytes: number;
  /** Time checking the backup before writing, and applying it (ms). */
  checkMs: number;
  applyMs: number;
  warnings: string[];
}

/** Resolves the storage location (probed) and the backup id. */
export async function openBackup(owner: string, ref: BackupRef, signal?: AbortSignal): Promise<{ loc: S3Location; manifest: Manifest }> {
  if (ref === null || typeof ref !== 'object') invalidOption(owner, 'backup', 'an object { storage, id }', ref);
  const given = toLocation(owner, ref.storage);
  if (typeof ref.id !== 'string' || ref.id === '') invalidOption(owner, 'backup.id', "a backup id or 'latest'", ref.id);
  const { client } = await probeS3(given, signal);
  const loc = { ...given, client };
  const id = ref.id === 'latest' ? await latestBackupId(loc, signal) : ref.id;
  if (id === undefined) throw new BackupNotFoundError(`no committed backup under s3://${loc.bucket}/${loc.prefix}`);
  return { loc, manifest: await loadManifest(loc, id, signal) };
}

/** Checks the whole backup against the target, then writes it. Shared by `restore`, drills and point-in-time restore. */
export async function restoreManifest(loc: S3Location, manifest: Manifest, target: RestoreTarget, signal?: AbortSignal): Promise<RestoreReport> {
  const checkStarted = Date.now();
  const { warnings } = await target.prepare(manifest, signal);
  const checked = await checkData(loc, manifest, { check: (dataset, line) => target.check(dataset, line), ...(signal ? { signal } : {}) });
  if (checked.unsupportedCount > 0) {
    throw new RestoreUnsupportedError(`${checked.unsupportedCount} record(s) of backup ${manifest.backupId} cannot be stored by the target; nothing was written`, checked.unsupported);
  }
  const applyStarted = Date.now();
  const datasets: RestoreReport['datasets'] = [];
  for (const dataset of manifest.datasets) {
    const records = await target.apply(dataset, datasetLines(loc, dataset, signal), signal);
    await target.finish(dataset, signal);
    datasets.push({ name: dataset.name, records });
  }
  return {
    backupId: manifest.backupId,
    datasets,
    records: datasets.reduce((s, d) => s + d.records, 0),
    bytes: checked.bytes * 2,
    checkMs: applyStarted - checkStarted,
    applyMs: Date.now() - applyStarted,
    warnings: [...manifest.warnings, ...warnings],
  };
}

/**
 * Restores a snapshot backup. Reads the manifest (self-checksum, format version), checks every
 * segment and part (sizes, SHA-256, record counts, content hashes) and every record against
 * the target, and only then applies the data idempotently (upsert by `_id`; `RESTORE …
 * REPLACE`) and creates indexes.
 *
 * @example
 * const report = await restore({ backup: { storage: { client: s3, bucket: 'backups', prefix: 'shop' }, id: 'latest' }, target: mongoTarget({ db }) });
 * @throws {BackupNotFoundError} no such backup (no manifest)
 * @throws {BackupCorruptedError} a tampered manifest, a corrupted part, a count or content-hash mismatch
 * @throws {BackupIncompleteError} a missing segment
 * @throws {UnsupportedFormatError} an unknown manifest format version
 * @throws {RestoreUnsupportedError} records or metadata the target cannot store (nothing written)
 * @throws {RestoreApplyError} a write to the target failed after the checks passed (retryable: the restore is idempotent)
 */
export async function restore(options: RestoreOptions, ctx: RunContext = {}): Promise<RestoreReport> {
  if (options === null || typeof options !== 'object') invalidOption('restore', 'options', 'an object { backup, target }', options);
  if (!options.target || typeof options.target.apply !== 'function') invalidOption('restore', 'target', 'a restore target (mongoTarget(...) or redisTarget(...))', options.target);
  const { loc, manifest } = await openBackup('restore', options.backup, ctx.signal);
  const report = await restoreManifest(loc, manifest, options.target, ctx.signal);
  logOf(ctx).info('restore complete', { backupId: report.backupId, records: report.records, checkMs: report.checkMs, applyMs: report.applyMs });
  return report;
}
