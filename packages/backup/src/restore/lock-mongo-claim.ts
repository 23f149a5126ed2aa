/**
 * The MongoDB restore lock's claims and reads across the drop of its collection.
 *
 * A restore that completes while it holds the lock drops the lock's collection
 * (`steadyfn_restore_lock`, lock.ts `removeLock`) while other restores may be claiming it. On
 * MongoDB a request racing the drop either meets the old collection or a new one, created with
 * its unique `_id` index in one step. FerretDB 1.24 (SQLite backend) does less:
 *
 * - it answers some requests racing the drop with an internal error (code 1, `no such table`, a
 *   failed implicit `collectionCreate`), or closes the connection (`MongoNetworkError … closed`),
 *   and the lease store's start-up probe, which inserts into the same collection, may find no
 *   verdict (`LEASE_STORE_UNAVAILABLE`). None says the target is down: the restore that dropped
 *   it just completed. Such a claim or read is sent again (up to `DROP_RACE_ATTEMPTS` in all);
 *   then it answers as the lock stands — held (`RESTORE_TARGET_BUSY`) or taken;
 * - it re-creates a dropped collection implicitly: the table first, its unique `_id` index
 *   after. An insert that looked the table up before the drop can land in between, so two such
 *   inserts of one generation can both succeed (FerretDB then fails the index, drops the
 *   collection again and a third insert re-creates it). So a claim counts only once a read made
 *   after it shows its own generation as the live lock: that read waits for a creation in
 *   progress (FerretDB's registry lock), so it sees the collection as the creation left it —
 *   with the unique index, holding at most this claim's document, or dropped again. A claim
 *   whose generation the read does not show as its own is void (nothing of it to give back: it
 *   is not the top of the lock) and is sent again, meeting the lock as it stands.
 *
 * A read showing the lock held by this claim's own owner (an earlier send of this claim landed
 * and its reply was lost with the closed connection) is this claim's: its generation is taken.
 */
import type { ClaimRequest, ClaimResult, LeaseRecord, LeaseStore } from '@steadyfn/lease';
import { PROBE_NO_VERDICT } from '@steadyfn/lease/internal';

/** How many times a claim (or a read) that met the lock's collection being dropped is sent in all. */
export const DROP_RACE_ATTEMPTS = 6;
/** The longest pause (ms, random from a tenth of it) before a claim or read is sent again: the drop and re-creation settle. */
const DROP_RACE_PAUSE_MS = 100;

const pause = (signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, DROP_RACE_PAUSE_MS * (0.1 + 0.9 * Math.random()));
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Whether `error` (or one of its causes) is what FerretDB answers a request racing the drop of
 * the collection it reads or writes: an internal error naming the missing table or the failed
 * implicit creation, a connection the server closed (not a timeout: a server that cannot be
 * reached is not asked again), or the lease store's probe finding no verdict as the collection
 * was dropped under each of its rounds (its `code` `PROBE_NO_VERDICT`).
 */
export function droppedUnderRequest(error: unknown): boolean {
  for (let e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && typeof e === 'object' && depth < 5; e = e.cause as typeof e, depth++) {
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.code === 1 && /no such table|collectionCreate/.test(message)) return true;
    if (e.name === 'MongoNetworkError' && /\bclosed\b/.test(message) && !/timed out/i.test(message)) return true;
    if (e.code === PROBE_NO_VERDICT) return true;
  }
  return false;
}

/** `call`, sent again (up to `DROP_RACE_ATTEMPTS` in all) while it meets the lock's collection being dropped (`droppedUnderRequest`); any other outcome is its own. */
export async function acrossDrop<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= DROP_RACE_ATTEMPTS || signal?.aborted || !droppedUnderRequest(error)) throw error;
      await pause(signal);
    }
  }
}

/**
 * `store` (a `mongoLeaseStore` on the restore lock's collection) whose `claim` and `get` hold
 * across the drop of that collection (see above); its other calls are the store's.
 */
export function claimsAcrossDrop(store: LeaseStore): LeaseStore {
  const get = (key: string, options?: { signal?: AbortSignal }): Promise<LeaseRecord | undefined> => acrossDrop(() => store.get(key, options), options?.signal);
  const claim = async (request: ClaimRequest, options?: { signal?: AbortSignal }): Promise<ClaimResult> => {
    const signal = options?.signal;
    for (let attempt = 1; ; attempt++) {
      const claimed = await acrossDrop(() => store.claim(request, options), signal);
      // Taken, or shown held by this claim's own owner (an earlier send landed): this claim's generation.
      const own = claimed.claimed ? claimed.fence : claimed.record.state === 'held' && claimed.record.owner === request.owner ? claimed.record.fence : undefined;
      if (own === undefined) return claimed;
      // It counts once a later read shows it as the live lock.
      const now = await get(request.key, options);
      if (now?.state === 'held' && now.owner === request.owner && now.fence === own) return claimed.claimed ? claimed : { claimed: true, fence: own, expiresAt: now.expiresAt };
      // Void: another insert of the generation won (held: busy), or FerretDB dropped the collection again (claim anew).
      if (now?.state === 'held') return { claimed: false, record: now };
      if (attempt >= DROP_RACE_ATTEMPTS) return { claimed: false, record: now ?? { state: 'held', fence: own, owner: '', expiresAt: Date.now() + DROP_RACE_PAUSE_MS } };
      await pause(signal);
    }
  };
  return { ...store, claim, get } as LeaseStore;
}
