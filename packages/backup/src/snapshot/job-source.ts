/**
 * One source per snapshot job. The job name alone keys a job's lease, checkpoint and its
 * backups' `job`: a MongoDB and a Redis backup (or two databases, two patterns) on one target
 * under one job — the default `'snapshot'` — would be counted together by retention
 * (`keepLast: 1` deleting one source's only backup), and `'latest'` and drills would pick
 * whichever ran last. The open-checkpoint guard (run.ts) catches a backup in progress; this
 * catches a job whose last backup committed. When a backup starts without a checkpoint, the
 * job's newest readable manifest must name this source, compared as the checkpoint guard
 * compares (`kind`, then `SnapshotSource.owns`: a MongoDB database, a Redis pattern). Another
 * is refused with `ConfigurationError` on `job`, nothing written. A backup that starts records
 * its source (`jobs/<job>/source.json`): while the record names the source of a run, no
 * manifest is read (a first run on a prefix with many backups of other jobs reads each newer
 * one once). A record of another source (its backup may never have committed) decides nothing:
 * the manifests are read.
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { z } from 'zod';
import { BackupCorruptedError, BackupNotFoundError, UnsupportedFormatError } from '../errors.js';
import type { Manifest } from '../format/manifest.js';
import { loadManifest, listBackupIds } from '../restore/load.js';
import { getObject, joinKey, putObject, type S3Location } from '../s3/client.js';
import type { SnapshotSource, SourceDescription } from '../sources/types.js';

/** `jobs/<job>/source.json`: the source a job's backups are of. */
const recordSchema = z.object({
  formatVersion: z.literal(1),
  job: z.string(),
  source: z.object({ kind: z.enum(['mongodb', 'redis']), database: z.string().optional(), datasets: z.array(z.string()) }),
});
type JobSourceRecord = z.infer<typeof recordSchema>;

/** The key of a job's source record. */
export function jobSourceKey(loc: S3Location, job: string): string {
  return joinKey(loc.prefix, 'jobs', encodeURIComponent(job), 'source.json');
}

/** What a source is, as the checkpoint guard compares it: kind, database, dataset names. */
function sourceOf(description: Pick<SourceDescription, 'kind' | 'database'> & { datasets: ReadonlyArray<{ name: string }> }): JobSourceRecord['source'] {
  return { kind: description.kind, ...(description.database === undefined ? {} : { database: description.database }), datasets: description.datasets.map((d) => d.name) };
}

/** A description `owns` can judge, from a record's or a manifest's source. */
function describedBy(source: JobSourceRecord['source']): SourceDescription {
  const kind = source.kind === 'mongodb' ? 'mongodb-collection' : 'redis-keyspace';
  return { kind: source.kind, engine: '', serverVersion: '', ...(source.database === undefined ? {} : { database: source.database }), datasets: source.datasets.map((name) => ({ name, kind, encoding: 'ejson' })), warnings: [] };
}

/** Whether `source` is the one `seen` names (the checkpoint guard's test). */
async function owns(source: SnapshotSource, seen: JobSourceRecord['source']): Promise<boolean> {
  return seen.kind === source.kind && (source.owns === undefined || (await source.owns(describedBy(seen))));
}

/**
 * A short name of a source for messages: its kind and database, or its datasets (a Redis
 * pattern). Used in the same places the checkpoint guard names them.
 */
export function describeSource(source: JobSourceRecord['source']): string {
  return `a ${source.kind} backup of ${source.database === undefined ? source.datasets.join(', ') : `database ${source.database}`}`;
}

/** A manifest's source as the guard compares it (retention groups a job's backups by it). */
export function manifestSource(manifest: Manifest): JobSourceRecord['source'] {
  return sourceOf({ kind: manifest.source.kind, ...(manifest.source.database === undefined ? {} : { database: manifest.source.database }), datasets: manifest.datasets });
}

/** The same source (kind, database, and for Redis its keyspace datasets; MongoDB collections may come and go). */
export function sameSource(a: JobSourceRecord['source'], b: JobSourceRecord['source']): boolean {
  if (a.kind !== b.kind || a.database !== b.database) return false;
  return a.kind === 'mongodb' || [...a.datasets].sort().join('\u0000') === [...b.datasets].sort().join('\u0000');
}

/** The job's source record; undefined when there is none or it cannot be read (then the manifests are read and it is written again). */
async function readRecord(loc: S3Location, job: string, signal?: AbortSignal): Promise<JobSourceRecord | undefined> {
  const found = await getObject(loc, jobSourceKey(loc, job), signal ? { signal } : {});
  if (!found) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(found.body.toString('utf8')));
    return parsed.success && parsed.data.job === job ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The job's newest manifest that reads (newest first; missing, damaged and unknown-format ones passed over). */
async function newestOfJob(loc: S3Location, job: string, signal?: AbortSignal): Promise<Manifest | undefined> {
  const ids = await listBackupIds(loc, signal);
  for (let i = ids.length - 1; i >= 0; i--) {
    const manifest = await loadManifest(loc, ids[i]!, signal).catch((error: unknown) => {
      if (error instanceof BackupNotFoundError || error instanceof BackupCorruptedError || error instanceof UnsupportedFormatError) return undefined;
      throw error;
    });
    if (manifest?.job === job) return manifest;
  }
  return undefined;
}

/**
 * Refuses a new backup of `job` by `source` when the job's newest committed backup is of
 * another source; records this source for the job otherwise. The record only spares the
 * manifest reads while it names this source. Call under the job's lease, with no open
 * checkpoint, once the source is described (nothing written yet).
 *
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `job`) the job's newest readable manifest names another source
 */
export async function checkJobSource(loc: S3Location, job: string, source: SnapshotSource, description: SourceDescription, signal?: AbortSignal): Promise<void> {
  // The record names this source: nothing more to read.
  const record = await readRecord(loc, job, signal);
  if (record && (await owns(source, record.source))) return;
  // No record, or one of another source (written when a backup of it started: one that never
  // committed does not bind the job): the committed backups decide.
  const newest = await newestOfJob(loc, job, signal);
  if (newest && !(await owns(source, manifestSource(newest)))) {
    invalidOption('snapshotBackup', 'job', `a job name no other source on this target uses (job "${job}": its newest backup, ${newest.backupId}, is ${describeSource(manifestSource(newest))}, and retention, 'latest' and drills count a job's backups together: give each snapshotBackup its own job)`, job);
  }
  const body: JobSourceRecord = { formatVersion: 1, job, source: sourceOf(description) };
  await putObject(loc, jobSourceKey(loc, job), JSON.stringify(body), signal ? { signal } : {});
}
