/**
 * Marks that meet a store outage: SQS answered the round but the store could not take its
 * marks (nor, then, the leases' release). Left like that, each event's attempt would stay
 * "begun, never finished" — a crash to `maxUnfinishedAttempts` — so three runs meeting a
 * flapping store would quarantine healthy events SQS took every time. The round's verdicts are
 * kept in this process (per relay store, bounded) with its leases still held, and the next
 * relay run here settles them first, with the same lease tokens: the marks land, the attempts
 * end, the leases are released. A newer holder (the lease ran out and another relay took the
 * aggregate) fences them out; what a process never gets to settle (killed, or no run after the
 * outage) still counts as one unfinished attempt, as a crash does.
 */
import { describeCause } from '../errors.js';
import { release } from './leases.js';
import type { RelayDeps, RelayRunOptions } from './run-options.js';
import type { RelayStore, SettleItem } from './types.js';

/** Rounds whose marks failed after the send, per relay store: settled first by the next run in this process. */
const unsettled = new WeakMap<RelayStore, SettleItem[]>();
/** Most aggregates' verdicts kept per store (the oldest dropped: they count as a crash would). */
const MAX_UNSETTLED = 1_000;

/** Raised by a round whose marks failed: its leases stay held for the replay. */
export class MarksFailed extends Error {
  constructor(readonly items: ReadonlyArray<SettleItem>, override readonly cause: unknown) {
    super('outbox relay marks failed');
  }
}

/** Keeps `items` (verdicts whose marks failed) for the next run here, the oldest dropped past the bound. */
export function keepUnsettled(store: RelayStore, items: ReadonlyArray<SettleItem>): void {
  const kept = [...(unsettled.get(store) ?? []), ...items];
  unsettled.set(store, kept.slice(Math.max(0, kept.length - MAX_UNSETTLED)));
}

/** Settles the rounds an earlier run here could not mark (see this file's comment). Never throws. */
export async function settleKept(deps: RelayDeps, options: RelayRunOptions): Promise<void> {
  const items = unsettled.get(deps.store);
  if (!items || items.length === 0) return;
  unsettled.delete(deps.store);
  const signal = options.releaseSignal ?? options.signal;
  let marked: number[];
  try {
    marked = await deps.store.settle(items, { signal });
  } catch (error) {
    keepUnsettled(deps.store, items);
    deps.log?.warn('outbox relay could not yet mark rounds SQS accepted earlier; kept for the next run', { store: deps.store.kind, aggregates: items.length, ...describeCause(error) });
    return;
  }
  if (!deps.store.settleReleasesLease) await release(deps, items.map((i) => i.lease), options);
  // Per item: events marked (>= 0), -1 fenced (a newer lease holder), -2 the store gave up (still pending, sent again).
  const fenced = marked.filter((m) => m === -1).length;
  const stillPending = marked.filter((m) => m === -2).length;
  const settled = items.length - fenced - stillPending;
  deps.log?.info('outbox relay settled rounds SQS accepted before a store outage', { store: deps.store.kind, aggregates: items.length, marked: settled, fenced, stillPending });
}
