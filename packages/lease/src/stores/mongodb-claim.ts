/**
 * The MongoDB-wire store's claim rounds: read the keys' top generations, and insert generation
 * n + 1 where the top one is absent, released or expired; a key that lost (a duplicate `_id`)
 * is read again, up to `MAX_ROUNDS`. A refused `_id` that no read of its key shows is checked
 * (`checkRefused`): another program's document there is `LeaseRecordUnreadableError`, not a
 * racer to wait for.
 *
 * An insert answered more than `DELIVERY_MS` after it was sent (a frozen process, a stalled
 * link), or whose lease has already ended when it is answered, is not reported: the timing rules
 * (`mongodb-timing.ts`) assume a request reaches the server within `DELIVERY_MS`, so a later one
 * may have won a generation that existed before. It is given back (released, as a failed claim's
 * keys are: `give-back.ts`) and its key read again.
 */
import { raceSignal as abortable } from '@steadyfn/handler/internal';
import type { ClaimRequest, ClaimResult } from '../types.js';
import { giveBack } from './give-back.js';
import { changeBatch } from './mongodb-change.js';
import type { Attempt, Change, StoreContext } from './mongodb-context.js';
import { nextGeneration, settledAs, successor } from './mongodb-docs.js';
import { checkRefused } from './mongodb-read.js';
import { DELIVERY_MS, SEND_WINDOW_MS } from './mongodb-timing.js';
import type { MongoCallOptions } from './mongodb-types.js';
import { typedCall } from './store-unavailable.js';

/**
 * The late-insert rule's bound (see the module comment), in milliseconds: `DELIVERY_MS` (20 s).
 * Mutable for tests only, which cannot hold an insert that long.
 */
export const claimTiming = { deliveryMs: DELIVERY_MS };

/**
 * Releases generations this claim inserted but must not report (answered late): bounded, with
 * no caller's signal (`give-back.ts`). Inside a transaction nothing is given back here (a call
 * outside it cannot see its inserts; its abort undoes them).
 */
async function giveBackLate(ctx: StoreContext, late: Change[]): Promise<void> {
  await giveBack((signal) => typedCall('mongodb', undefined, () => changeBatch(ctx, late, (r, below, now) => successor(r, below.g, below.p, now), { signal }, settledAs)));
}

/** Read-and-insert rounds before a contended key is reported as held. */
const MAX_ROUNDS = 4;

/** What a claim reports when it cannot decide yet: held, by nobody known, for a moment. */
function undecided(fence: number): ClaimResult {
  return { claimed: false, record: { state: 'held', fence, owner: '', expiresAt: Date.now() + 1000 } };
}

/** The rounds of `claimBatch`; `taken` collects every generation sent and not refused as a duplicate. */
export async function claimRounds(ctx: StoreContext, requests: ClaimRequest[], taken: Change[], options: MongoCallOptions | undefined): Promise<ClaimResult[]> {
  const { ready, reader, walkRule, live, young, actionable, purgeable, clock, retainMs, write, grants } = ctx;
  const { col, probed } = await ready(options?.signal);
  const results = new Array<ClaimResult | undefined>(requests.length);
  const lastFence = new Array<number>(requests.length).fill(0);
  let pending = requests.map((_, i) => i);
  // The generation each request's last insert was refused for as a duplicate.
  const refused = new Map<number, number>();
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const readAt = performance.now();
    const readNow = clock.now();
    // A top found by `_id` settles a claim when it is live (report it) or young (build on it).
    const found = await reader.locate(col, pending.map((i) => requests[i]!.key), options, walkRule(probed, readNow, (top) => live(top, readNow) !== undefined || young(top, readNow)));
    // A refused `_id` the read does not show: a racer's, or another program's document (throws).
    const unseen = pending.filter((i) => (refused.get(i) ?? 0) > (found.get(requests[i]!.key)!.top?.g ?? 0));
    if (unseen.length > 0) await checkRefused(col, unseen.map((i) => ({ key: requests[i]!.key, g: refused.get(i)! })), options);
    const now = clock.now();
    const next: number[] = [];
    const purge: string[] = [];
    const attempts: Attempt[] = [];
    for (const index of pending) {
      const r = requests[index]!;
      const { top, seen } = found.get(r.key)!;
      lastFence[index] = top?.g ?? 0;
      const record = live(top, now);
      if (record) {
        results[index] = { claimed: false, record };
      } else if (!actionable(top, now)) {
        if (purgeable(top!, now)) {
          purge.push(r.key);
          next.push(index);
        } else results[index] = undecided(top!.g);
      } else {
        // The lease ends no sooner than leaseMs by the server's true clock, whatever our estimate's error.
        const end = now + clock.uncertaintyMs() + r.leaseMs;
        const fields = r.data === undefined ? { s: 'h' as const, o: r.owner } : { s: 'h' as const, o: r.owner, d: r.data };
        attempts.push({ index, doc: nextGeneration(r.key, top?.g ?? 0, top?.p.getTime() ?? 0, fields, end, now), seen });
      }
    }
    if (purge.length > 0) {
      // Whole records past their retention: what the TTL index would delete.
      await abortable(col.deleteMany({ k: { $in: purge }, p: { $lt: new Date(now - clock.uncertaintyMs() - retainMs) } }, options?.session ? { session: options.session } : {}), options?.signal);
    }
    if (attempts.length > 0 && performance.now() - readAt > SEND_WINDOW_MS) {
      // The read is too old to build on: read again.
      next.push(...attempts.map((a) => a.index));
    } else if (attempts.length > 0) {
      const sentAt = performance.now();
      const sentAtLocal = Date.now();
      const sent = attempts.map((a) => ({ key: a.doc.k, owner: a.doc.o!, fence: a.doc.g }));
      taken.push(...sent);
      const inserted = await write(col, probed, attempts, now, options);
      // Refused as duplicates: another's generation, nothing to give back.
      taken.splice(taken.length - sent.length, sent.length, ...sent.filter((_, j) => inserted[j]));
      const answeredLate = performance.now() - sentAt > claimTiming.deliveryMs;
      const inTransaction = options?.session?.inTransaction() === true;
      const late: Change[] = [];
      attempts.forEach((a, j) => {
        if (!inserted[j]) {
          refused.set(a.index, a.doc.g);
          return next.push(a.index);
        }
        // For the holder, the lease ends leaseMs after it sent the claim: never later than the store's end.
        const expiresAt = sentAtLocal + requests[a.index]!.leaseMs;
        if (answeredLate || expiresAt <= Date.now()) {
          // Not reported (see the module comment): given back and read again, or undecided in a transaction.
          if (inTransaction) return (results[a.index] = undecided(a.doc.g));
          late.push(sent[j]!);
          return next.push(a.index);
        }
        results[a.index] = { claimed: true, fence: a.doc.g, expiresAt };
        grants.add(a.doc, sentAt);
      });
      if (late.length > 0) await giveBackLate(ctx, late);
    }
    pending = next;
  }
  for (const index of pending) results[index] = undecided(lastFence[index]!);
  return results as ClaimResult[];
}
