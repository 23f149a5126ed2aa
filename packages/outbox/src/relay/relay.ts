/**
 * Relays the pending events of some aggregates: lease each aggregate, read its head in seq
 * order, send, mark what SQS accepted, release. Shared by the flush (the aggregates one
 * invocation wrote), the sweeper (aggregates pending too long) and the watchdog.
 *
 * Order per aggregate (head of line): events go out as a run from the aggregate's oldest
 * pending event, in seq order, by one lease holder at a time, so event k+1 never leaves
 * while k waits in the store. A refused event stays at the head and blocks the ones after
 * it. The sender stops the later messages of a group after a failure in the same call;
 * only an entry SQS itself refuses inside one `SendMessageBatch` can let a later one through,
 * which is marked (it is on the queue) and put back in order by the consumer's `seq` check —
 * or never happens with `sqsSender({ onePerGroupPerBatch: true })`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@steadyfn/handler';
import { describeCause } from '../errors.js';
import { toMessage } from './message.js';
import type { MetricsRecorder } from './metrics.js';
import { poisonReason, type PoisonPolicy } from './poison.js';
import type { AggregateRef, HeldLease, LeaseClient, RelayStore, Sender, StoredEvent } from './types.js';

/** How a relay run behaves. */
export interface RelayRunOptions {
  /** How long an aggregate's lease lasts (judged by the store's clock). */
  leaseMs: number;
  /** Most events read from one aggregate per round. */
  maxEventsPerAggregate: number;
  poison: PoisonPolicy;
  /** Stop starting new rounds when fewer ms than this remain. */
  reserveMs: number;
  /** Milliseconds left in the invocation. */
  remainingMs: () => number;
  signal?: AbortSignal | undefined;
}

export interface RelayDeps {
  store: RelayStore;
  lease: LeaseClient;
  sender: Sender;
  metrics: MetricsRecorder;
  log?: Logger | undefined;
}

interface Leased {
  ref: AggregateRef;
  lease: HeldLease;
  events: StoredEvent[];
}

