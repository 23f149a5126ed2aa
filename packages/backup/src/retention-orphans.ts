/**
 * Retention's clean-up of what is under `backups/` without being a backup: objects and
 * unfinished multipart uploads of a backup id that has no manifest — a snapshot run that died
 * before its commit and whose job was abandoned, or a backup whose deletion stopped part way
 * (retention deletes the manifest first, so what is left has none). Such an id is cleaned only
 * when
 * - no snapshot job's checkpoint (`jobs/<job>/checkpoint.json`) names it: a run in progress, or
 *   one killed that its next invocation will resume, is never touched (a checkpoint that cannot
 *   be read stops the clean-up for the run: it might name any id) — unless that checkpoint is
 *   abandoned (see retention-checkpoints.ts: no sign of its job for `abandonedCheckpointMs`),
 *   which is then retired under the job's lease and the id treated as any other;
 * - nothing under it was written or started for `orphanGraceMs`: the newest of the id's own
 *   time (backup ids are UUIDv7: the run's start, ms), its objects' `LastModified` and its
 *   uploads' `Initiated` (moto answers a fixed 2010 date for `Initiated`: the id's time is what
 *   bounds an upload there);
 * - its manifest is still absent when its turn comes (a HEAD just before its first delete), and
 *   no checkpoint names it (the checkpoints read again once per run, just before the run's
 *   first orphan delete: `CheckpointRecheck`).
 * The run's delete budget (retention-budget.ts: deadline, signal, `orphanBatchSize`, lease)
 * is asked before each delete and abort, and before each read (a page of a listing, a job
 * checkpoint's GET, a manifest's HEAD, as one more page); what it stops is left for the next
 * run and counted.
 * `cleanOrphans` judges every candidate of one complete listing; a pass over `backups/` that
 * spans runs (retention-pass.ts) hands them to `cleanOrphanIds` a page at a time.
 */
import { RetentionDeleteError, describeError } from './errors.js';
import { deleteObject, headObject, listKeys, type S3Location } from './s3/client.js';
import { abortUpload, listUploads, type OpenUpload } from './s3/multipart.js';
import type { S3Capabilities } from './s3/probe.js';
import type { DeleteBudget } from './retention-budget.js';
import { listJobCheckpoints, retireCheckpoint, type JobCheckpoint, type RetireRefusal } from './retention-checkpoints.js';
import { keys } from './target.js';

/** What the clean-up did (or, in a dry run, would do). */
export interface OrphanReport {
  /** Backup ids whose every object and upload was removed (planned, in a dry run). */
  cleaned: string[];
  /** Objects deleted and uploads aborted. */
  objects: number;
  uploadsAborted: number;
  /** The run stopped (batch limit, deadline or signal) before every orphan was handled: run retention again. */
  remaining: boolean;
  /** Ids without a manifest that this run did not finish (stopped part way or not reached): the next run continues. */
  idsLeft: number;
  /** Abandoned job checkpoints retired (planned, in a dry run); their ids were then cleaned like any orphan. */
  abandoned: Array<{ job: string; backupId: string }>;
  /** Ids without a manifest left alone, and why. */
  leftAlone: Array<{ id: string; reason: 'in progress (a checkpoint names it)' | 'within the grace period' | 'checkpoints unreadable' | 'committed meanwhile' | RetireRefusal }>;
}

/** How the clean-up runs. */
export interface OrphanOptions {
  graceMs: number;
  /** How long a checkpoint's job must show no sign of life before the checkpoint counts as abandoned (ms). */
  abandonedMs: number;
  /** The retention lease's duration, also used for a job lease taken to retire its checkpoint. */
  leaseMs: number;
  now: number;
  dryRun: boolean;
  caps: Pick<S3Capabilities, 'ifMatch'>;
  budget: DeleteBudget;
  signal?: AbortSignal;
  /** The run's re-read of the job checkpoints before its first orphan delete, shared by every id it judges. @default one per `cleanOrphanIds` call */
  recheck?: CheckpointRecheck;
}

/**
 * The job checkpoints read again just before a run's first orphan delete (`checkpointRecheck`),
 * then used for every later id of the run: `jobs/` is read at most twice per run (or per run of
 * a pass), not once per orphan. A checkpoint that could name an id old enough to be cleaned was
 * already there at the first read (a new snapshot names a new id, within the grace); the
 * re-read catches one written since by a job resumed meanwhile, and the manifest HEAD before
 * each id's first delete a commit.
 */
