/**
 * A checked snapshot written into a target (`restoreManifest`), shared by `restore`, drills and
 * point-in-time restore: nothing is written until every checksum, count and content hash
 * matches the manifest and every record is one the target can store. The checked parts are
 * spooled and written from the spool (up to `spoolBytes`); a larger backup is read a second
 * time, pinned to the objects that were checked.
 */
import { SteadyError } from '@steadyfn/handler/internal';
import { BackupChangedError, RestoreApplyError, RestoreUnsupportedError, beforeWriting, describeError, storageErrorOf } from '../errors.js';
import type { Manifest, ManifestDataset } from '../format/manifest.js';
import type { S3Location } from '../s3/client.js';
import { checkData, datasetLines } from './check-data.js';
import { checkPartBody, checkPinsHold, fetchPart, type PartReader } from './load.js';
import type { TargetLock } from './lock.js';
import { restoreIdentity } from './open-backup.js';
import { DEFAULT_SPOOL_BYTES, type RestoreReport } from './options.js';
import { PartSpool } from './spool.js';
import type { RestoreIdentity, RestoreTarget } from './targets.js';

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
