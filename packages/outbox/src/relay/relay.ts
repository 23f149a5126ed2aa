/**
 * Relays the pending events of some aggregates: lease them, read their heads in seq order,
 * send, mark what SQS accepted, release. Shared by the flush (the aggregates one invocation
 * wrote), the sweeper (aggregates pending too long) and the watchdog.
 *
 * Memory: a round reads at most `maxBytesPerRound` of bodies across its aggregates (one event
 * larger than that alone), however many aggregates it leased and however large their heads.
 *
 * Store work is batched across the aggregates of a round: one `claimMany` of their leases,
 * one `begin` and one `settle` (each one round trip per group the store serves together —
 * one Redis script on a server, one per partition on a cluster), one `settleMany` for the
 * leases the marks did not release. The sends of all of them go out in one sender call.
 *
 * Order per aggregate (head of line): events go out as a run from the aggregate's oldest
 * pending event, in seq order, by one lease holder at a time, so event k+1 never leaves
 * while k waits in the store. A refused event stays at the head and blocks the ones after
 * it. The sender stops the later messages of a group after a failure in the same send, and
 * puts at most one message of a group in a `SendMessageBatch` call (`onePerGroupPerBatch`, its
 * default on both queue kinds), so an entry SQS refuses inside a call never lets a later one of
 * its aggregate through beside it.
 *
 * Quarantine: only from an aggregate's first event not on the queue. A quarantined aggregate
 * sends nothing until a redrive, so one taken from a later event would also hold an earlier one
 * that only needed a retry. After a send, the first refused event is quarantined when SQS
 * refused it as a sender fault; a poison event (the attempt rule) read behind sendable ones is
 * quarantined once they were all accepted. Otherwise the next flush or sweep tries again.
 * An aggregate with a *suspect* event (an earlier attempt never ended: its relay was killed)
 * is set aside from a round that read more than it and relayed next in a round of its own, one
 * event per call: only crashes met alone count toward `maxUnfinishedAttempts` (poison.ts).
 *
 * Marks that meet a store outage are kept in this process and settled first by its next run
 * (kept-marks.ts). The parts: leases.ts (claim, release), round.ts (read, send, settle),
 * unsent.ts (the run's one warning about what was not sent).
 */
import { ConfigurationError, describeCause } from '../errors.js';
import { MarksFailed, settleKept } from './kept-marks.js';
import { claimAll, release } from './leases.js';
import { beginAll, sendRound } from './round.js';
import { doneKey, type RelayDeps, type RelayRunOptions } from './run-options.js';
import type { AggregateRef, HeldLease, LeasedRef } from './types.js';
import { warnUnsent } from './unsent.js';

export type { RelayDeps, RelayRunOptions } from './run-options.js';
export { warnUnsent, type UnsentTally } from './unsent.js';

/**
 * Whether the sender can read its queue. A queue it cannot read makes every send throw after
 * the events' attempts were begun and before any was judged: counted as unfinished, three such
 * runs (a flush and two sweeps during an SQS outage, or a queue URL not created yet) would
 * quarantine every aggregate. Checked first, nothing is begun; the events stay pending.
 */
async function queueReadable(deps: RelayDeps, options: RelayRunOptions): Promise<boolean> {
  try {
    await deps.sender.maxMessageBytes?.(options.signal ? { signal: options.signal } : {});
    return true;
  } catch (error) {
    if (options.queueUnreadable?.seen) return false;
    if (options.queueUnreadable) options.queueUnreadable.seen = true;
    deps.log?.warn('outbox relay stopped: the queue cannot be read; pending events stay for the next flush or sweep', { store: deps.store.kind, ...describeCause(error) });
    return false;
  }
}

/**
 * Relays what is pending for `refs`, in rounds, until their heads are drained, an aggregate
 * is refused, or too little time is left. Each round claims the aggregates' leases (one
 * generation per round, so every mark is fenced by a fresh token), reads, sends, marks and
 * releases. Never throws for a store or queue failure: what is not marked stays pending for
 * the next flush or sweep.
 */
