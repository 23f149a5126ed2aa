/**
 * The relay's byte budget per round, spent across the round's aggregates in order: each
 * aggregate takes its head events in seq order while they fit in what is left, so aggregates
 * with small events leave room for those with large ones and SQS batches stay full. An
 * aggregate reached when its head no longer fits reads nothing this round (it goes first in
 * the next); the first event of the round is read even when alone it is larger than the
 * budget, so a round always makes progress.
 */

/** Default `relay.maxBytesPerRound`: 2 MiB (see the option's TSDoc for the memory arithmetic). */
export const DEFAULT_MAX_BYTES_PER_ROUND = 2 * 1024 * 1024;

/**
 * How many head events each aggregate reads: `sizes[i]` are aggregate i's pending body sizes
 * in seq order (bytes), at most `limit` taken from each, about `budget` bytes in all.
 */
export function spendBudget(sizes: ReadonlyArray<ReadonlyArray<number>>, limit: number, budget: number): number[] {
  let spent = 0;
  let read = 0;
  return sizes.map((events) => {
    let n = 0;
    while (n < events.length && n < limit && (read === 0 || spent + events[n]! <= budget)) {
      spent += events[n]!;
      n++;
      read++;
    }
    return n;
  });
}
