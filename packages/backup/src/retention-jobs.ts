/**
 * Retention without `job` on a prefix holding backups of more than one job is refused
 * (`applyRetention()`): its policy would count every job's backups together (`keepLast: 1`
 * keeping one backup in all), deleting one job's last backups for another's newer ones. Each
 * job's policy must run on its own (`job`). Checked on every backup read before any of the
 * policy's deletes — in one run (retention-whole.ts) and across a pass's runs, whose object
 * records the one job met so far (`seenJob`, retention-pass.ts).
 */
import { ConfigurationError } from './errors.js';
import type { Manifest } from './format/manifest.js';
import { describeSource, manifestSource, sameSource } from './snapshot/job-source.js';

/** How many job names the refusal names at most (the rest are counted). */
const NAMED = 5;

/**
 * Refuses retention without `job` over the backups of several jobs.
 * @param jobs - The jobs whose backups were found under the prefix (distinct names).
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `job`) when there is more than one
 */
export function refuseMixedJobs(jobs: ReadonlySet<string>): void {
  if (jobs.size <= 1) return;
  const names = [...jobs].sort();
  const named = names.slice(0, NAMED).map((j) => JSON.stringify(j)).join(', ') + (names.length > NAMED ? `, and ${names.length - NAMED} more` : '');
  throw new ConfigurationError(
    `applyRetention(): option "job" must be given: the prefix holds backups of ${jobs.size} jobs (${named}), and one policy over all of them could delete a job's only backups; run retention once per job, with "job"; nothing was deleted`,
    { field: 'job', expected: 'a job name when the prefix holds backups of more than one job (retention runs once per job)' },
  );
}

/**
 * Notes the job of a backup read by retention without `job`: returns the one job met so far,
 * or throws when `job` differs from `seen`.
 * @throws {ConfigurationError} see {@link refuseMixedJobs}
 */
export function noteJob(seen: string | null, job: string): string {
  if (seen !== null && seen !== job) refuseMixedJobs(new Set([seen, job]));
  return job;
}

/**
 * Notes the source of a backup of the job retention judges, and refuses the run when the job's
 * backups are of different sources (a MongoDB and a Redis backup under the default job, made
 * before snapshots refused that: snapshot/job-source.ts): its policy would count them together,
 * deleting one source's only backups for the other's newer ones. Checked before any of the
 * policy's deletes of the manifests read so far (a pass over several runs checks each run's).
 * @param seen - The first backup's manifest noted (undefined: none yet).
 * @returns the manifest to keep as `seen`
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `job`) the manifests name different sources
 */
export function noteSource(seen: Manifest | undefined, manifest: Manifest): Manifest {
  if (seen === undefined || sameSource(manifestSource(seen), manifestSource(manifest))) return seen ?? manifest;
  throw new ConfigurationError(
    `applyRetention(): the backups of job ${JSON.stringify(manifest.job)} are of different sources (${seen.backupId}: ${describeSource(manifestSource(seen))}; ${manifest.backupId}: ${describeSource(manifestSource(manifest))}), and one policy over them could delete a source's only backups; nothing was deleted — move one source's backups to another prefix (or delete them yourself), and give each snapshotBackup its own job`,
    { field: 'job', expected: 'a job whose backups are all of one source (one database, one Redis pattern)' },
  );
}
