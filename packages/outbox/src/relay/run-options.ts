/**
 * What one relay run is given: how it behaves (`RelayRunOptions`) and what it works with
 * (`RelayDeps`). Shared by the flush, the sweeper and the watchdog (relay.ts).
 */
import type { Logger } from '@steadyfn/handler';
import type { MetricsRecorder } from './metrics.js';
import type { PoisonPolicy } from './poison.js';
import type { ReadSizes } from './chunking.js';
import type { AggregateRef, RelayLease, RelayStore, Sender, SkippedPartition } from './types.js';
import type { UnsentTally } from './unsent.js';

/** How a relay run behaves. */
export interface RelayRunOptions {
  /** How long an aggregate's lease lasts (judged by the store's clock). */
  leaseMs: number;
  /** Most events read from one aggregate per round. */
  maxEventsPerAggregate: number;
  /**
   * Body bytes read per round across its aggregates, spent round-robin (`relay/budget.ts`); a
   * single event larger than it is read alone. See `RelayOptions.maxBytesPerRound`.
   * @default 2097152 (2 MiB)
   */
  maxBytesPerRound?: number;
  poison: PoisonPolicy;
  /** Stop starting new rounds when fewer ms than this remain. */
  reserveMs: number;
  /** Milliseconds left in the invocation. */
  remainingMs: () => number;
  /** Bounds every store and sender call of the run (the flush's: aborted when `reserveMs` remain). */
  signal?: AbortSignal | undefined;
  /** Bounds releasing the leases once the run stops (the invocation's `ctx.signal`). @default signal */
  releaseSignal?: AbortSignal | undefined;
  /**
   * Shared by the `relayAggregates` calls of one run (a sweep's chunks): set by the first that
   * meets a misconfiguration (`ConfigurationError`, which fails every call alike), which alone
   * logs it; the calls after it start nothing.
   */
  misconfigured?: { seen: boolean } | undefined;
  /**
   * Shared by the `relayAggregates` calls of one run (a sweep's chunks): set by the first that
   * finds the queue unreadable, which alone warns; the calls after it begin no attempt (they
   * still settle what an earlier run kept) — every chunk would ask the same queue, and an
   * outage fails them all alike.
   */
  queueUnreadable?: { seen: boolean } | undefined;
  /**
   * Shared by the `relayAggregates` calls of one run (a sweep's chunks): the events SQS gave a
   * verdict against or never got, tallied so the run says so once (`warnUnsent`), not once per
   * round or chunk — an outage fails them all alike. Without it, each call tallies and warns for itself.
   */
  unsent?: UnsentTally | undefined;
  /**
   * Told of each aggregate whose partition refused the read (`AggregateHead.refused`, e.g. a
   * Redis own key of another type): the sweep reports its partition as skipped.
   */
  onRefused?: ((skip: SkippedPartition) => void) | undefined;
  /**
   * Filled with the `doneKey` of each aggregate this run left with nothing to send now: drained,
   * nothing pending, quarantined, held for a redrive, or its partition refused. The watchdog's
   * consumer fails (`OUTBOX_RELAY_INCOMPLETE`) when an aggregate it names is not in it.
   */
  done?: Set<string> | undefined;
  /**
   * Shared by a sweep's chunks: the events its rounds read and their body characters, from
   * which the sweep's chunk floor follows (chunking.ts, `chunkFloor`). Added to by every round.
   */
  read?: ReadSizes | undefined;
  /**
   * A sweep's: given the aggregates a round leaves for the next one (after that round's leases
   * were released), returns those this run keeps; it has handed the others to idle workers of
   * the sweep, which relay them from their next seq (chunking.ts, `keepCount`). Undefined: all kept.
   */
  shed?: ((next: AggregateRef[]) => AggregateRef[]) | undefined;
}

/** An aggregate's key in `RelayRunOptions.done`. */
export const doneKey = (ref: { where: string; aggregate: string }): string => `${ref.where}\u0000${ref.aggregate}`;

/** What a relay run works with: its store, its lease store, its sender, where it counts and logs. */
export interface RelayDeps {
  store: RelayStore;
  lease: RelayLease;
  sender: Sender;
  metrics: MetricsRecorder;
  log?: Logger | undefined;
}