export async function relayAggregates(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, run: RelayRunOptions): Promise<void> {
  if (run.misconfigured?.seen) return;
  // A call of its own (a flush) tallies what was not sent and says it once at its end; a
  // sweep's chunks share the sweep's tally, said once by the sweep.
  const options: RelayRunOptions = run.unsent ? run : { ...run, unsent: { failed: 0, codes: new Set() } };
  try {
    await relayRounds(deps, refs, options);
  } finally {
    if (!run.unsent) warnUnsent(deps.log, deps.store.kind, options.unsent!);
  }
}

async function relayRounds(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<void> {
  await settleKept(deps, options);
  if (refs.length > 0 && (options.queueUnreadable?.seen || !(await queueReadable(deps, options)))) return;
  let active: ReadonlyArray<AggregateRef> = refs;
  // Aggregates set aside with a suspect event (poison.ts): each relayed next in a round of its own, one event.
  const suspects: AggregateRef[] = [];
  for (let round = 0; (active.length > 0 || suspects.length > 0) && round < 1000; round++) {
    if (options.signal?.aborted || options.remainingMs() < options.reserveMs) break;
    const isolated = suspects.length > 0;
    const batch = isolated ? suspects.splice(0, 1) : active;
    const roundOptions = isolated ? { ...options, maxEventsPerAggregate: 1 } : options;
    let leased: LeasedRef[] = [];
    let settled = new Set<HeldLease>();
    let next: AggregateRef[] = [];
    try {
      leased = await claimAll(deps, batch, roundOptions);
      if (leased.length > 0) {
        const begun = await beginAll(deps, leased, roundOptions);
        const { working, waiting } = begun;
        suspects.push(...begun.suspects);
        // The suspects' settle released their leases already (where the store's settle releases).
        if (deps.store.settleReleasesLease) settled = new Set(begun.setAside);
        // What was read, for a sweep's chunk floor (chunking.ts).
        if (options.read) {
          for (const w of working) {
            options.read.events += w.events.length;
            for (const e of w.events) options.read.bytes += e.body.length;
          }
        }
        const drained = working.length > 0 ? await sendRound(deps, working, roundOptions) : [];
        if (deps.store.settleReleasesLease) for (const w of working) settled.add(w.lease);
        for (const w of drained) if (!w.more) options.done?.add(doneKey(w.ref));
        // Those the byte budget left unread go first next round; then those whose whole read was
        // accepted and that have more behind it. A refusal waits for the next run.
        next = [...waiting, ...drained.filter((w) => w.more).map((w) => w.ref)];
      }
    } catch (error) {
      if (error instanceof MarksFailed) {
        for (const item of error.items) settled.add(item.lease);
        deps.log?.warn('outbox relay could not mark what SQS accepted; the next run here marks it (leases kept until then)', { store: deps.store.kind, aggregates: error.items.length, ...describeCause(error.cause) });
        break;
      }
      if (error instanceof ConfigurationError) {
        // A misconfiguration (e.g. relay.lease on another Redis) fails every run alike: said at
        // error level, with our own message (it names options, never values of events); once a run.
        if (options.misconfigured?.seen) break;
        if (options.misconfigured) options.misconfigured.seen = true;
        deps.log?.error('outbox relay is misconfigured; pending events stay until it is fixed', { store: deps.store.kind, code: error.code, field: error.field, reason: error.message });
        break;
      }
      deps.log?.warn('outbox relay stopped; pending events stay for the next flush or sweep', { store: deps.store.kind, ...describeCause(error) });
      break;
    } finally {
      await release(deps, leased.map((l) => l.lease).filter((l) => !settled.has(l)), options);
    }
    // A round of its own leaves the others' turn as it was. A sweep's chunk may hand some of the
    // next round's aggregates to idle workers here, their leases released above (relay-passes.ts).
    active = isolated ? [...active, ...next] : options.shed ? options.shed(next) : next;
  }
}
