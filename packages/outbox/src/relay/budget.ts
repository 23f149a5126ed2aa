/**
 * The relay's byte budget per round, spent across the round's aggregates round-robin: every
 * aggregate's first head event, then every second, … each while it fits in what is left; an
 * aggregate whose next event does not fit takes no more this round (its reads stay a prefix in
 * seq order), and once one did not fit, the pass under way is the round's last: the others take
 * their event of that pass when it fits, and none begins another. Without that last rule, the
 * aggregates of small events went on taking pass after pass once those of large ones had
 * stopped, and as a call holds one message per aggregate, each of those passes was one more call,
 * nearly empty, waiting for the one before it: on the bench's mix of sizes up to 1 MiB
 * (16 aggregates of 10) rounds of 6–8 such calls one after another, 28 calls per 100 events
 * against the raw loop's 12.5; with it 19 (README, Bench). Spread so, a round of large events
 * reads one or two of many aggregates rather than all of the first: SQS calls hold one message per aggregate (`onePerGroupPerBatch`), so
 * 10 × 200 KiB of one aggregate went out as 10 calls of one entry one after another, where
 * the first events of 10 aggregates fill two calls at once. Aggregates with small events still
 * leave room for those with large ones. An aggregate whose head does not fit reads nothing this
 * round (it goes first in the next); the first event of the round is read even when alone it
 * is larger than the budget, so a round always makes progress. The Redis store's read script
 * spends the same way (stores/redis-relay-scripts.ts, `BEGIN`).
 */

/** Default `relay.maxBytesPerRound`: 2 MiB (see the option's TSDoc for the memory arithmetic). */
export const DEFAULT_MAX_BYTES_PER_ROUND = 2 * 1024 * 1024;

/**
 * How many head events each aggregate reads: `sizes[i]` are aggregate i's pending body sizes
 * in seq order (bytes), at most `limit` taken from each, about `budget` bytes in all; passes
 * (every aggregate's next event) end after the first in which an event did not fit.
 *
 * @example
 * spendBudget([[600, 600], [10, 10, 10, 10]], 50, 700) // [1, 2]: the second 600 did not fit, so no third pass
 */
export function spendBudget(sizes: ReadonlyArray<ReadonlyArray<number>>, limit: number, budget: number): number[] {
  // An unknown size (Infinity) fits only as the round's first read.
  let spent = 0;
  let read = 0;
  const counts = sizes.map(() => 0);
  let open = sizes.map((_, i) => i);
  while (open.length > 0) {
    const still: number[] = [];
    // Whether an aggregate's next event did not fit in this pass: then no pass follows.
    let short = false;
    for (const i of open) {
      const n = counts[i]!;
      const events = sizes[i]!;
      if (n >= events.length || n >= limit) continue;
      if (read === 0 || spent + events[n]! <= budget) {
        spent += events[n]!;
        counts[i] = n + 1;
        read++;
        still.push(i);
      } else short = true;
    }
    open = short ? [] : still;
  }
  return counts;
}

/**
 * A store's two reads of a round's heads: sizes first, without the bodies (a document's
 * pending byte count, the byte size kept beside each event), then the bodies of only what
 * the budget took.
 */
export interface BudgetedReads<T> {
  /**
   * Per item, the body sizes of its first pending events in seq order (bytes), at most
   * `limit` — without reading the bodies. `Infinity` for a size the store does not know: such
   * an event is read only as the round's first, alone.
   */
  sizes(): Promise<ReadonlyArray<ReadonlyArray<number>>>;
  /** Reads the bodies of the first `counts[i]` events of each item whose count is above 0. */
  bodies(counts: ReadonlyArray<number>): Promise<T>;
}

/**
 * Reads a round's heads within its byte budget: the sizes, the budget spent over them
 * round-robin (`spendBudget`), then the bodies of what was taken — so the driver never holds a body
 * the round will not keep (beyond the one event read alone when it is larger than the budget).
 * Shared by the MongoDB stores (events as documents in transaction mode, a document's pending
 * list in embedded mode); the Redis store does the same inside its read script.
 *
 * @returns `counts[i]`: how many of item i's events were read (0 with sizes left: it waits for
 * the next round), and what `bodies` returned.
 */
export async function readWithinBudget<T>(reads: BudgetedReads<T>, limit: number, budget: number): Promise<{ sizes: ReadonlyArray<ReadonlyArray<number>>; counts: number[]; read: T }> {
  const sizes = await reads.sizes();
  const counts = spendBudget(sizes, limit, budget);
  return { sizes, counts, read: await reads.bodies(counts) };
}
