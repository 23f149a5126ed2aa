/**
 * The MongoDB-wire store's change rounds — a settle or a renewal: insert generation n + 1 of
 * each key whose top generation is still the caller's n, held by its owner; without a read
 * when this store granted n moments ago (`grantMemory`), else after one.
 */
import type { Attempt, Below, Change, StoreContext, Written } from './mongodb-context.js';
import type { LeaseDocument } from './mongodb-docs.js';
import { checkRefused } from './mongodb-read.js';
import { SEND_WINDOW_MS } from './mongodb-timing.js';
import type { MongoCallOptions } from './mongodb-types.js';

/**
 * Writes generation n + 1 of each key whose top generation is still `fence` = n, held by
 * `owner` (a settle or a renewal), in one insert, without a read, when this store made
 * generation n itself less than FAST_SETTLE_MS ago: it wrote generation n (immutable) for
 * this owner, so only whether n + 1 exists is in question, and no generation n + 1 written
 * since can have been deleted yet. Otherwise it reads the key first (by `_id` from
 * generation n when that is young). Resolves, per request, to the generation written and
 * when it was sent, `true` when the key's top generation already is n + 1 as `applied` judges
 * it (this very change, its earlier send landed and its reply was lost), or undefined. That is
 * judged on the read, and again on an insert refused as a duplicate `_id` (the generation read
 * back): an earlier send still on its way when the read ran may land just before this insert.
 * @throws LeaseRecordUnreadableError (`collection`) when the `_id` of generation n + 1 is taken
 *   by a document that is not that generation of the key (another program's: no read of the key
 *   finds it, and no insert gets past it) — after every insert of the batch has been answered.
 */
export async function changeBatch<R extends Change>(
  ctx: StoreContext,
  requests: R[],
  next: (r: R, below: Below, serverNow: number) => LeaseDocument,
  options: MongoCallOptions | undefined,
  applied?: (r: R, top: LeaseDocument) => boolean,
): Promise<Array<Written | true | undefined>> {
  const { ready, reader, walkRule, young, actionable, clock, write, grants } = ctx;
  if (requests.length === 0) return [];
  const { col, probed } = await ready(options?.signal);
  const results: Array<Written | true | undefined> = requests.map(() => undefined);
  const writeAll = async (attempts: Attempt[], now: number): Promise<void> => {
    const sentAt = performance.now();
    const sentAtLocal = Date.now();
    const refused: Array<{ key: string; g: number; index: number }> = [];
    (await write(col, probed, attempts, now, options)).forEach((ok, j) => {
      const { doc, index } = attempts[j]!;
      if (ok) results[index] = { doc, sentAt, sentAtLocal };
      else refused.push({ key: doc.k, g: doc.g, index });
    });
    if (refused.length === 0) return;
    // A refused `_id` is normally a racer's generation n + 1 (a takeover: answered "not held");
    // one that is not generation n + 1 of the key is another program's, and a terminal fault.
    const found = await checkRefused(col, refused, options);
    // Or this very change's earlier send, landed after the read (or, without one, after its
    // grant): what the read would have answered `true` for, answered `true` here too.
    if (applied) {
      refused.forEach(({ index }, j) => {
        const doc = found[j];
        if (doc !== undefined && applied(requests[index]!, doc)) results[index] = true;
      });
    }
  };
  const fast: Attempt[] = [];
  let pending: number[] = [];
  const now0 = clock.now();
  requests.forEach((r, index) => {
    const grant = grants.take(r.key, r.owner, r.fence);
    if (grant) fast.push({ index, doc: next(r, { g: r.fence, p: grant.p, ...(grant.d === undefined ? {} : { d: grant.d }) }, now0), seen: [] });
    else pending.push(index);
  });
  if (fast.length > 0) await writeAll(fast, now0);
  // A second round only when the first read got too old before the insert could be sent.
  for (let round = 0; round < 2 && pending.length > 0; round++) {
    const readAt = performance.now();
    const readNow = clock.now();
    const starts = new Map(pending.map((i) => [requests[i]!.key, requests[i]!.fence]));
    const found = await reader.locate(col, pending.map((i) => requests[i]!.key), options, walkRule(probed, readNow, (top) => young(top, readNow)), starts);
    const now = clock.now();
    const attempts: Attempt[] = [];
    for (const index of pending) {
      const r = requests[index]!;
      const { top, seen } = found.get(r.key)!;
      if (top && applied && top.g === r.fence + 1 && applied(r, top)) {
        results[index] = true;
        continue;
      }
      // Still ours: the top generation is the caller's, held by its owner, and not about to be purged.
      if (!top || top.g !== r.fence || top.s !== 'h' || top.o !== r.owner || !actionable(top, now)) continue;
      attempts.push({ index, doc: next(r, { g: top.g, p: top.p.getTime(), ...(top.d === undefined ? {} : { d: top.d }) }, now), seen });
    }
    if (attempts.length > 0 && performance.now() - readAt > SEND_WINDOW_MS) {
      pending = attempts.map((a) => a.index);
      continue;
    }
    if (attempts.length > 0) await writeAll(attempts, now);
    pending = [];
  }
  return results;
}