/** Claims the aggregates' leases; those another relay holds are skipped (it sends them, in order). */
async function claimAll(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<Array<{ ref: AggregateRef; lease: HeldLease }>> {
  const owner = randomUUID();
  const claimed = await Promise.all(
    refs.map(async (ref): Promise<{ ref: AggregateRef; lease: HeldLease } | undefined> => {
      const key = deps.store.leaseKey(ref);
      const result = await deps.lease.claim({ key, owner, leaseMs: options.leaseMs }, { signal: options.signal });
      if (!result.claimed) {
        deps.metrics.leased++;
        return undefined;
      }
      return { ref, lease: { key, owner, fence: result.fence } };
    }),
  );
  return claimed.filter((c): c is { ref: AggregateRef; lease: HeldLease } => c !== undefined);
}

/** Reads each leased aggregate's head; quarantines one whose head is poison. */
async function beginAll(deps: RelayDeps, leased: ReadonlyArray<{ ref: AggregateRef; lease: HeldLease }>, options: RelayRunOptions): Promise<Leased[]> {
  const out = await Promise.all(
    leased.map(async ({ ref, lease }): Promise<Leased | undefined> => {
      const head = await deps.store.begin(ref, { limit: options.maxEventsPerAggregate, lease, signal: options.signal });
      if (head.quarantined || head.events.length === 0) return { ref, lease, events: [] };
      const sendable: StoredEvent[] = [];
      for (const event of head.events) {
        deps.metrics.pendingSince(event.committedAt);
        const reason = poisonReason(event, options.poison);
        if (reason) {
          await deps.store.quarantine(ref, { fromSeq: event.seq, reason, lease, signal: options.signal });
          deps.metrics.quarantined++;
          deps.log?.warn('outbox aggregate quarantined', { aggregate: ref.aggregate, fromSeq: event.seq, reason, fence: lease.fence });
          break;
        }
        sendable.push(event);
      }
      return { ref, lease, events: sendable };
    }),
  );
  return out.filter((l): l is Leased => l !== undefined);
}

/** Sends one round for the leased aggregates and settles each. Returns the aggregates whose every event was accepted. */
async function sendRound(deps: RelayDeps, leased: ReadonlyArray<Leased>, options: RelayRunOptions): Promise<Leased[]> {
  const messages = leased.flatMap((l) => l.events.map(toMessage));
  if (messages.length === 0) return [];
  const report = await deps.sender.send(messages, { signal: options.signal });
  deps.metrics.addReport(report);
  const accepted = new Set(report.sent.map((s) => s.id));
  const failures = new Map(report.failed.map((f) => [f.id, f]));
  const drained: Leased[] = [];
  await Promise.all(
    leased.map(async (item) => {
      const { ref, lease, events } = item;
      if (events.length === 0) return;
      const sent = events.filter((e) => accepted.has(e.id));
      const refused = events.filter((e) => !accepted.has(e.id));
      await deps.store.settle(ref, { sent, refused, lease, signal: options.signal });
      deps.metrics.sent += sent.length;
      deps.metrics.failed += refused.length;
      const faulty = refused.find((e) => failures.get(e.id)?.senderFault === true);
      if (faulty) {
        // SQS will never take it as it is: hold the aggregate from it on, in order.
        const code = failures.get(faulty.id)?.code ?? 'SenderFault';
        await deps.store.quarantine(ref, { fromSeq: faulty.seq, reason: `sender fault: ${code}`, lease, signal: options.signal });
        deps.metrics.quarantined++;
        deps.log?.warn('outbox aggregate quarantined', { aggregate: ref.aggregate, fromSeq: faulty.seq, reason: 'sender fault', code, fence: lease.fence });
      }
      for (const e of refused) deps.metrics.pendingSince(e.committedAt);
      if (refused.length === 0) drained.push(item);
    }),
  );
  return drained;
}

/** Releases leases the store's mark did not already release. */
async function release(deps: RelayDeps, leases: ReadonlyArray<HeldLease>, options: RelayRunOptions): Promise<void> {
  await Promise.all(leases.map((lease) => deps.lease.settle(lease, { signal: options.signal }).catch(() => false)));
}

/**
 * Relays what is pending for `refs`, in rounds, until their heads are drained, an aggregate
 * is refused, or too little time is left. Each round claims the aggregates' leases (one
 * generation per round, so every mark is fenced by a fresh token), reads, sends, marks and
 * releases. Never throws for a store or queue failure: what is not marked stays pending for
 * the next flush or sweep.
 */
export async function relayAggregates(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<void> {
  let active: ReadonlyArray<AggregateRef> = refs;
  for (let round = 0; active.length > 0 && round < 1000; round++) {
    if (options.signal?.aborted || options.remainingMs() < options.reserveMs) break;
    let leased: Array<{ ref: AggregateRef; lease: HeldLease }> = [];
    let settled = new Set<HeldLease>();
    try {
      leased = await claimAll(deps, active, options);
      const heads = await beginAll(deps, leased, options);
      const working = heads.filter((h) => h.events.length > 0);
      if (working.length === 0) break;
      const drained = await sendRound(deps, working, options);
      if (deps.store.settleReleasesLease) settled = new Set(working.map((w) => w.lease));
      // Only aggregates whose whole read was accepted may have more behind it; a refusal waits for the next run.
      active = drained.filter((h) => h.events.length >= options.maxEventsPerAggregate).map((h) => h.ref);
    } catch (error) {
      deps.log?.warn('outbox relay stopped; pending events stay for the next flush or sweep', { store: deps.store.kind, ...describeCause(error) });
      break;
    } finally {
      await release(deps, leased.map((l) => l.lease).filter((l) => !settled.has(l)), options);
    }
  }
}
