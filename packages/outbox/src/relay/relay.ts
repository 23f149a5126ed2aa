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
 * it. The sender stops the later messages of a group after a failure in the same call;
 * only an entry SQS itself refuses inside one `SendMessageBatch` can let a later one through,
 * which is marked (it is on the queue) and put back in order by the consumer's `seq` check on
 * a standard queue — and never happens on a FIFO queue, where the sender puts at most one
 * message of a group in a call (`onePerGroupPerBatch`, its FIFO default).
 *
 * Quarantine: only from an aggregate's first event not on the queue. A quarantined aggregate
 * sends nothing until a redrive, so one taken from a later event would also hold an earlier one
 * that only needed a retry. After a send, the first refused event is quarantined when SQS
 * refused it as a sender fault; a poison event (the attempt rule) read behind sendable ones is
 * quarantined once they were all accepted. Otherwise the next flush or sweep tries again.
 *
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
import { randomUUID } from 'node:crypto';
import type { Logger } from '@steadyfn/handler';
import { ConfigurationError, describeCause } from '../errors.js';
import { DEFAULT_MAX_BYTES_PER_ROUND } from './budget.js';
import { toMessage } from './message.js';
import type { MetricsRecorder } from './metrics.js';
import { poisonReason, type PoisonPolicy } from './poison.js';
import type { AggregateRef, HeldLease, LeasedRef, RelayLease, RelayStore, Sender, SendReport, SettleItem, SkippedPartition, StoredEvent } from './types.js';

