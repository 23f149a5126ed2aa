/**
 * The inbox's "seen" records: whether this consumer handled any event of an aggregate lately,
 * so a missing `seq - 1` marker can be told apart from a gap. A marker is forgotten some time
 * after its completion, and a consumer added to a running system never wrote one: in both
 * cases the predecessor is not missing — the aggregate is unseen (idle past the retention, or
 * new to this consumer), and `unseenAggregate` decides.
 *
 * An idempotency store keeps a completed record until it expires and cannot extend it, so the
 * record is one per (consumer, aggregate, retention window): window `w = floor(now / retentionMs)`.
 * The first event of the aggregate completed in window `w` writes it, in the same `completeMany`
 * as the event record and seq marker (one atomic write where the keys share a slot: Redis, Redis
 * Cluster with `hashTag: 'scope'`), and every record of the handling — event record, seq marker,
 * seen record — expires at the end of window `w + 1` ({@link keptUntil}): between `retentionMs`
 * and twice it after the completion. The aggregate is seen while the record of the current or
 * the previous window lives (held counts: an event of it is being handled). So a seen aggregate
 * had a completion less than two windows ago, and its last completed marker is still kept: a
 * missing `seq - 1` marker is a gap. An unseen one had none for at least `retentionMs`.
 */
import type { IdempotencyStore } from '@steadyfn/idempotency';

/** The retention window of `at` (ms since the epoch): `floor(at / retentionMs)`. */
export const windowOf = (at: number, retentionMs: number): number => Math.floor(at / retentionMs);

/**
 * When the records of an event completed at `at` expire: the end of the window after `at`'s,
 * `(windowOf(at) + 2) × retentionMs` — at least `retentionMs` after `at`, under twice it.
 */
export const keptUntil = (at: number, retentionMs: number): number => (windowOf(at, retentionMs) + 2) * retentionMs;

/** The seen record's id (in the inbox's scope) of aggregate `agg` in window `w`. */
export const seenId = (agg: string, w: number): string => `seen:${agg}@${w}`;

/**
 * Whether a record of the current or the previous window lives (completed, or held by a
 * handling in progress). Both are read at once.
 * @throws what the store's `get` throws.
 */
export async function aggregateSeen(store: IdempotencyStore, keyOf: (w: number) => string, now: number, retentionMs: number, signal: AbortSignal): Promise<boolean> {
  const w = windowOf(now, retentionMs);
  const [current, previous] = await Promise.all([store.get(keyOf(w), { signal }), store.get(keyOf(w - 1), { signal })]);
  return current !== undefined || previous !== undefined;
}
