/**
 * The MongoDB-wire lease store's timing rules, and the memory of its own grants that lets a
 * settle or renewal skip its read (`FAST_SETTLE_MS`).
 *
 * The rules that keep an insert from winning a generation that existed before (so exactly
 * one attempt ever holds generation n of a key):
 *   - an insert is sent within SEND_WINDOW_MS of the read it is based on, and is assumed to
 *     reach the server within DELIVERY_MS (ACT_MARGIN_MS = their sum);
 *   - a superseded generation is deleted no sooner than SUPERSEDED_GRACE_MS (> ACT_MARGIN_MS)
 *     after it was written;
 *   - the top generation is deleted (purge, TTL index) no sooner than `retainMs` after it
 *     ended, and nobody builds on a top generation within ACT_MARGIN_MS of that moment.
 */
import type { LeaseDocument } from './mongodb-docs.js';

/** An insert is sent within this long of the read it is based on, or the read is repeated. */
export const SEND_WINDOW_MS = 10_000;
/** Assumed longest time a sent request takes to reach the server. */
export const DELIVERY_MS = 20_000;
/** How long after its read an insert may still reach the server: SEND_WINDOW_MS + DELIVERY_MS. */
export const ACT_MARGIN_MS = SEND_WINDOW_MS + DELIVERY_MS;
/** A superseded generation is kept at least this long after it was written. */
export const SUPERSEDED_GRACE_MS = 60_000;
/**
 * A settle or renewal sent this soon (35 s) after its claim's insert needs no read (see
 * `changeBatch`): the holder inserts its next generation on what it wrote.
 */
export const FAST_SETTLE_MS = SUPERSEDED_GRACE_MS - DELIVERY_MS - 5_000;
/** Smallest `retainMs`: a top generation must outlive the act margin plus the grace. */
export const MIN_RETAIN_MS = 120_000;
/** A generation younger than this can be built on after reading it by `_id` alone. */
export const YOUNG_MS = SUPERSEDED_GRACE_MS - ACT_MARGIN_MS;

const MAX_GRANTS = 10_000;

/** The claims (and renewals) this store won, remembered until settled (bounded; the oldest are forgotten). */
export function grantMemory(): { add(doc: LeaseDocument, sentAt: number): void; take(key: string, owner: string, fence: number): { p: number; d?: string } | undefined } {
  const grants = new Map<string, { sentAt: number; p: number; d?: string }>();
  const id = (key: string, owner: string, fence: number): string => `${fence}\n${owner}\n${key}`;
  return {
    add(doc, sentAt) {
      if (grants.size >= MAX_GRANTS) grants.delete(grants.keys().next().value!);
      grants.set(id(doc.k, doc.o!, doc.g), { sentAt, p: doc.p.getTime(), ...(doc.d === undefined ? {} : { d: doc.d }) });
    },
    take(key, owner, fence) {
      const k = id(key, owner, fence);
      const grant = grants.get(k);
      grants.delete(k);
      return grant && performance.now() - grant.sentAt < FAST_SETTLE_MS ? grant : undefined;
    },
  };
}
