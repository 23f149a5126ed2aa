/**
 * Retention without `job` on a prefix holding backups of more than one job is refused
 * (`applyRetention()`): its policy would count every job's backups together (`keepLast: 1`
 * keeping one backup in all), deleting one job's last backups for another's newer ones. Each
 * job's policy must run on its own (`job`). Checked on every backup read before any of the
 * policy's deletes — in one run (retention-whole.ts) and across a pass's runs, whose object
 * records the one job met so far (`seenJob`, retention-pass.ts).
 */
import { ConfigurationError } from './errors.js';

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