export interface CheckpointRecheck {
  /** `undefined` until read; `null`: read, and one could not be read (no orphan is deleted). */
  checkpoints?: JobCheckpoint[] | null;
  /** Checkpoints (`key etag`) this run retired since: they no longer protect their id. */
  retired: Set<string>;
}

/** A recheck not read yet. */
export function checkpointRecheck(): CheckpointRecheck {
  return { retired: new Set() };
}

/** Deletes one object; a failure is a `RetentionDeleteError` (nothing after it is deleted). */
export async function deleteOrThrow(loc: S3Location, key: string, signal?: AbortSignal): Promise<void> {
  try {
    await deleteObject(loc, key, signal);
  } catch (error) {
    throw new RetentionDeleteError(`retention could not delete ${key} (${describeError(error)}); nothing after it was deleted`, [{ key, message: describeError(error) }], error);
  }
}

/** Aborts one unfinished upload; a failure is a `RetentionDeleteError`. */
export async function abortOrThrow(loc: S3Location, upload: OpenUpload): Promise<void> {
  try {
    await abortUpload(loc, upload.key, upload.uploadId);
  } catch (error) {
    throw new RetentionDeleteError(`retention could not abort the upload of ${upload.key} (${describeError(error)}); nothing after it was deleted`, [{ key: upload.key, message: describeError(error) }], error);
  }
}

/** The time (ms) a UUIDv7 backup id was made; `undefined` for another id. */
export function uuidv7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** The backup id of a key under `backups/`. */
export function idOf(loc: S3Location, key: string): string | undefined {
  const root = keys.backupsRoot(loc);
  if (!key.startsWith(root)) return undefined;
  const id = key.slice(root.length).split('/')[0];
  return id ? id : undefined;
}

/**
 * Cleans orphans among `uncommitted` (backup ids listed without a manifest), the ids of
 * unfinished uploads under `backups/` and the ids of job checkpoints whose backup has no
 * manifest.
 * @throws {RetentionDeleteError} a delete or abort failed: the run stops there
 * @throws {FencedError} the retention lease was lost
 */
export async function cleanOrphans(loc: S3Location, uncommitted: string[], options: OrphanOptions): Promise<OrphanReport> {
  const { signal, budget } = options;
  const report: OrphanReport = { cleaned: [], objects: 0, uploadsAborted: 0, remaining: false, idsLeft: 0, abandoned: [], leftAlone: [] };
  const stopBefore = (): OrphanReport => ({ ...report, remaining: uncommitted.length > 0, idsLeft: uncommitted.length });
  if (budget.stoppedBy) return stopBefore();
  // Each listing stops between pages at the deadline (the budget records it): nothing is judged from part of one.
  const listed = await listUploads(loc, keys.backupsRoot(loc), { signal, gate: budget });
  if (!listed.complete) return stopBefore();
  const uploads = listed.uploads;
  const candidates = new Set(uncommitted);
  const checkpoints = await listJobCheckpoints(loc, signal, budget);
  if (budget.stoppedBy) return stopBefore();
  // Each manifest HEAD is asked of the budget as one more page of `backups/` (very many uploads or
  // jobs must not spend the invocation past its reserve); stopped there, nothing is judged from
  // the ids HEADed so far, and the run saves a pass that lists the uploads page by page (retention-whole.ts).
  const root = keys.backupsRoot(loc);
  const unmanifested = async (id: string): Promise<boolean | 'stopped'> => {
    if (candidates.has(id)) return false;
    if (!budget.allowsPage(root)) return 'stopped';
    return !(await headObject(loc, keys.manifest(loc, id), signal));
  };
  for (const id of [...uploads.map((u) => idOf(loc, u.key)), ...(checkpoints ?? []).map((c) => c.backupId)]) {
    if (id === undefined) continue;
    const judged = await unmanifested(id);
    if (judged === 'stopped') return stopBefore();
    if (judged) candidates.add(id);
  }
  const ids = [...candidates].sort();
  if (!checkpoints) {
    report.leftAlone = ids.map((id) => ({ id, reason: 'checkpoints unreadable' }));
    return report;
  }
  const handled = await cleanOrphanIds(loc, ids, checkpoints, async (id) => uploads.filter((u) => idOf(loc, u.key) === id), options, report);
  return handled < ids.length ? { ...report, remaining: true, idsLeft: ids.length - handled } : report;
}

