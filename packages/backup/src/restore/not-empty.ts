/**
 * A restore into a target that already holds data: refused by default (`ifTargetNotEmpty:
 * 'refuse'`, `RestoreTargetNotEmptyError`, before anything is written), merged when asked
 * (`'merge'`: records the backup has replace the target's by `_id` or key; the others stay, with
 * a warning). A target holding only what an earlier restore that did not finish wrote (its
 * partial-restore marker is there) is not refused: restoring again is how such a restore is
 * completed.
 */
import { oneOfOption } from '@steadyfn/handler/internal';
import { RestoreTargetNotEmptyError, beforeWriting } from '../errors.js';
import type { RestoreTarget } from './targets.js';

/** What a restore does with a target that already holds data: see `RestoreOptions.ifTargetNotEmpty`. */
export type IfTargetNotEmpty = 'refuse' | 'merge';

/**
 * The `ifTargetNotEmpty` option of `owner`, checked.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `ifTargetNotEmpty`: not `'refuse'` or `'merge'`
 */
export function ifTargetNotEmptyOption(owner: string, value: unknown): IfTargetNotEmpty {
  return oneOfOption(owner, 'ifTargetNotEmpty', value, ['refuse', 'merge'] as const, 'refuse');
}

/**
 * Refuses a target holding data where a restore of `names` (backed-up collection names; a
 * Redis target looks at its prefix or database) would write, unless `mode` is `'merge'` or an
 * earlier restore's partial-restore marker is there. Writes nothing.
 * @param what the restore, named in the error (`backup <id>`, `stream <name>`)
 * @throws {RestoreTargetNotEmptyError} the target holds data and `mode` is `'refuse'`
 */
export async function refuseNotEmpty(target: RestoreTarget, names: string[], mode: IfTargetNotEmpty, what: string, signal?: AbortSignal): Promise<void> {
  if (mode === 'merge' || !target.heldData) return;
  const held = await beforeWriting('restore: reading what the target holds', async () => {
    const found = await target.heldData!(names, signal);
    return found.length > 0 && (await target.lock?.readMarker(signal)) ? [] : found;
  }, signal);
  if (held.length === 0) return;
  throw new RestoreTargetNotEmptyError(
    `the restore target is not empty: ${held.map((h) => `${h.where} holds ${h.count}`).join('; ')}. A restore of ${what} into it would merge with that data (records the backup has replaced, the others kept); nothing was written. Restore into an empty target, empty it first, or pass ifTargetNotEmpty: 'merge' to merge`,
    held.map((h) => ({ key: h.where, message: `holds ${h.count}; expected empty (ifTargetNotEmpty: 'refuse')` })),
  );
}
