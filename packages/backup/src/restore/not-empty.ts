/**
 * A restore into a target that already holds data: refused by default (`ifTargetNotEmpty:
 * 'refuse'`, `RestoreTargetNotEmptyError`, before anything is written), merged when asked
 * (`'merge'`: records the backup has replace the target's by `_id` or key; the others stay, with
 * a warning). A target holding only what an earlier restore of the same backup that did not
 * finish wrote (its partial-restore marker is there) is not refused: restoring again is how such
 * a restore is completed. A target whose marker names another backup is refused
 * (`RestoreTargetPartialError`) unless told to merge: the two backups would mix.
 */
import { invalidOption, oneOfOption } from '@steadyfn/handler/internal';
import { RestoreTargetNotEmptyError, RestoreTargetPartialError, beforeWriting } from '../errors.js';
import { describeRestore, sameRestore } from './lock-places.js';
import type { RestoreIdentity, RestoreMarker, RestoreTarget } from './targets.js';
import type { TargetLock } from './lock.js';

/** What a restore does with a target that already holds data: see `RestoreOptions.ifTargetNotEmpty`. */
export type IfTargetNotEmpty = 'refuse' | 'merge';

/**
 * The `ifTargetNotEmpty` option of `owner`, checked against `target`: `'refuse'` (the default)
 * needs a target that can say what it holds (`RestoreTarget.heldData`); a custom target without
 * it is refused rather than merged into unchecked.
 * @param target the restore's target (checked only when it is an object: the caller checks the rest)
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `ifTargetNotEmpty`: not `'refuse'` or `'merge'`, or `'refuse'` for a target without `heldData`
 */
export function ifTargetNotEmptyOption(owner: string, value: unknown, target?: RestoreTarget): IfTargetNotEmpty {
  const mode = oneOfOption(owner, 'ifTargetNotEmpty', value, ['refuse', 'merge'] as const, 'refuse');
  if (mode === 'refuse' && target !== null && typeof target === 'object' && typeof target.heldData !== 'function') cannotSay(owner, value);
  return mode;
}

/** @throws {ConfigurationError} `CONFIG_INVALID` naming `ifTargetNotEmpty`: the target has no `heldData`, so `'refuse'` cannot be kept */
function cannotSay(owner: string, value: unknown): never {
  invalidOption(owner, 'ifTargetNotEmpty', "'merge' for this target: it has no heldData(), so whether it already holds data cannot be checked and the default 'refuse' cannot be kept (nothing was read or written). Give the target heldData(), or pass ifTargetNotEmpty: 'merge' to merge into whatever it holds", value);
}

/**
 * Refuses, unless `mode` is `'merge'`, a target holding an unfinished other restore (its
 * partial-restore marker names another backup id, manifest checksum, kind of restore, stream
 * position or target time; `sameRestore`), or an unfinished restore into an overlapping scope
 * (a Redis prefix inside or around this one: `overlappingMarkers`, whichever restore), or holding data
 * where a restore of `names` (backed-up collection names; a Redis target looks at its prefix or
 * database) would write — except when the marker there is of this very backup (`restoring`):
 * restoring it again completes it. Writes nothing.
 * @param restoring which restore this is (`RestoreIdentity`), compared with the marker's
 * @param what the restore, named in the error (`backup <id>`, `stream <name>`)
 * @throws {RestoreTargetPartialError} the marker is another restore's, or an overlapping scope holds one, and `mode` is `'refuse'` (whatever the data)
 * @throws {RestoreTargetNotEmptyError} the target holds data and `mode` is `'refuse'`
 * @throws {ConfigurationError} `mode` is `'refuse'` and the target has no `heldData`
 */
export async function refuseNotEmpty(target: RestoreTarget, names: string[], mode: IfTargetNotEmpty, restoring: RestoreIdentity, what: string, signal?: AbortSignal): Promise<void> {
  if (mode === 'merge') return;
  // Checked with the options already (`ifTargetNotEmptyOption`); never merged into unchecked.
  if (typeof target.heldData !== 'function') cannotSay('restore', 'refuse');
  const { held, marker, where } = await beforeWriting('restore: reading what the target holds', async () => {
    // The marker first: another restore's is refused even where this restore's names hold nothing
    // (the earlier restore may have written other collections; completing this one would remove
    // the only sign of them).
    const marker = await target.lock?.readMarker(signal);
    if (marker && !sameRestore(marker, restoring)) return { held: [], marker, where: undefined };
    // An unfinished restore into an overlapping scope (a Redis prefix inside or around this one)
    // left data where this one writes, whichever backup it was of: this restore does not complete it.
    const other = (await target.lock?.overlappingMarkers?.(signal))?.[0];
    if (other) return { held: [], marker: other.marker, where: other.where };
    return { held: marker ? [] : await target.heldData!(names, signal), marker: undefined, where: undefined };
  }, signal);
  if (marker) throw partial(target, marker, what, where);
  if (held.length === 0) return;
  throw new RestoreTargetNotEmptyError(
    `the restore target is not empty: ${held.map((h) => `${h.where} holds ${h.count}`).join('; ')}. A restore of ${what} into it would merge with that data (records the backup has replaced, the others kept); nothing was written. Restore into an empty target, empty it first, or pass ifTargetNotEmpty: 'merge' to merge`,
    held.map((h) => ({ key: h.where, message: `holds ${h.count}; expected empty (ifTargetNotEmpty: 'refuse')` })),
  );
}

/**
 * `refuseNotEmpty` twice: now (fails fast, before the backup is read) and again once `lock` is
 * held, before the first write (`TargetLock.whenTaken`) — two restores started at once into one
 * empty target both pass the first check; the second to hold the lock then finds what the
 * first wrote, and is refused rather than merged into it.
 * @throws {RestoreTargetNotEmptyError} the target holds data and `mode` is `'refuse'` (now, or from `lock.take`)
 * @throws {ConfigurationError} `mode` is `'refuse'` and the target has no `heldData`
 */
export async function refuseNotEmptyNowAndLocked(lock: TargetLock, target: RestoreTarget, names: string[], mode: IfTargetNotEmpty, restoring: RestoreIdentity, what: string, signal?: AbortSignal): Promise<void> {
  await refuseNotEmpty(target, names, mode, restoring, what, signal);
  if (mode === 'refuse') lock.whenTaken((locked) => refuseNotEmpty(target, names, mode, restoring, what, locked));
}

/**
 * The `RestoreTargetPartialError` of a target whose marker (`marker`) is another restore's than
 * `what`; `overlapping` names where the marker of an overlapping scope is (its own when absent).
 */
function partial(target: RestoreTarget, marker: RestoreMarker, what: string, overlapping?: string): RestoreTargetPartialError {
  const where = overlapping ?? target.lock?.markerWhere ?? 'its partial-restore marker';
  const earlier = describeRestore(marker);
  const scope = overlapping === undefined ? '' : ` into an overlapping keyPrefix (its marker is ${overlapping})`;
  return new RestoreTargetPartialError(
    `the restore target holds part of an earlier restore of ${earlier}${scope} (started ${marker.startedAt}) that did not finish; a restore of ${what} into it would mix the two, so nothing was written. Repeat that restore${overlapping === undefined ? '' : ' into its own keyPrefix'} to complete it, or clear the target (empty what that restore wrote, then remove ${where}), or pass ifTargetNotEmpty: 'merge' to merge into it`,
    marker,
    [{ key: marker.backupId, message: `unfinished restore${scope} started ${marker.startedAt}; expected none or one of ${what} (ifTargetNotEmpty: 'refuse')` }],
  );
}
