/**
 * Which snapshot a point-in-time restore starts from (pitr.ts): the newest verified one marked
 * with the stream that ended by the target time, of the one job whose snapshots carry that mark
 * (or of `job`).
 */
import { BackupCorruptedError, BackupError, ConfigurationError, StorageError, UnsupportedFormatError, describeError } from '../errors.js';
import type { Manifest } from '../format/manifest.js';
import type { S3Location } from '../s3/client.js';
import { keys } from '../target.js';
import { readVerification } from '../verify/record.js';
import { listBackupIds, loadManifest } from './load.js';

/** A manifest or verification record that could not be read as one (its key under the bucket, the error's code). */
interface DamagedRecord {
  key: string;
  code: string;
}

/**
 * The newest snapshot with a stream mark on `stream` whose end is at or before `at`, and the
 * keys of the damaged manifests and verification records passed over on the way (a damaged
 * manifest is no candidate; a snapshot with a damaged verification record counts as not
 * verified, as retention holds it but never takes it as the point-in-time base). Without
 * `job`, the older manifests are read on after the pick until one marked with `stream` is of
 * another job (as `restore()`'s `'latest'` does: latest-jobs.ts).
 * @throws {ConfigurationError} without `job`, snapshots of more than one job are marked with `stream`
 */
export async function pickSnapshot(loc: S3Location, stream: string, at: number, options: { job?: string; verifiedOnly: boolean }, signal?: AbortSignal): Promise<{ manifest: Manifest | undefined; damaged: DamagedRecord[] }> {
  const damaged: DamagedRecord[] = [];
  const ids = await listBackupIds(loc, signal);
  // The jobs of the snapshots marked with `stream` read so far: the candidates' jobs.
  const jobs = new Set<string>();
  let picked: Manifest | undefined;
  for (let i = ids.length - 1; i >= 0; i--) {
    const manifest = await loadManifest(loc, ids[i]!, signal).catch((error: unknown) => {
      // Missing, damaged or of an unknown format: not a candidate (the last two reported, like a
      // damaged verification record). An S3 failure is not an answer.
      if (!picked && !signal?.aborted && (error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError)) damaged.push({ key: keys.manifest(loc, ids[i]!), code: error.code });
      if (error instanceof BackupError) return undefined;
      if (signal?.aborted) throw signal.reason ?? error;
      throw new StorageError(`reading the manifest of backup ${ids[i]!} on bucket "${loc.bucket}" failed (${describeError(error)})`, error, { bucket: loc.bucket });
    });
    if (!manifest || manifest.start.stream?.name !== stream || manifest.end.stream?.name !== stream) continue;
    if (options.job !== undefined && manifest.job !== options.job) continue;
    jobs.add(manifest.job);
    if (jobs.size > 1) refuseMixedStreamJobs(stream, jobs);
    if (picked) continue;
    if (Date.parse(manifest.end.time) > at) continue;
    if (options.verifiedOnly && !(await verifiedOrDamaged(loc, manifest.backupId, damaged, signal))) continue;
    picked = manifest;
    if (options.job !== undefined) break;
  }
  return { manifest: picked, damaged };
}

/**
 * `pointInTimeRestore` without `job` where snapshots of several jobs are marked with the stream:
 * the newest of any job may be another job's data (as `restore()` refuses `'latest'` without
 * `backup.job` on a multi-job prefix).
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `job`) naming the jobs found
 */
function refuseMixedStreamJobs(stream: string, jobs: ReadonlySet<string>): never {
  const named = [...jobs].map((j) => JSON.stringify(j)).join(', ');
  throw new ConfigurationError(
    `pointInTimeRestore(): option "job" must be given: snapshots of more than one job (${named}) are marked with stream "${stream}", and the newest of any job may be another job's data; pass job; nothing was restored`,
    { field: 'job', expected: `a job name when snapshots of more than one job are marked with the stream` },
  );
}

/**
 * Whether a passed `full` or `drill` verification is recorded for the backup. A damaged record
 * (not JSON, another shape or format) leaves that unknown: not verified, its key added to
 * `damaged`. A failed read (`StorageError`) or an aborted one still throws.
 */
async function verifiedOrDamaged(loc: S3Location, backupId: string, damaged: DamagedRecord[], signal?: AbortSignal): Promise<boolean> {
  try {
    return (await readVerification(loc, backupId, signal))?.ok === true;
  } catch (error) {
    if (signal?.aborted || !(error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError)) throw error;
    damaged.push({ key: keys.verification(loc, backupId), code: error.code });
    return false;
  }
}
