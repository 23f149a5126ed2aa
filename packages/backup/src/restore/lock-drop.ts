/**
 * When a restore that ends may drop its target lock's records instead of releasing the lock
 * (MongoDB: the lock's collection, so the target keeps no collection of steadyfn's), and the
 * drop itself (lock.ts, `TargetLock.end`).
 */
import type { JobLease } from '../job-lease.js';
import type { RestoreLockPlace } from './targets.js';
// The lease's MongoDB store's own timing assumptions (not copies): `DELIVERY_MS`, the longest
// delivery of a request it assumes, and `FAST_SETTLE_MS`, how long after its last grant a holder
// inserts its next generation (renewal or settle) without reading first.
import { DELIVERY_MS, FAST_SETTLE_MS } from '@steadyfn/lease/internal';

/**
 * How long an insert of the lock's next generation based on a record older than this
 * restore's claim may still land after the claim returned: a claim sends it within
 * `SEND_WINDOW_MS` (10 s) of its read, and the paused previous holder's no-read renewal within
 * `FAST_SETTLE_MS` (35 s) of its grant, which came before this restore's claim; either is
 * delivered within `DELIVERY_MS` (20 s). After the drop, such an insert would succeed.
 */
const CLAIM_IN_FLIGHT_MS = FAST_SETTLE_MS + DELIVERY_MS;
/** The store's assumed longest delivery of a request (`DELIVERY_MS`): the drop must land while the lock is still held. */
const DROP_DELIVERY_MS = DELIVERY_MS;

/**
 * Whether dropping the lock's records now cannot take the lock from another restore: this
 * restore holds it (renewed at `renewedAsked`, with at least `DROP_DELIVERY_MS` of the lease
 * left, so the drop lands before it could run out and be taken), and no claim that read an
 * older record can still land (its insert would make a lock nobody else sees): either the
 * claim took generation 1 — every claim that found no record tries generation 1, refused
 * while it exists, and after the drop the target is as before that claim — or it returned
 * more than `CLAIM_IN_FLIGHT_MS` (55 s) ago, so neither another claim nor the previous
 * holder's no-read renewal can still land. Otherwise (after a killed or paused restore's
 * stale lock, within 55 s) the lock is released and its collection stays: a later restore drops it (after the
 * store's retention, 1 hour, its claim starts at generation 1 again).
 * @param claimed the generation this restore's claim took and when it returned (`performance.now()`)
 * @param place where the target keeps the lock (without `removeLock`, never)
 * @param lockMs how long the lock runs without a renewal (ms)
 * @param renewedAsked when the last renewal was asked (`Date.now()`)
 */
export function lockRemovable(claimed: { fence: number; at: number } | undefined, place: RestoreLockPlace | undefined, lockMs: number, renewedAsked: number): boolean {
  if (!claimed || !place?.removeLock) return false;
  if (renewedAsked + lockMs - Date.now() < DROP_DELIVERY_MS) return false;
  return claimed.fence === 1 || performance.now() - claimed.at > CLAIM_IN_FLIGHT_MS;
}

/** Drops the lock's records when `removable()`; false (nothing dropped, renewals still stopped only on success) otherwise or when the drop fails. */
export async function dropLock(held: JobLease, place: RestoreLockPlace | undefined, removable: () => boolean): Promise<boolean> {
  if (!removable()) return false;
  await held.abandon();
  // Checked again after the renewal in flight settled: it may have found the lock lost.
  if (held.failure() || !removable()) return false;
  try {
    await place!.removeLock!();
    return true;
  } catch {
    // Not dropped (or unknown): release instead; the records stay, as before.
    return false;
  }
}
