/**
 * One relay round over leased aggregates: read their heads within the byte budget (`beginAll`),
 * send them in one sender call and settle the verdicts in one batch (`sendRound`), quarantining
 * from an aggregate's first event not on the queue (relay.ts, "Quarantine").
 */
import { describeCause } from '../errors.js';
import { DEFAULT_MAX_BYTES_PER_ROUND } from './budget.js';
import { keepUnsettled, MarksFailed } from './kept-marks.js';
import { toMessage } from './message.js';
import { isSuspect, poisonReason } from './poison.js';
import { doneKey, type RelayDeps, type RelayRunOptions } from './run-options.js';
import type { AggregateRef, HeldLease, LeasedRef, SendReport, SettleItem, StoredEvent } from './types.js';

/** A leased aggregate with the events this round sends. */
export interface Working extends LeasedRef {
  events: StoredEvent[];
  more: boolean;
  /**
   * A poison event read behind `events` (the attempt rule): its quarantine is taken once every
   * event before it was accepted — taken now, it would hold those too if SQS refused one of
   * them retryably (a quarantined aggregate sends nothing until a redrive).
   */
  poison?: { fromSeq: number; reason: string };
}

/** What `beginAll` read: the aggregates to send, those left for the next round, and the suspects set aside. */
export interface Begun {
  working: Working[];
  /** Aggregates the byte budget left unread: first in the next round. */
  waiting: AggregateRef[];
  /** Aggregates set aside for a round of their own (a suspect among their events; see poison.ts). */
  suspects: AggregateRef[];
  /** The leases of `suspects`, settled already (released with them where the store's settle releases). */
  setAside: HeldLease[];
}

/**
 * Reads every leased aggregate's head in one batch, within the round's byte budget;
 * quarantines one whose head is poison. `waiting` are those the budget left for the next round.
 * In a round that read more than one event, an aggregate with a suspect among its events
 * (an earlier attempt never ended) is not sent: its attempt is ended at once, before any send
 * (finished, unjudged: nothing counts), and it is returned in `suspects`, to be relayed alone.
 */
export async function beginAll(deps: RelayDeps, leased: ReadonlyArray<LeasedRef>, options: RelayRunOptions): Promise<Begun> {
  const heads = await deps.store.begin(leased, { limit: options.maxEventsPerAggregate, maxBytes: options.maxBytesPerRound ?? DEFAULT_MAX_BYTES_PER_ROUND, signal: options.signal });
  const waiting: AggregateRef[] = [];
  const out: Working[] = [];
  const setAside: SettleItem[] = [];
  // Alone: the round holds one event, so an attempt of it that never ends is that event's doing.
  const alone = heads.reduce((n, h) => n + (h.quarantined ? 0 : h.events.length), 0) === 1;
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
    // Nothing to send now, for good or until a redrive: done, as far as a watchdog message goes.
    if (head.quarantined || head.refused || (head.events.length === 0 && !head.more)) options.done?.add(doneKey(ref));
    if (head.quarantined || head.events.length === 0) continue;
    const sendable: StoredEvent[] = [];
    let poison: Working['poison'];
    let suspect = false;
    for (const event of head.events) {
      deps.metrics.pendingSince(event.committedAt, now);
      if (!alone && isSuspect(event)) {
        suspect = true;
        break;
      }
      const reason = poisonReason(event, options.poison, alone);
      if (reason) {
        poison = { fromSeq: event.seq, reason };
        break;
      }
      sendable.push(event);
    }
    if (suspect) setAside.push({ ref, lease, sent: [], refused: head.events, unjudged: head.events });
    else if (sendable.length > 0) out.push({ ref, lease, events: sendable, more: head.more && !poison, ...(poison ? { poison } : {}) });
    else if (poison) await quarantine(deps, ref, lease, poison, options);
  }
  // Ended before anything is sent: a kill during this round's send leaves them no unfinished attempt.
  if (setAside.length > 0) await deps.store.settle(setAside, { signal: options.releaseSignal ?? options.signal });
  return { working: out, waiting, suspects: setAside.map((s) => s.ref), setAside: setAside.map((s) => s.lease) };
}

/** Holds the aggregate from `fromSeq` on, and says so (the warning names a redrive reference). */
async function quarantine(deps: RelayDeps, ref: AggregateRef, lease: HeldLease, entry: { fromSeq: number; reason: string; code?: string }, options: RelayRunOptions): Promise<void> {
  const quarantinedAt = await deps.store.quarantine(ref, { fromSeq: entry.fromSeq, reason: entry.reason, lease, signal: options.signal });
  deps.metrics.quarantined++;
  options.done?.add(doneKey(ref));
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
export async function sendRound(deps: RelayDeps, working: ReadonlyArray<Working>, options: RelayRunOptions): Promise<Working[]> {
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
    if (marked[i] === -2) {
      // Not marked (the store gave up on a document writers kept moving): still pending, sent again later.
      deps.log?.warn('outbox relay could not mark what SQS accepted: its document kept changing; the events stay pending and are sent again', { aggregate: ref.aggregate });
      for (const e of [...sent, ...refused]) deps.metrics.pendingSince(e.committedAt);
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
