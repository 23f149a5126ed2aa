/**
 * A drill's scratch target: it must hold none of the backup's datasets before the drill
 * writes (a drill overwrites and then removes what it restores), except what an earlier drill
 * from the same backup storage left behind — found by that drill's marker and dropped first.
 * The drop at the end is reported (class and code), never swallowed.
 */
import { ConfigurationError, beforeWriting, describeError } from '../errors.js';
import type { LogLike } from '../context.js';
import type { Manifest } from '../format/manifest.js';
import type { RestoreTarget, ScratchMarker } from '../restore/targets.js';

/** What happened to the scratch target around a drill (in the drill report). */
export interface DrillScratch {
  /**
   * Whether what the drill restored was removed (false with `keepScratch`, when the drop failed,
   * or when the scratch target has no `drop` or its drop removed nothing: then `note` says so).
   */
  dropped: boolean;
  /** Why `dropped` is false though no drop failed: the scratch target has no `drop`, or its drop removed nothing (what the drill restored is still there). */
  note?: string;
  /** The failed drop's error class and code (never its message); the next drill from the same storage clears what is left. */
  dropError?: string;
  /** The drill id whose leftovers (found by its marker) this drill dropped before it began. */
  clearedLeftoverOf?: string;
}

async function holdsData(scratch: RestoreTarget, manifest: Manifest, signal?: AbortSignal): Promise<string | undefined> {
  for (const dataset of manifest.datasets) {
    const found = await beforeWriting(
      `drill of backup ${manifest.backupId}: reading the scratch target`,
      async () => {
        for await (const _record of scratch.readBack(dataset, signal)) return true;
        return false;
      },
      signal,
    );
    if (found) return dataset.name;
  }
  return undefined;
}

/**
 * Makes sure the scratch target is empty of the backup's datasets (clearing an earlier drill's
 * leftovers from the same storage), then writes this drill's marker.
 *
 * @throws {ConfigurationError} the scratch target holds data no drill from this storage marked (nothing is written)
 * @throws {RestoreTargetUnavailableError | RestoreTargetRefusedError} the scratch target failed before any write
 */
export async function prepareScratch(scratch: RestoreTarget, manifest: Manifest, marker: Omit<ScratchMarker, 'collections'>, signal?: AbortSignal): Promise<Pick<DrillScratch, 'clearedLeftoverOf'>> {
  const what = `drill of backup ${manifest.backupId}: preparing the scratch target`;
  let full = await holdsData(scratch, manifest, signal);
  let clearedLeftoverOf: string | undefined;
  if (full !== undefined && scratch.readScratchMarker && scratch.clearScratch) {
    const leftover = await beforeWriting(what, () => scratch.readScratchMarker!(signal), signal);
    // Only what a drill from this same storage created: its marker lists exactly those collections.
    if (leftover && leftover.storage === marker.storage) {
      await beforeWriting(what, () => scratch.clearScratch!(leftover, signal), signal);
      clearedLeftoverOf = leftover.drillId;
      full = await holdsData(scratch, manifest, signal);
    }
  }
  if (full !== undefined) {
    throw new ConfigurationError(
      `verifyBackup(): option "scratch" must be an empty scratch target; it already holds data of ${full} (a drill would overwrite it and then remove it), and no earlier drill from this backup storage marked it as its own. Point the drill at a scratch database or key prefix (a drill drops what it restored there and marks it, so the next drill from this storage may reuse it), or clear it.`,
      { field: 'scratch', expected: 'an empty scratch target' },
    );
  }
  if (scratch.markScratch) {
    const collections = scratch.scratchCollections?.(manifest) ?? manifest.datasets.map((d) => d.name);
    await beforeWriting(what, () => scratch.markScratch!({ ...marker, collections }, signal), signal);
  }
  return clearedLeftoverOf === undefined ? {} : { clearedLeftoverOf };
}

/**
 * Drops what the drill restored; a failure is logged and returned (class and code), not thrown.
 * A target without `drop`, or whose drop resolves `false`, is reported `dropped: false` with a `note`.
 */
export async function dropScratch(scratch: RestoreTarget, manifest: Manifest, drillId: string, log: LogLike, signal?: AbortSignal): Promise<Pick<DrillScratch, 'dropped' | 'dropError' | 'note'>> {
  // A custom target without `drop` removes nothing: never reported as dropped.
  if (!scratch.drop) return { dropped: false, note: 'the scratch target has no drop: what the drill restored is still there' };
  try {
    if ((await scratch.drop(manifest, signal)) === false) return { dropped: false, note: "the scratch target's drop removed nothing: what the drill restored is still there" };
    return { dropped: true };
  } catch (error) {
    const dropError = describeError(error) || 'unknown error';
    log.error('drill scratch drop failed; the next drill from this storage clears it', { backupId: manifest.backupId, drillId, error: dropError });
    return { dropped: false, dropError };
  }
}