/** How a relay run behaves. */
export interface RelayRunOptions {
  /** How long an aggregate's lease lasts (judged by the store's clock). */
  leaseMs: number;
  /** Most events read from one aggregate per round. */
  maxEventsPerAggregate: number;
  /**
   * Body bytes read per round across its aggregates, spent in order (`relay/budget.ts`); a
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
}

/** Events of a run that were not sent, and their distinct codes (SQS's own or the sender's). */
export interface UnsentTally {
  failed: number;
  codes: Set<string>;
  /** Of `failed`, the events a sender fault quarantined (held until a redrive, not retried). */
  quarantined?: number;
}

export interface RelayDeps {
  store: RelayStore;
  lease: RelayLease;
  sender: Sender;
  metrics: MetricsRecorder;
  log?: Logger | undefined;
}

/** Rounds whose marks failed after the send, per relay store: settled first by the next run in this process. */
const unsettled = new WeakMap<RelayStore, SettleItem[]>();
/** Most aggregates' verdicts kept per store (the oldest dropped: they count as a crash would). */
const MAX_UNSETTLED = 1_000;

/** Raised by a round whose marks failed: its leases stay held for the replay. */
class MarksFailed extends Error {
  constructor(readonly items: ReadonlyArray<SettleItem>, override readonly cause: unknown) {
    super('outbox relay marks failed');
  }
}

function keepUnsettled(store: RelayStore, items: ReadonlyArray<SettleItem>): void {
  const kept = [...(unsettled.get(store) ?? []), ...items];
  unsettled.set(store, kept.slice(Math.max(0, kept.length - MAX_UNSETTLED)));
}

/** Settles the rounds an earlier run here could not mark (see the file's comment). Never throws. */
async function settleKept(deps: RelayDeps, options: RelayRunOptions): Promise<void> {
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
  const fenced = marked.filter((m) => m === -1).length;
  deps.log?.info('outbox relay marked rounds SQS accepted before a store outage', { store: deps.store.kind, aggregates: items.length, fenced });
}

interface Working extends LeasedRef {
  events: StoredEvent[];
  more: boolean;
  /**
   * A poison event read behind `events` (the attempt rule): its quarantine is taken once every
   * event before it was accepted — taken now, it would hold those too if SQS refused one of
   * them retryably (a quarantined aggregate sends nothing until a redrive).
   */
  poison?: { fromSeq: number; reason: string };
}

/** Claims the aggregates' leases in one batch; those another relay holds are skipped (it sends them, in order). */
async function claimAll(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<LeasedRef[]> {
  const owner = randomUUID();
  const keys = refs.map((ref) => deps.store.leaseKey(ref));
  // One owner token per round: every aggregate's lease names this relay run.
  const results = await deps.lease.claimMany(keys.map((key) => ({ key, owner, leaseMs: options.leaseMs })), { ...(options.signal ? { signal: options.signal } : {}) });
  const leased: LeasedRef[] = [];
  results.forEach((result, i) => {
    if (result.claimed) leased.push({ ref: refs[i]!, lease: { key: keys[i]!, owner, fence: result.fence } });
    else deps.metrics.leased++;
  });
  return leased;
}

/**
 * Reads every leased aggregate's head in one batch, within the round's byte budget;
 * quarantines one whose head is poison. `waiting` are those the budget left for the next round.
 */
async function beginAll(deps: RelayDeps, leased: ReadonlyArray<LeasedRef>, options: RelayRunOptions): Promise<{ working: Working[]; waiting: AggregateRef[] }> {
  const heads = await deps.store.begin(leased, { limit: options.maxEventsPerAggregate, maxBytes: options.maxBytesPerRound ?? DEFAULT_MAX_BYTES_PER_ROUND, signal: options.signal });
  const waiting: AggregateRef[] = [];
  const out: Working[] = [];
  // One clock read for the round's pending-age metric, not one per event.
  const now = Date.now();
  for (let i = 0; i < leased.length; i++) {
    const { ref, lease } = leased[i]!;
    const head = heads[i]!;
    if (!head.quarantined && head.events.length === 0 && head.more) waiting.push(ref);
    // Quarantined: nothing is sent until a redrive, a flush's own events included — counted, so the record says so.
    if (head.quarantined) deps.metrics.held++;
    // Its partition cannot be read (an own key of another type): said, the others go on.
    if (head.refused) {
      deps.log?.warn('outbox relay skipped an aggregate whose partition cannot be read; the others are relayed', { store: deps.store.kind, where: ref.where, aggregate: ref.aggregate, code: head.refused.code, reason: head.refused.reason });
      options.onRefused?.({ where: ref.where, code: head.refused.code, reason: head.refused.reason });
    }
    if (head.quarantined || head.events.length === 0) continue;
    const sendable: StoredEvent[] = [];
    let poison: Working['poison'];
    for (const event of head.events) {
      deps.metrics.pendingSince(event.committedAt, now);
      const reason = poisonReason(event, options.poison);
      if (reason) {
        poison = { fromSeq: event.seq, reason };
        break;
      }
      sendable.push(event);
    }
    if (sendable.length > 0) out.push({ ref, lease, events: sendable, more: head.more && !poison, ...(poison ? { poison } : {}) });
    else if (poison) await quarantine(deps, ref, lease, poison, options);
  }
  return { working: out, waiting };
}

/** Holds the aggregate from `fromSeq` on, and says so (the warning names a redrive reference). */
async function quarantine(deps: RelayDeps, ref: AggregateRef, lease: HeldLease, entry: { fromSeq: number; reason: string; code?: string }, options: RelayRunOptions): Promise<void> {
  const quarantinedAt = await deps.store.quarantine(ref, { fromSeq: entry.fromSeq, reason: entry.reason, lease, signal: options.signal });
  deps.metrics.quarantined++;
  deps.log?.warn('outbox aggregate quarantined', { where: ref.where, aggregate: ref.aggregate, fromSeq: entry.fromSeq, quarantinedAt, reason: entry.code ? 'sender fault' : entry.reason, ...(entry.code ? { code: entry.code } : {}), fence: lease.fence });
}

/**
 * The sender's report, or — when `send` threw (a custom sender, an abort before it began) —
 * one that fails every message unjudged: SQS gave no verdict, so the attempt must end as
 * finished-but-unjudged, not stay "unfinished" like a crash.
 */
async function sendAll(deps: RelayDeps, working: ReadonlyArray<Working>, options: RelayRunOptions): Promise<{ report: SendReport; threw: boolean }> {
  const messages = working.flatMap((w) => w.events.map(toMessage));
  try {
    return { report: await deps.sender.send(messages, { signal: options.signal }), threw: false };
  } catch (error) {
    deps.log?.warn('outbox relay send failed without a verdict; the events stay pending', { store: deps.store.kind, ...describeCause(error) });
    const failed = messages.map((m) => ({ id: m.id, code: 'SendFailed', senderFault: false, retryable: true, judged: false }));
    return { report: { sent: [], failed, batches: 0, fill: { entries: 0, bytes: 0 }, retries: 0 }, threw: true };
  }
}

/** Sends one round for the working aggregates and settles them in one batch. Returns those whose every event was accepted. */
async function sendRound(deps: RelayDeps, working: ReadonlyArray<Working>, options: RelayRunOptions): Promise<Working[]> {
  const { report, threw } = await sendAll(deps, working, options);
  deps.metrics.addReport(report);
  const accepted = new Set<string>();
  for (const s of report.sent) accepted.add(s.id);
  const failures = new Map(report.failed.map((f) => [f.id, f]));
  // A sender that threw was warned about above, with its cause: not counted again as unsent.
  if (!threw && options.unsent) {
    options.unsent.failed += report.failed.length;
    for (const f of report.failed) options.unsent.codes.add(f.code);
  }
  // Per aggregate in one pass: accepted (to mark), refused, and of those the ones SQS never judged.
  const items: SettleItem[] = working.map((w) => {
    const item = { ref: w.ref, lease: w.lease, sent: [] as StoredEvent[], refused: [] as StoredEvent[], unjudged: [] as StoredEvent[] };
    for (const e of w.events) {
      if (accepted.has(e.id)) item.sent.push(e);
      else {
        item.refused.push(e);
        if (failures.get(e.id)?.judged === false) item.unjudged.push(e);
      }
    }
    return item;
  });
  // With the invocation's signal, not the run's: a send the deadline reserve aborted is still
  // recorded (reserveMs is the time for it) as finished and unjudged — else it would count as
  // a crash, and three deadline-bound sweeps through an outage would quarantine the aggregate.
  let marked: number[];
  try {
    marked = await deps.store.settle(items, { signal: options.releaseSignal ?? options.signal });
  } catch (error) {
    // SQS answered; only the store is missing. Kept for the next run here, leases held for it.
    keepUnsettled(deps.store, items);
    throw new MarksFailed(items, error);
  }
  const drained: Working[] = [];
  for (let i = 0; i < items.length; i++) {
    const { ref, lease, sent, refused } = items[i]!;
    if (marked[i] === -1) {
      // The lease moved on before the marks: another relay holds the aggregate now; it sends them again.
      deps.log?.warn('outbox relay lease lost before its marks; the next holder sends these events again', { aggregate: ref.aggregate, fence: lease.fence });
      deps.metrics.failed += sent.length + refused.length;
      continue;
    }
    deps.metrics.sent += sent.length;
    deps.metrics.failed += refused.length;
    // Only the first refused event can start a quarantine: a quarantined aggregate sends
    // nothing until a redrive, so one taken on a later sender fault would also hold an earlier
    // event that only needed a retry. That one is retried first (next flush or sweep), and the
    // poison event, refused again once it heads the aggregate, is quarantined then.
    const faulty = refused.length > 0 && failures.get(refused[0]!.id)?.senderFault === true ? refused[0] : undefined;
    if (faulty) {
      // SQS will never take it as it is: hold the aggregate from it on, in order.
      const code = failures.get(faulty.id)?.code ?? 'SenderFault';
      await quarantine(deps, ref, lease, { fromSeq: faulty.seq, reason: `sender fault: ${code}`, code }, options);
      if (!threw && options.unsent) options.unsent.quarantined = (options.unsent.quarantined ?? 0) + refused.filter((e) => e.seq >= faulty.seq).length;
    } else if (refused.length === 0 && working[i]!.poison) {
      // Everything before the poison event is on the queue: now it is held, from its seq on.
      await quarantine(deps, ref, lease, working[i]!.poison!, options);
    }
    const now = Date.now();
    for (const e of refused) deps.metrics.pendingSince(e.committedAt, now);
    if (refused.length === 0) drained.push(working[i]!);
  }
  return drained;
}

/**
 * Says, once per run (a flush, or a sweep over all its chunks), that some events were not sent:
 * their count and distinct codes — SQS's own (`NonExistentQueue`, `AccessDenied`,
 * `ThrottlingException`…), the sender's (`OUTBOX_SQS_…`), or why no verdict came (`Aborted`,
 * `ECONNREFUSED`). Without it an operator saw only `failed` in the `outbox` record. Codes are
 * names, never values; at most 10.
 */
export function warnUnsent(log: Logger | undefined, store: string, tally: UnsentTally): void {
  if (tally.failed === 0) return;
  const codes = [...tally.codes].slice(0, 10).join(',');
  const quarantined = tally.quarantined ?? 0;
  if (quarantined === 0) {
    log?.warn('outbox relay: some events were not sent to SQS; they stay pending for the next flush or sweep', { store, failed: tally.failed, codes });
    return;
  }
  // Quarantined events are not retried by a flush or sweep: saying so would have an operator wait for nothing.
  const msg =
    quarantined >= tally.failed
      ? 'outbox relay: some events were not sent to SQS; SQS refuses them as they are (a sender fault), so they are quarantined until a redrive'
      : 'outbox relay: some events were not sent to SQS; those SQS refuses as they are (a sender fault) are quarantined until a redrive, the others stay pending for the next flush or sweep';
  log?.warn(msg, { store, failed: tally.failed, quarantined, codes });
}

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

/** Releases, in one batch, the leases the store's marks did not already release. Never throws: a lease left held expires. */
async function release(deps: RelayDeps, leases: ReadonlyArray<HeldLease>, options: RelayRunOptions): Promise<void> {
  if (leases.length === 0) return;
  const signal = options.releaseSignal ?? options.signal;
  await deps.lease.settleMany(leases.map(({ key, owner, fence }) => ({ key, owner, fence })), signal ? { signal } : {}).catch(() => undefined);
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
  for (let round = 0; active.length > 0 && round < 1000; round++) {
    if (options.signal?.aborted || options.remainingMs() < options.reserveMs) break;
    let leased: LeasedRef[] = [];
    let settled = new Set<HeldLease>();
    try {
      leased = await claimAll(deps, active, options);
      if (leased.length === 0) break;
      const { working, waiting } = await beginAll(deps, leased, options);
      if (working.length === 0 && waiting.length === 0) break;
      const drained = working.length > 0 ? await sendRound(deps, working, options) : [];
      if (deps.store.settleReleasesLease) settled = new Set(working.map((w) => w.lease));
      // Those the byte budget left unread go first next round; then those whose whole read was
      // accepted and that have more behind it. A refusal waits for the next run.
      active = [...waiting, ...drained.filter((w) => w.more).map((w) => w.ref)];
    } catch (error) {
      if (error instanceof MarksFailed) {
        settled = new Set(error.items.map((i) => i.lease));
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
  }
}
