/**
 * The restore target lock and the partial-restore marker, both kept in the target itself so two
 * restores into one target exclude each other whatever bucket they read:
 *
 * - the lock: a `@steadyfn/lease` lease (MongoDB: `mongoLeaseStore` on the collection
 *   `steadyfn_restore_lock`; Redis: `redisLeaseStore`, the key
 *   `steadyfn:restore-lock:<keyPrefix>`, which also excludes the held lock of any overlapping
 *   prefix: `announce` / `heldOverlapping`), taken after the backup was checked and before the first
 *   write, renewed every third of `lockMs` while the restore writes, released when it ends
 *   (completed or failed). A killed restore's lock runs out after `lockMs`. On MongoDB a
 *   restore that ends while safely holding the lock drops the lock's collection instead of
 *   releasing it (`removable` below), so the target keeps no collection of steadyfn's; other
 *   restores' claims hold across that drop (lock-mongo-claim.ts).
 * - the marker (MongoDB: the one document of `steadyfn_restore_marker`, the collection dropped
 *   when it is removed; Redis: the key
 *   `steadyfn:restore-marker:<keyPrefix>`): written once the lock is held, before the first
 *   write, and removed only when a restore completes (after a fresh renewal confirmed its lock,
 *   and only if the marker is still its own) — so a killed or failed restore leaves it, and the
 *   next restore reports it and replaces it with its own. It names the backup (id and manifest
 *   checksum): a restore of another backup into a target holding one is refused unless told to
 *   merge (not-empty.ts, `RestoreTargetPartialError`). A renewal that fails is retried until
 *   the lock may have run out; then the restore counts it as lost (`FencedError`).
 *
 * Where each target keeps them: lock-places.ts; `restoreStatus` reads them (restore-status.ts).
 * The `lockMs` option: lock-options.ts; the signal of the writes: lock-write-signal.ts; when the
 * lock's records may be dropped at the end: lock-drop.ts.
 */
import { RestoreApplyError, FencedError, beforeWriting, describeError, targetUnreachable } from '../errors.js';
import { holdLease, type JobLease } from '../job-lease.js';
import { dropLock, lockRemovable } from './lock-drop.js';
import { busy, describeRestore, markerJson, markerOf } from './lock-places.js';
import { lockWriteSignal } from './lock-write-signal.js';
import type { RestoreIdentity, RestoreLockPlace, RestoreMarker, RestoreTarget } from './targets.js';

export { DEFAULT_LOCK_MS, lockMsOption } from './lock-options.js';

/** A target's lock for one restore: taken once, before the first write; ended by the caller. */
export class TargetLock {
  private held: JobLease | undefined;
  private marker: RestoreMarker | undefined;
  /** The generation the claim took (1: the target had no lock record) and when it returned (`performance.now()`). */
  private claimed: { fence: number; at: number } | undefined;
  private readonly place: RestoreLockPlace | undefined;
  /** Aborted (reason: the `FencedError` of `checkHeld`) once the lock is lost; watched while it is held. */
  private readonly lost = new AbortController();
  private watch: ReturnType<typeof setInterval> | undefined;
  /** Checks `take` runs once the lock is held, before the marker is written (`whenTaken`). */
  private readonly onTaken: Array<(signal?: AbortSignal) => Promise<void>> = [];

  constructor(
    target: RestoreTarget,
    private readonly lockMs: number,
  ) {
    this.place = target.lock;
  }

  /**
   * Has `take` run `check` once the lock is held, before the marker is written: a check whose
   * answer another restore could change until then (whether the target is empty,
   * `refuseNotEmpty`) is decided where no other restore can write. A `check` that throws ends
   * the lock (nothing written) and `take` rethrows it. For a target without a lock place,
   * `take` runs them right away (no lock is taken).
   */
  whenTaken(check: (signal?: AbortSignal) => Promise<void>): void {
    this.onTaken.push(check);
  }

