/**
 * The sweep's relay passes (src/relay/sweeper.ts lists, then calls them): the listed aggregates
 * relayed in chunks, `parallel` chunks at a time, until the list is done or the invocation's
 * time runs short; a partition a round refused is left out of the rest, and the list read again
 * without it when it was cut at `maxAggregates`.
 */
import { describeCause } from '../errors.js';
import { relayAggregates, warnUnsent, type RelayDeps, type RelayRunOptions } from './relay.js';
import type { AggregateRef, SkippedPartition } from './types.js';

/** How the passes run, and the sweep's listing and skip bookkeeping they share. */
export interface RelayPassOptions {
  /** Most aggregates relayed together (`SweepOptions.chunk`). */
  chunk: number;
  /** Chunks relayed at the same time (at least 1). */
  parallel: number;
  /** The listing's limit: a list this long may have been cut, so it is read again after a refusal. */
  maxAggregates: number;
  /** Lists the pending aggregates again, leaving out `refused` (throws when it cannot). */
  list: () => Promise<AggregateRef[]>;
  /** Partitions whose read a relay round refused: added to here, left out of the rest of the sweep. */
  refused: Set<string>;
  /** Reports a skipped partition (said and counted once a sweep by the caller). */
  onSkip: (skip: SkippedPartition) => void;
}

/**
 * Relays `refs` (the sweep's first listing) in passes, and returns how many distinct aggregates
 * the passes were given (`SweepResult.found`). Never throws for a store or queue failure: a
 * misconfiguration, a queue that cannot be read, the signal or the time running short stop
 * the chunks not begun; events not sent are tallied over the chunks and warned once (unless
 * `run.unsent` is the caller's, who says it); a listing that fails again ends the passes, warned.
 */
export async function relayPasses(deps: RelayDeps, run: RelayRunOptions, refs: AggregateRef[], options: RelayPassOptions): Promise<number> {
  const { refused, onSkip } = options;
  const parallel = Math.max(1, options.parallel);
  // A misconfiguration fails every chunk alike: said once, and the chunks after it are not begun.
  // Events not sent (an outage fails every chunk alike too): tallied over the chunks, said once.
  // A queue that cannot be read likewise: said once, the chunks after it not begun.
  const shared: RelayRunOptions = {
    ...run,
    misconfigured: run.misconfigured ?? { seen: false },
    queueUnreadable: run.queueUnreadable ?? { seen: false },
    unsent: run.unsent ?? { failed: 0, codes: new Set() },
    onRefused: (skip) => {
      refused.add(skip.where);
      onSkip(skip);
    },
  };
  const stopped = (): boolean => shared.misconfigured!.seen || shared.queueUnreadable!.seen || run.signal?.aborted === true || run.remainingMs() < run.reserveMs;
  const seen = new Set<string>();
  let found = 0;
  try {
    // A pass over the listed aggregates. A partition a round refused (a key the listing cannot
    // check, e.g. one aggregate's set of another type) is left out of the rest, and when the
    // list was cut at maxAggregates it is listed again without it: refused aggregates, never
    // drained and so the oldest, must not keep every other partition's places sweep after sweep.
    for (let pass = 0; pass < 10 && refs.length > 0; pass++) {
      const before = refused.size;
      const fresh = refs.filter((ref) => !seen.has(`${ref.where}\u0000${ref.aggregate}`));
      for (const ref of fresh) seen.add(`${ref.where}\u0000${ref.aggregate}`);
      found += fresh.length;
      await relayChunks(deps, fresh, chunkSize(fresh.length, options.chunk, parallel), parallel, shared, refused, stopped);
      if (refused.size === before || refs.length < options.maxAggregates || stopped()) break;
      try {
        refs = await options.list();
      } catch (error) {
        // What was listed first was relayed; the rest waits for the next sweep.
        deps.log?.warn('outbox sweep could not list the pending aggregates again; the rest goes on next sweep', { store: deps.store.kind, ...describeCause(error) });
        break;
      }
    }
  } finally {
    if (!run.unsent) warnUnsent(deps.log, deps.store.kind, shared.unsent!);
  }
  return found;
}

/**
 * Aggregates per chunk when `found` are listed: `chunk`, or fewer so that each of the `parallel`
 * workers gets some — but not fewer than {@link FULL_BATCH}. A chunk is one sender call per
 * round, and SQS batches hold one message per aggregate (`onePerGroupPerBatch`): a chunk of k
 * aggregates sends calls of at most k entries. Cutting 20 aggregates into 4 chunks of 5 doubled
 * the calls against 2 chunks of 10 (fill 0.5) and gained nothing: an aggregate has one message in
 * flight at a time either way, so the messages in flight are the same; on a server that spends
 * its time per call (moto, fauxqs here; SQS bills per call), fewer calls are faster.
 */
export function chunkSize(found: number, chunk: number, parallel: number): number {
  return Math.max(1, Math.min(chunk, Math.max(FULL_BATCH, Math.ceil(found / parallel))));
}

/** Entries of a full `SendMessageBatch` call: the fewest aggregates a chunk is cut to. */
export const FULL_BATCH = 10;

/** Relays `refs` in chunks of `size`, `parallel` workers taking the next chunk until none is left or `stopped()`; a refused partition's aggregates are dropped from the chunks not begun. */
async function relayChunks(deps: RelayDeps, refs: AggregateRef[], size: number, parallel: number, shared: RelayRunOptions, refused: ReadonlySet<string>, stopped: () => boolean): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < refs.length) {
      if (stopped()) return;
      const chunk = refs.slice(next, next + size).filter((ref) => !refused.has(ref.where));
      next += size;
      if (chunk.length > 0) await relayAggregates(deps, chunk, shared);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