/**
 * Judges and cleans backup ids without a manifest, in order (see the module comment), given
 * every job checkpoint and a way to get an id's unfinished uploads (`undefined`: its listing
 * was cut). Resolves to how many ids it handled (cleaned or left alone, recorded in `report`):
 * fewer than `ids.length` when the budget stopped it.
 * @throws {RetentionDeleteError} a delete or abort failed: the run stops there
 * @throws {FencedError} the retention lease was lost
 */
export async function cleanOrphanIds(
  loc: S3Location,
  ids: string[],
  checkpoints: JobCheckpoint[],
  uploadsOf: (id: string) => Promise<OpenUpload[] | undefined>,
  options: OrphanOptions,
  report: OrphanReport,
): Promise<number> {
  const { signal, budget, now } = options;
  const recheck = options.recheck ?? checkpointRecheck();
  for (const [at, id] of ids.entries()) {
    // Reading an id's objects takes time too: nothing more starts once the deadline nears.
    if (!budget.allows(0, false)) return at;
    const listedId = await listKeys(loc, `${keys.backup(loc, id)}/`, { ...(signal ? { signal } : {}), gate: budget });
    if (!listedId.complete) return at;
    const objects = listedId.keys;
    const open = await uploadsOf(id);
    if (!open) return at;
    // A time the server does not give counts as now: such an object is never old enough.
    let newest = uuidv7Time(id) ?? 0;
    for (const o of objects) newest = Math.max(newest, o.lastModified ?? now);
    for (const u of open) newest = Math.max(newest, u.initiated || now);

    const naming = checkpoints.filter((c) => c.backupId === id);
    if (naming.length > 0) {
      const retired = await retireAbandoned(loc, id, naming, newest, options, report);
      if (retired === 'stopped') return at;
      if (!retired) continue;
      for (const c of naming) recheck.retired.add(`${c.key} ${c.etag}`);
    }
    if (now - newest < options.graceMs) {
      report.leftAlone.push({ id, reason: 'within the grace period' });
      continue;
    }
    if (options.dryRun) {
      report.cleaned.push(id);
      continue;
    }
    // Just before the run's first delete, the checkpoints again (once: `recheck`); before each
    // id's first delete, its manifest. No checkpoint may name it (but those this run retired).
    if (recheck.checkpoints === undefined) {
      const current = await listJobCheckpoints(loc, signal, budget);
      if (budget.stoppedBy) return at;
      recheck.checkpoints = current ?? null;
    }
    const current = recheck.checkpoints;
    if (!current || current.some((c) => c.backupId === id && !recheck.retired.has(`${c.key} ${c.etag}`))) {
      report.leftAlone.push({ id, reason: 'in progress (a checkpoint names it)' });
      continue;
    }
    // That HEAD is asked of the budget as one more page of the id's listing (as the listing was):
    // refused, nothing of the id is deleted and the next run judges it again.
    if (!budget.allowsPage(`${keys.backup(loc, id)}/`)) return at;
    if (await headObject(loc, keys.manifest(loc, id), signal)) {
      report.leftAlone.push({ id, reason: 'committed meanwhile' });
      continue;
    }
    for (const upload of open) {
      if (!budget.allows(1, true)) return at;
      await budget.spend(true, () => abortOrThrow(loc, upload));
      report.uploadsAborted++;
    }
    for (const object of objects) {
      if (!budget.allows(1, true)) return at;
      await budget.spend(true, () => deleteOrThrow(loc, object.key, signal));
      report.objects++;
    }
    report.cleaned.push(id);
  }
  return ids.length;
}

/**
 * Retires the checkpoints naming `id` when every one is abandoned. Resolves to true when the
 * id is no longer protected, false when it stays (reason recorded), `stopped` when the budget
 * ran out.
 */
async function retireAbandoned(loc: S3Location, id: string, naming: JobCheckpoint[], newest: number, options: OrphanOptions, report: OrphanReport): Promise<boolean | 'stopped'> {
  const aliveAt = Math.max(newest, ...naming.map((c) => c.aliveAt));
  if (options.now - aliveAt < options.abandonedMs) {
    report.leftAlone.push({ id, reason: 'in progress (a checkpoint names it)' });
    return false;
  }
  for (const checkpoint of naming) {
    if (!options.dryRun) {
      if (!options.budget.allows(1, true)) return 'stopped';
      const outcome = await options.budget.spend(true, () => retireCheckpoint(loc, options.caps, checkpoint, options.leaseMs, options.signal));
      if (outcome !== 'retired') {
        report.leftAlone.push({ id, reason: outcome });
        return false;
      }
    }
    report.abandoned.push({ job: checkpoint.job, backupId: id });
  }
  return true;
}
