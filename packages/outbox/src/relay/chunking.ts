/**
 * How a sweep cuts its aggregates into chunks (relay-passes.ts), as pure rules.
 *
 * A chunk is one sender call per round, and SQS batches hold one message per aggregate
 * (`onePerGroupPerBatch`): a chunk of k aggregates sends calls of at most k entries. With small
 * events a call is full by count, so a chunk is never cut below {@link FULL_BATCH} aggregates:
 * cutting 20 aggregates into 4 chunks of 5 doubled the calls against 2 chunks of 10 and gained
 * nothing. With large events a call is bound by its bytes, not its entries: 10 aggregates of
 * 200 KiB take two calls a pass however they are chunked, and 16 of a mix up to 1 MiB (heads
 * of about 80 KiB) two or three. There the floor of 10 only cost parallelism — 16 aggregates
 * were two chunks, two workers, 1.7 of 4 calls in flight. So the floor adapts to what the sweep
 * has read: a chunk's heads must weigh at least a `parallel`-th of a batch
 * ({@link chunkFloor}), so that the `parallel` chunks' calls of one step carry together about
 * a full batch. Before the sweep has read anything the floor is {@link FULL_BATCH}; once it
 * has, a chunk leaves the aggregates above the floor to workers that wait for work, between
 * its rounds ({@link keepCount}).
 */

/** Entries of a full `SendMessageBatch` call: the floor before the sweep has read any event. */
export const FULL_BATCH = 10;

/** SQS's byte limit of one `SendMessageBatch` call (bodies and attributes): 1 MiB. */
export const BATCH_BYTES = 1_048_576;

/** What a sweep has read so far (the bodies of the events its rounds sent), shared by its chunks. */
export interface ReadSizes {
  /** Events read. */
  events: number;
  /** Their body characters (bytes for the ASCII JSON of an envelope; an estimate otherwise). */
  bytes: number;
}

/**
 * The fewest aggregates a chunk is cut to: {@link FULL_BATCH} while nothing has been read (or
 * when the events are small); else enough aggregates that their head events, at the mean size
 * read so far, weigh `BATCH_BYTES ÷ parallel` — never more than {@link FULL_BATCH}, never below 1.
 *
 * @param read What the sweep has read so far; undefined or empty: nothing yet.
 * @param parallel Chunks relayed at the same time (at least 1).
 * @example
 * chunkFloor(undefined, 4) // 10
 * chunkFloor({ events: 10, bytes: 10 * 8192 }, 4) // 10: 32 events of 8 KiB weigh a quarter batch
 * chunkFloor({ events: 10, bytes: 10 * 204800 }, 4) // 2: two of 200 KiB weigh more than a quarter
 */
export function chunkFloor(read: ReadSizes | undefined, parallel: number): number {
  if (!read || read.events <= 0 || read.bytes <= 0) return FULL_BATCH;
  const mean = read.bytes / read.events;
  return Math.max(1, Math.min(FULL_BATCH, Math.ceil(BATCH_BYTES / Math.max(1, parallel) / mean)));
}

/**
 * Aggregates a worker takes from the `left` not yet taken, when `takers` workers (itself
 * included) have no chunk: an even share of them, but not fewer than `floor` and not more than
 * `chunk` (nor than `left`). With every worker free at the start it is the first cut: 16 aggregates, chunk 25,
 * 4 workers, floor 10 → 10 (and the next worker takes the 6 left).
 *
 * @example
 * takeCount(16, 4, 25, 10) // 10
 * takeCount(16, 4, 25, 3) // 4
 * takeCount(200, 4, 25, 10) // 25
 */
export function takeCount(left: number, takers: number, chunk: number, floor: number): number {
  return Math.max(1, Math.min(left, chunk, Math.max(floor, Math.ceil(left / Math.max(1, takers)))));
}

/**
 * How many of the `next` aggregates a chunk keeps for its next round when `idle` workers wait
 * for work: an even share over itself and them, but not fewer than `floor`; the others go to
 * the idle workers. With no idle worker, all.
 *
 * @example
 * keepCount(10, 3, 3) // 3: 7 go to the three idle workers
 * keepCount(10, 3, 10) // 10: small events, the chunk stays whole
 * keepCount(10, 0, 2) // 10: no worker waits
 */
export function keepCount(next: number, idle: number, floor: number): number {
  if (idle <= 0) return next;
  return Math.min(next, Math.max(floor, Math.ceil(next / (idle + 1))));
}
