/**
 * `'latest'` without `backup.job` on a prefix holding backups of more than one job is refused,
 * as retention without `job` is (retention-jobs.ts): the newest backup of any job is rarely
 * the one meant — a drill of `'latest'` would check whichever job ran last, a restore would
 * bring back another job's data. The older manifests are read (newest first) until one of
 * another job is met: one GET per backup when the prefix holds one job's backups.
 */
import { BackupCorruptedError, BackupNotFoundError, ConfigurationError, UnsupportedFormatError } from '../errors.js';
import type { Manifest } from '../format/manifest.js';
import type { S3Location } from '../s3/client.js';

/**
 * Refuses `'latest'` without a job when a backup older than `ids[index]` (whose manifest is
 * `newest`) is of another job. Missing and unreadable older manifests are passed over (their
 * job cannot be known; a restore never reads them).
 *
 * @param load - Reads one manifest (`loadManifest`).
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `backup.job`) naming both jobs
 */
export async function refuseLatestOfMixedJobs(
  loc: S3Location,
  ids: readonly string[],
  index: number,
  newest: Manifest,
  load: (loc: S3Location, id: string, signal?: AbortSignal) => Promise<Manifest>,
  signal?: AbortSignal,
): Promise<void> {
  for (let i = index - 1; i >= 0; i--) {
    const other = await load(loc, ids[i]!, signal).catch((error: unknown) => {
      if (error instanceof BackupNotFoundError || error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError) return undefined;
      throw error;
    });
    if (other === undefined || other.job === newest.job) continue;
    throw new ConfigurationError(
      `backup.job must be given with id 'latest': the prefix holds backups of more than one job (${JSON.stringify(newest.job)} — the newest, ${newest.backupId} — and ${JSON.stringify(other.job)}), and the newest of any job may be another job's data; pass backup.job, or the backup's id; nothing was restored or verified`,
      { field: 'backup.job', expected: "a job name when id is 'latest' and the prefix holds backups of more than one job" },
    );
  }
}
