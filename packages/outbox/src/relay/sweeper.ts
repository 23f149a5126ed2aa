/**
 * The sweeper: run from a schedule trigger, it relays every aggregate whose oldest pending
 * event is older than a grace period (the flush normally got there first), in bounded
 * chunks, oldest first, until the invocation's time runs short. With `mark: 'sent'` it then
 * deletes old sent events in bounded batches, under a lease so only one sweeper cleans.
 */
import { randomUUID } from 'node:crypto';
import { ConfigurationError, describeCause, OutboxUnavailableError, PreconditionFailedError } from '../errors.js';
import type { RelayDeps, RelayRunOptions } from './relay.js';
import { relayPasses } from './relay-passes.js';
import type { AggregateRef, SkippedPartition } from './types.js';

/** How one sweep behaves. */
export interface SweepOptions {
  /** Only aggregates whose oldest pending event is at least this old (the flush's turn first). @default 5000 */
  graceMs: number;
  /** Most aggregates looked at per sweep (quarantined ones are not listed, so not counted). @default 1000 */
  maxAggregates: number;
  /**
   * Most aggregates relayed together: one lease batch, one read, one send call and one mark
   * batch per round for all of them. Chunks run `parallel` at a time, so one chunk's store work
   * overlaps another's sends (the sender bounds the calls in flight across them). A sweep that
   * finds fewer than `chunk × parallel` aggregates cuts smaller chunks, so every parallel
   * worker gets some — but none below a floor: 10 aggregates (a full `SendMessageBatch`) until
   * the sweep has read events, for with one message per aggregate in a call, smaller chunks of
   * small events only make smaller calls. Once it has read, the floor is the aggregates whose
   * head events, at the mean size read, weigh a `parallel`-th of a 1 MiB batch (10 for events
   * up to about 26 KiB, 2 for 200 KiB): a call of large events is full by bytes, not entries.
   * Between its rounds a chunk above that floor hands aggregates to idle workers
   * (`src/relay/chunking.ts`). @default 25
   */
  chunk: number;
  /** Chunks relayed at the same time, so store round trips of one overlap the sends of another. @default 4 */
  parallel?: number;
  /** With `mark: 'sent'`: delete sent events older than this. */
  retainSentMs: number;
  /** Most sent events deleted per sweep. @default 1000 */
  cleanupLimit: number;
  /** Most idle partitions dropped from the partition list per sweep (Redis). @default 1000 */
  pruneLimit?: number;
}

export const DEFAULT_SWEEP: SweepOptions = { graceMs: 5_000, maxAggregates: 1_000, chunk: 25, parallel: 4, retainSentMs: 7 * 24 * 3_600_000, cleanupLimit: 1_000, pruneLimit: 1_000 };

/** What one sweep did. */
export interface SweepResult {
  /** Aggregates found pending past the grace period (quarantined ones are not listed). */
  found: number;
  /** Sent events deleted by the cleanup. */
  cleaned: number;
  /** Idle partitions dropped from the partition list. */
  pruned: number;
  /**
   * Partitions skipped because one of their own keys could not be read (Redis: it holds
   * another type), found by the listing, refused by a relay round's read (then left out of
   * the rest of the sweep, and listed again without it when the list was cut at
   * `maxAggregates`), or by the sent-event cleanup (its sent set or stream; the others
   * cleaned): their aggregates wait until it is fixed, the others were served. Each partition is
   * warned (`outbox sweep skipped a partition`) and counted in `metrics.skippedPartitions` once a sweep.
   */
  skipped: SkippedPartition[];
}

/**
 * Runs one sweep. Once it has its list, never throws for a store or queue failure: what is left
 * (unsent events, the cleanup, the pruning) waits for the next sweep, warned.
 *
 * @throws OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, 503, retryable) when the store
 *   cannot list its pending aggregates: nothing was relayed.
 * @throws PreconditionFailedError (`OUTBOX_PRECONDITION_FAILED`, 409) when the Redis store's
 *   partition list holds another type: the message names its role, name and type, never what
 *   it holds. One partition whose own key (pending or sent set, quarantine hash, events
 *   stream, attempts hash, an aggregate's set) holds another type is skipped instead
 *   (`skipped`, warned), the others relayed.
 */
export async function sweep(deps: RelayDeps, run: RelayRunOptions, options: SweepOptions): Promise<SweepResult> {
  const skipped: SkippedPartition[] = [];
  // Partitions whose read a relay round refused: left out of the rest of the sweep.
  const refused = new Set<string>();
  // One unreadable partition is warned (its key's role, name and type, never a value) and left out; said once a sweep.
  const onSkip = (skip: SkippedPartition): void => {
    // Met again by a later read or the cleanup: said and counted once.
    if (skipped.some((s) => s.where === skip.where)) return;
    skipped.push(skip);
    deps.metrics.skippedPartitions++;
    deps.log?.warn('outbox sweep skipped a partition; its aggregates wait until it is fixed, the others are relayed', { store: deps.store.kind, where: skip.where, code: skip.code, reason: skip.reason });
  };
  const list = async (): Promise<AggregateRef[]> => {
    try {
      return await deps.store.listPending({ limit: options.maxAggregates, before: Date.now() - options.graceMs, signal: run.signal, onSkip, exclude: refused });
    } catch (error) {
      // A misconfiguration (a store getter returning what is not a client) is said as such, not as an outage.
      // So is one of the store's own keys holding another type (OUTBOX_PRECONDITION_FAILED naming it).
      if (error instanceof ConfigurationError || error instanceof PreconditionFailedError) throw error;
      throw new OutboxUnavailableError('outbox: the sweep could not list the pending aggregates; nothing was relayed', error);
    }
  };
  const refs = await list();
  const found = await relayPasses(deps, run, refs, { chunk: options.chunk, parallel: options.parallel ?? 4, maxAggregates: options.maxAggregates, list, refused, onSkip });
  let cleaned = 0;
  if (deps.store.cleanup && !run.signal?.aborted && run.remainingMs() >= run.reserveMs) {
    cleaned = await cleanup(deps, run, options, onSkip).catch((error: unknown) => {
      deps.log?.warn('outbox sent-event cleanup stopped; it goes on next sweep', { store: deps.store.kind, ...describeCause(error) });
      return 0;
    });
  }
  let pruned = 0;
  if (deps.store.prune && !run.signal?.aborted && run.remainingMs() >= run.reserveMs) {
    pruned = await deps.store.prune({ limit: options.pruneLimit ?? 1_000, signal: run.signal }).catch((error: unknown) => {
      deps.log?.warn('outbox partition pruning stopped; it goes on next sweep', { store: deps.store.kind, cause: error instanceof Error ? error.name : typeof error });
      return 0;
    });
  }
  return { found, cleaned, pruned, skipped };
}

/** Deletes old sent events under the outbox's cleanup lease (one sweeper cleans at a time). */
async function cleanup(deps: RelayDeps, run: RelayRunOptions, options: SweepOptions, onSkip: (skip: SkippedPartition) => void): Promise<number> {
  const key = deps.store.cleanupLeaseKey ?? `${deps.store.kind}:cleanup`;
  const owner = randomUUID();
  const claim = await deps.lease.claim({ key, owner, leaseMs: run.leaseMs }, { signal: run.signal });
  if (!claim.claimed) return 0;
  try {
    return await deps.store.cleanup!({ limit: options.cleanupLimit, olderThanMs: options.retainSentMs, signal: run.signal, onSkip });
  } finally {
    const signal = run.releaseSignal ?? run.signal;
    await deps.lease.settle({ key, owner, fence: claim.fence }, signal ? { signal } : {}).catch(() => false);
  }
}
