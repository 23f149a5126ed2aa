/**
 * `restoreStatus()`: what a restore target says of its last restore, from its restore lock and
 * partial-restore marker (lock-places.ts), never its data.
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { beforeWriting } from '../errors.js';
import { busy } from './lock-places.js';
import type { LeaseRecord } from '@steadyfn/lease';
import type { RestoreMarker, RestoreTarget } from './targets.js';

/** What `restoreStatus()` found in a target. */
export interface RestoreStatus {
  /** No restore is running and none left its marker, here or in an overlapping scope: the last restore into the target (if any) completed. */
  complete: boolean;
  /**
   * The restore into this target that started writing and has not completed (it is running,
   * failed or was killed): the target's own marker. See also `overlapping`.
   */
  incomplete?: RestoreMarker;
  /**
   * Unfinished restores into an overlapping scope (a Redis `keyPrefix` inside or around this
   * one): each wrote part of its data where this target would, and refuses a restore here
   * (`RestoreTargetPartialError`) as the target's own marker does. Each with where its marker
   * is (`the key …`). Absent when none.
   */
  overlapping?: Array<{ marker: RestoreMarker; where: string }>;
  /**
   * The restore holding the target's lock now, and until when (ISO; renewed while it writes) —
   * or, when the target's own lock is free, one holding the lock of an overlapping scope (a
   * Redis `keyPrefix` inside or around this one), which writes where this target would and
   * refuses a restore into it (`RestoreTargetBusyError`).
   */
  locked?: { backupId?: string; until: string };
}

/**
 * Whether a restore target holds a complete restore: reads its restore lock and its
 * partial-restore marker (never the data), and (Redis) those of overlapping key prefixes: an
 * unfinished restore there wrote part of its data here too (`overlapping`). `complete: false` with `incomplete` and no
 * `locked`: a restore of that backup died or failed while writing — the target holds part of
 * it; restore again. With `locked`: a restore is writing now. Writes nothing to the target's
 * data (on MongoDB, where the lock collection exists, the lease store's first read probes that
 * collection with a few inserts it removes again).
 *
 * @example
 * const status = await restoreStatus(mongoTarget({ db }));
 * if (!status.complete) console.warn('restore of', status.incomplete?.backupId, 'not finished');
 * @throws {ConfigurationError} a target without a lock place (not `mongoTarget` / `redisTarget`)
 * @throws {RestoreTargetUnavailableError | RestoreTargetRefusedError} the target could not be read
 */
export async function restoreStatus(target: RestoreTarget, ctx: { signal?: AbortSignal } = {}): Promise<RestoreStatus> {
  const place = target?.lock;
  if (!place) invalidOption('restoreStatus', 'target', 'a restore target (mongoTarget(...) or redisTarget(...))', target);
  return beforeWriting(
    'restoreStatus: reading the target',
    async () => {
      // The target's own lock, else a held lock of an overlapping scope (a Redis prefix inside or
      // around this one): a restore there writes keys here too, and refuses a restore here.
      const readLock = async (): Promise<LeaseRecord | undefined> => {
        const own = await place.readLock(ctx.signal);
        return own?.state === 'held' ? own : ((await place.heldOverlapping?.(ctx.signal)) ?? own);
      };
      const first = await readLock();
      const own = await place.readMarker(ctx.signal);
      const overlapping = (await place.overlappingMarkers?.(ctx.signal)) ?? [];
      const incomplete = own;
      // Read again after the markers: a restore that took the lock and wrote its marker in
      // between is reported as running, not as died.
      const record = first?.state === 'held' || (!incomplete && overlapping.length === 0) ? first : await readLock();
      let locked: RestoreStatus['locked'];
      if (record?.state === 'held') {
        const held = busy(record);
        locked = { ...(held.heldFor ? { backupId: held.heldFor } : {}), until: new Date(record.expiresAt).toISOString() };
      }
      return { complete: !incomplete && overlapping.length === 0 && !locked, ...(incomplete ? { incomplete } : {}), ...(overlapping.length > 0 ? { overlapping } : {}), ...(locked ? { locked } : {}) };
    },
    ctx.signal,
  );
}