  /**
   * Takes the lock, runs the `whenTaken` checks and writes the marker (nothing else is written
   * before). Resolves to the warnings of an earlier restore that did not finish.
   * @param restoring which restore (`RestoreIdentity`: backup id or `stream <name>`, manifest self-checksum, kind, stream, timeline, `until`), or a bare backup id: written into the marker
   * @throws {RestoreTargetBusyError} another restore holds the target, or an overlapping one (a Redis prefix inside or around this one)
   * @throws what a `whenTaken` check throws (`RestoreTargetNotEmptyError`, `RestoreTargetPartialError`, `IndexConflictError`), the lock ended
   */
  async take(restoring: string | RestoreIdentity, signal?: AbortSignal): Promise<string[]> {
    const place = this.place;
    if (this.held) return [];
    if (!place) {
      for (const check of this.onTaken) await check(signal);
      return [];
    }
    const identity: RestoreIdentity = typeof restoring === 'string' ? { backupId: restoring } : restoring;
    const { backupId } = identity;
    const startedAt = new Date().toISOString();
    const marker: RestoreMarker = markerOf({ ...identity, startedAt })!;
    // A refused or failed claim (no insert rights, NOPERM) is the target's error, typed as such.
    this.held = await beforeWriting(
      'restore: locking the target',
      async () => {
        await place.announce?.(signal);
        return holdLease(await place.leases(), { key: place.key, label: 'the restore target', leaseMs: this.lockMs, data: markerJson({ backupId, startedAt }) }, signal, (record) => busy(record), true);
      },
      signal,
    );
    this.marker = marker;
    this.claimed = { fence: this.held.fence(), at: performance.now() };
    // A write batch in flight when the lock is lost settles; none starts after (`writeSignal`).
    // The backstop of the check each write signal makes when a target asks it before a batch.
    this.watch = setInterval(() => this.watchHeld(), Math.min(1000, Math.max(50, Math.floor(this.lockMs / 20))));
    this.watch.unref?.();
    try {
      // Held: a restore into an overlapping scope (a Redis prefix inside or around this one) excludes this one too.
      const overlapping = await beforeWriting('restore: reading overlapping locks', async () => place.heldOverlapping?.(signal), signal);
      if (overlapping) throw busy(overlapping);
      for (const check of this.onTaken) await check(signal);
      return await beforeWriting(
        'restore: marking the target',
        async () => {
          const earlier = await place.readMarker(signal);
          await place.writeMarker(marker, signal);
          return earlier ? [`the previous restore into this target (${describeRestore(earlier)}, started ${earlier.startedAt}) did not finish: the target held part of it before this restore`] : [];
        },
        signal,
      );
    } catch (error) {
      await this.end(false, error);
      throw error;
    }
  }

  /**
   * Fails fast, before the backup is read, when another restore holds the target now, or an
   * overlapping one (a cheap read; the claim in `take` still decides).
   * @throws {RestoreTargetBusyError} another restore holds the target or an overlapping one
   * @throws {RestoreTargetUnavailableError | RestoreTargetRefusedError} the lock could not be read
   */
  async checkFree(signal?: AbortSignal): Promise<void> {
    const place = this.place;
    if (!place) return;
    const record = await beforeWriting('restore: reading the target lock', async () => {
      const own = await place.readLock(signal);
      return own?.state === 'held' ? own : await place.heldOverlapping?.(signal);
    }, signal);
    if (record?.state === 'held') throw busy(record);
  }

  /** @throws {FencedError} the lock may have run out (renewals failed or the restore was paused past `lockMs`) or another restore took it */
  checkHeld(): void {
    const failure = this.held?.failure();
    if (failure instanceof FencedError) throw new FencedError('restore: this restore lost the target lock (paused past lockMs, or its renewals failed for lockMs) and stopped writing; another restore may hold it. Restore again');
  }

  /** Checks the lock now; once it is lost, aborts `lost` (with the `FencedError` of `checkHeld`) and stops the watch. */
  private watchHeld(): void {
    if (this.lost.signal.aborted) return;
    try {
      this.checkHeld();
    } catch (error) {
      clearInterval(this.watch);
      this.lost.abort(error);
    }
  }

