/**
 * The sweep's relay passes (src/relay/sweeper.ts lists, then calls them): the listed aggregates
 * relayed in chunks, `parallel` chunks at a time, until the list is done or the invocation's
 * time runs short; a partition a round refused is left out of the rest, and the list read again
 * without it when it was cut at `maxAggregates`.
 */
import { describeCause } from '../errors.js';
import { relayAggregates, warnUnsent, type RelayDeps, type RelayRunOptions } from './relay.js';
import { chunkFloor, keepCount, takeCount, type ReadSizes } from './chunking.js';
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
      await relayChunks(deps, fresh, Math.max(1, options.chunk), parallel, shared, refused, stopped);
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
 * Relays `refs` in chunks, `parallel` workers each taking the next chunk ({@link takeCount}, its
 * floor from what the sweep has read: chunking.ts) until none is left or `stopped()`; a refused
 * partition's aggregates are dropped from the chunks not begun. A worker with nothing to take
 * waits while others relay: between its rounds a chunk leaves what is above the floor to the
 * waiting workers (`RelayRunOptions.shed`), its leases released first, so each aggregate is
 * still relayed by one worker at a time, in seq order.
 */
async function relayChunks(deps: RelayDeps, refs: AggregateRef[], chunk: number, parallel: number, shared: RelayRunOptions, refused: ReadonlySet<string>, stopped: () => boolean): Promise<void> {
  const left = refs.slice();
  const read: ReadSizes = shared.read ?? { events: 0, bytes: 0 };
  let busy = 0;
  const waiting: Array<() => void> = [];
  const wake = (): void => {
    for (const resume of waiting.splice(0)) resume();
  };
  const shed = (next: AggregateRef[]): AggregateRef[] => {
    const keep = stopped() ? next.length : keepCount(next.length, waiting.length, chunkFloor(read, parallel));
    if (keep >= next.length) return next;
    left.push(...next.slice(keep));
    wake();
    return next.slice(0, keep);
  };
  const options: RelayRunOptions = { ...shared, read, shed };
  const worker = async (): Promise<void> => {
    for (;;) {
      if (stopped()) return;
      if (left.length === 0) {
        // Nothing to take: done once no chunk is left that could hand some over.
        if (busy === 0) return;
        await new Promise<void>((resume) => waiting.push(resume));
        continue;
      }
      const chunkRefs = left.splice(0, takeCount(left.length, parallel - busy, chunk, chunkFloor(read, parallel))).filter((ref) => !refused.has(ref.where));
      if (chunkRefs.length === 0) continue;
      busy++;
      try {
        await relayAggregates(deps, chunkRefs, options);
      } finally {
        busy--;
        wake();
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
