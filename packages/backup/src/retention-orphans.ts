/**
 * Retention's clean-up of what is under `backups/` without being a backup: objects and
 * unfinished multipart uploads of a backup id that has no manifest — a snapshot run that died
 * before its commit and whose job was abandoned (no checkpoint names it any more), or a backup
 * whose deletion stopped part way (retention deletes the manifest first, so what is left has
 * none). Such an id is cleaned only when
 * - no snapshot job's checkpoint (`jobs/<job>/checkpoint.json`) names it: a run in progress, or
 *   one killed that its next invocation will resume, is never touched (a checkpoint that cannot
 *   be read stops the clean-up for the run: it might name any id);
 * - nothing under it was written or started for `orphanGraceMs`: the newest of the id's own
 *   time (backup ids are UUIDv7: the run's start, ms), its objects' `LastModified` and its
 *   uploads' `Initiated` (moto answers a fixed 2010 date for `Initiated`: the id's time is what
 *   bounds an upload there);
 * - its manifest is still absent and no checkpoint names it when its turn comes (checked again
 *   just before its first delete).
 * At most `orphanBatchSize` objects and uploads go per run (the rest next run), and the
 * caller's lease is checked before each delete.
 */
import { RetentionDeleteError, describeError } from './errors.js';
import { deleteObject, getObject, headObject, joinKey, listKeys, type S3Location } from './s3/client.js';
import { abortUpload, listUploads, type OpenUpload } from './s3/multipart.js';
import { keys } from './target.js';

/** What the clean-up did (or, in a dry run, would do). */
export interface OrphanReport {
  /** Backup ids whose every object and upload was removed (planned, in a dry run). */
  cleaned: string[];
  /** Objects deleted and uploads aborted. */
  objects: number;
  uploadsAborted: number;
  /** The batch limit stopped the clean-up: run retention again. */
  remaining: boolean;
  /** Ids without a manifest left alone, and why. */
  leftAlone: Array<{ id: string; reason: 'in progress (a checkpoint names it)' | 'within the grace period' | 'checkpoints unreadable' | 'committed meanwhile' }>;
}

/** How the clean-up runs. */
export interface OrphanOptions {
  graceMs: number;
  batchSize: number;
  now: number;
  dryRun: boolean;
  /** Throws when the caller lost its lease (checked before every delete). */
  guard: () => void;
  signal?: AbortSignal;
}

/** Deletes one object; a failure is a `RetentionDeleteError` (nothing after it is deleted). */
export async function deleteOrThrow(loc: S3Location, key: string, signal?: AbortSignal): Promise<void> {
  try {
    await deleteObject(loc, key, signal);
  } catch (error) {
    throw new RetentionDeleteError(`retention could not delete ${key} (${describeError(error)}); nothing after it was deleted`, [{ key, message: describeError(error) }], error);
  }
}

/** Backup ids named by snapshot job checkpoints; `undefined` when one cannot be read. */
async function checkpointedIds(loc: S3Location, signal?: AbortSignal): Promise<Set<string> | undefined> {
  const ids = new Set<string>();
  const found = await listKeys(loc, joinKey(loc.prefix, 'jobs') + '/', signal ? { signal } : {});
  for (const { key } of found.keys) {
    if (!key.endsWith('/checkpoint.json')) continue;
    const object = await getObject(loc, key, signal ? { signal } : {});
    if (!object) continue; // removed since the listing: its run committed or gave up
    try {
      const id = (JSON.parse(object.body.toString('utf8')) as { backupId?: unknown }).backupId;
      if (typeof id !== 'string' || id === '') return undefined;
      ids.add(id);
    } catch {
      return undefined;
    }
  }
  return ids;
}

/** The time (ms) a UUIDv7 backup id was made; `undefined` for another id. */
export function uuidv7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** The backup id of a key under `backups/`. */
function idOf(loc: S3Location, key: string): string | undefined {
  const root = keys.backupsRoot(loc);
  if (!key.startsWith(root)) return undefined;
  const id = key.slice(root.length).split('/')[0];
  return id ? id : undefined;
}

/**
 * Cleans orphans among `uncommitted` (backup ids listed without a manifest) and the ids of
 * unfinished uploads under `backups/`.
 * @throws {RetentionDeleteError} a delete or abort failed: the run stops there
 */
export async function cleanOrphans(loc: S3Location, uncommitted: string[], options: OrphanOptions): Promise<OrphanReport> {
  const { signal } = options;
  const report: OrphanReport = { cleaned: [], objects: 0, uploadsAborted: 0, remaining: false, leftAlone: [] };
  const uploads = await listUploads(loc, keys.backupsRoot(loc), signal);
  const candidates = new Set(uncommitted);
  for (const upload of uploads) {
    const id = idOf(loc, upload.key);
    if (id && !candidates.has(id) && !(await headObject(loc, keys.manifest(loc, id), signal))) candidates.add(id);
  }
  const ids = [...candidates].sort();
  let inProgress = await checkpointedIds(loc, signal);
  if (!inProgress) {
    report.leftAlone = ids.map((id) => ({ id, reason: 'checkpoints unreadable' }));
    return report;
  }
  let budget = options.batchSize;
  for (const id of ids) {
    if (inProgress.has(id)) {
      report.leftAlone.push({ id, reason: 'in progress (a checkpoint names it)' });
      continue;
    }
    const objects = (await listKeys(loc, `${keys.backup(loc, id)}/`, signal ? { signal } : {})).keys;
    const open: OpenUpload[] = uploads.filter((u) => idOf(loc, u.key) === id);
    // A time the server does not give counts as now: such an object is never old enough.
    let newest = uuidv7Time(id) ?? 0;
    for (const o of objects) newest = Math.max(newest, o.lastModified ?? options.now);
    for (const u of open) newest = Math.max(newest, u.initiated || options.now);
    if (options.now - newest < options.graceMs) {
      report.leftAlone.push({ id, reason: 'within the grace period' });
      continue;
    }
    if (options.dryRun) {
      report.cleaned.push(id);
      continue;
    }
    // Just before the first delete: still no manifest, still no checkpoint naming it.
    inProgress = (await checkpointedIds(loc, signal)) ?? new Set([id]);
    if (inProgress.has(id)) {
      report.leftAlone.push({ id, reason: 'in progress (a checkpoint names it)' });
      continue;
    }
    if (await headObject(loc, keys.manifest(loc, id), signal)) {
      report.leftAlone.push({ id, reason: 'committed meanwhile' });
      continue;
    }
    for (const upload of open) {
      if (budget === 0) return { ...report, remaining: true };
      options.guard();
      try {
        await abortUpload(loc, upload.key, upload.uploadId);
      } catch (error) {
        throw new RetentionDeleteError(`retention could not abort the upload of ${upload.key} (${describeError(error)}); nothing after it was deleted`, [{ key: upload.key, message: describeError(error) }], error);
      }
      report.uploadsAborted++;
      budget--;
    }
    for (const object of objects) {
      if (budget === 0) return { ...report, remaining: true };
      options.guard();
      await deleteOrThrow(loc, object.key, signal);
      report.objects++;
      budget--;
    }
    report.cleaned.push(id);
  }
  return report;
}