  /**
   * The signal to hand a target's writes (`apply`, `finish`, `applyChanges`, which start no
   * batch once it aborts): aborts when `signal` does, or with the `FencedError` of `checkHeld`
   * once the lock may have run out or a renewal found it taken — so a restore that lost its
   * lock stops before its next write batch, not only between the batches its caller hands over.
   *
   * Its `throwIfAborted()` and `aborted` check the lock first (no I/O: the lease's clock), so a
   * target that asks before each batch (as `mongoTarget` and `redisTarget` do) sees a lock that
   * ran out while the process was frozen (a Lambda freeze, a long GC pause) at once: after a
   * freeze the I/O callback of the last write runs before any timer. A watch timer (every
   * twentieth of `lockMs`, 50 ms to 1 s) aborts it as well, for listeners of its `abort` event.
   */
  writeSignal(signal?: AbortSignal): AbortSignal {
    return lockWriteSignal(this.lost.signal, () => this.watchHeld(), signal);
  }

  /**
   * Ends the lock: a completed restore removes the marker first. A failed one leaves the
   * marker; releasing its lock is best effort (it runs out by itself). Either way, where the
   * target can remove its lock records (MongoDB) and that is safe (`removable`), the lock's
   * collection is dropped instead of the lock being released — except after a restore that
   * failed because the target could not be reached (`failure`: `targetUnreachable`), which
   * only releases (best effort), so it waits for one driver timeout, not two.
   * @param failure what the failed restore threw (unused when `completed`)
   * @throws {RestoreApplyError} the marker of a completed restore could not be removed (the data is written; restore again to clear it)
   */
  async end(completed: boolean, failure?: unknown): Promise<void> {
    clearInterval(this.watch);
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    if (!completed) {
      // Only where the lock could be dropped: a fresh renewal gives the drop its margin; a failed one just releases (best effort).
      if (!targetUnreachable(failure) && this.removable(Date.now())) {
        const asked = Date.now();
        const renewed = await held.renewNow().then(
          () => true,
          () => false,
        );
        if (renewed && (await this.removeLock(held, asked))) return;
      }
      await held.release().catch(() => undefined);
      return;
    }
    const asked = Date.now();
    // A fresh renewal, not a cached flag: a restore that lost its lock leaves the marker.
    try {
      await held.renewNow();
    } catch (error) {
      await held.abandon();
      if (error instanceof FencedError) throw new FencedError('restore: this restore lost the target lock before it completed (paused past lockMs, or its renewals failed); its marker stays. Restore again');
      throw new RestoreApplyError(`the restore was written but its lock could not be confirmed (${describeError(error)}), so its partial-restore marker stays; restore again`, error);
    }
    try {
      await this.place!.clearMarker(this.marker!);
    } catch (error) {
      await held.release().catch(() => undefined);
      throw new RestoreApplyError(`the restore was written but its partial-restore marker could not be removed (${describeError(error)}); restore again`, error);
    }
    if (await this.removeLock(held, asked)) return;
    await held.release();
  }

  /** Whether dropping the lock's records now cannot take the lock from another restore (lock-drop.ts, `lockRemovable`). */
  private removable(renewedAsked: number): boolean {
    return lockRemovable(this.claimed, this.place, this.lockMs, renewedAsked);
  }

  /** Drops the lock's records when `removable`; false (nothing dropped, renewals still stopped only on success) otherwise or when the drop fails. */
  private removeLock(held: JobLease, renewedAsked: number): Promise<boolean> {
    return dropLock(held, this.place, () => this.removable(renewedAsked));
  }
}

/**
 * Runs `write` — a restore's checks that end in its first write, and the writes — under a
 * `TargetLock` on `target`, and ends the lock however `write` ends: `end(true)` once it
 * resolved (a completed restore removes its marker), `end(false, error)` when it threw (the
 * marker stays; the error is rethrown). `write` takes the lock itself (`lock.take`) before its
 * first write, and checks it (`lock.checkHeld`) as it goes. Shared by `restore`,
 * `pointInTimeRestore` and `restoreStream`.
 * @param lockMs how long the lock runs without a renewal (ms; `lockMsOption`)
 * @throws what `write` throws; else what `TargetLock.end` throws for a completed restore (`FencedError`, `RestoreApplyError`)
 */
export async function withRestoreLock<T>(target: RestoreTarget, lockMs: number, write: (lock: TargetLock) => Promise<T>): Promise<T> {
  const lock = new TargetLock(target, lockMs);
  let completed = false;
  let failure: unknown;
  try {
    const result = await write(lock);
    completed = true;
    return result;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await lock.end(completed, failure);
  }
}
