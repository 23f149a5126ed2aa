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
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@steadyfn/handler';
import { describeCause } from '../errors.js';
import { DEFAULT_MAX_BYTES_PER_ROUND } from './budget.js';
import { toMessage } from './message.js';
import type { MetricsRecorder } from './metrics.js';
import { poisonReason, type PoisonPolicy } from './poison.js';
import type { AggregateRef, HeldLease, LeasedRef, RelayLease, RelayStore, Sender, SendReport, SettleItem, StoredEvent } from './types.js';

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
}

export interface RelayDeps {
  store: RelayStore;
  lease: RelayLease;
  sender: Sender;
  metrics: MetricsRecorder;
  log?: Logger | undefined;
}

interface Working extends LeasedRef {
  events: StoredEvent[];
  more: boolean;
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
async function beginAll(deps: RelayDeps, leased: ReadonlyArray<LeasedRef>, options: RelayRunOptions, maxBytes: number): Promise<{ working: Working[]; waiting: AggregateRef[] }> {
  const heads = await deps.store.begin(leased, { limit: options.maxEventsPerAggregate, maxBytes, signal: options.signal });
  const waiting: AggregateRef[] = [];
  const out: Working[] = [];
  // One clock read for the round's pending-age metric, not one per event.
  const now = Date.now();
  for (let i = 0; i < leased.length; i++) {
    const { ref, lease } = leased[i]!;
    const head = heads[i]!;
    if (!head.quarantined && head.events.length === 0 && head.more) waiting.push(ref);
    if (head.quarantined || head.events.length === 0) continue;
    const sendable: StoredEvent[] = [];
    let poisoned = false;
    for (const event of head.events) {
      deps.metrics.pendingSince(event.committedAt, now);
      const reason = poisonReason(event, options.poison);
      if (reason) {
        const quarantinedAt = await deps.store.quarantine(ref, { fromSeq: event.seq, reason, lease, signal: options.signal });
        deps.metrics.quarantined++;
        deps.log?.warn('outbox aggregate quarantined', { where: ref.where, aggregate: ref.aggregate, fromSeq: event.seq, quarantinedAt, reason, fence: lease.fence });
        poisoned = true;
        break;
      }
      sendable.push(event);
    }
    if (sendable.length > 0) out.push({ ref, lease, events: sendable, more: head.more && !poisoned });
  }
  return { working: out, waiting };
}

/**
 * The sender's report, or — when `send` threw (a custom sender, an abort before it began) —
 * one that fails every message unjudged: SQS gave no verdict, so the attempt must end as
 * finished-but-unjudged, not stay "unfinished" like a crash.
 */
async function sendAll(deps: RelayDeps, working: ReadonlyArray<Working>, options: RelayRunOptions): Promise<SendReport> {
  const messages = working.flatMap((w) => w.events.map(toMessage));
  try {
    return await deps.sender.send(messages, { signal: options.signal });
  } catch (error) {
    deps.log?.warn('outbox relay send failed without a verdict; the events stay pending', { store: deps.store.kind, ...describeCause(error) });
    return { sent: [], failed: messages.map((m) => ({ id: m.id, code: 'SendFailed', senderFault: false, retryable: true, judged: false })), batches: 0, fill: { entries: 0, bytes: 0 }, retries: 0 };
  }
}

/** Sends one round for the working aggregates and settles them in one batch. Returns those whose every event was accepted. */
async function sendRound(deps: RelayDeps, working: ReadonlyArray<Working>, options: RelayRunOptions): Promise<Working[]> {
  const report = await sendAll(deps, working, options);
  deps.metrics.addReport(report);
  const accepted = new Set<string>();
  for (const s of report.sent) accepted.add(s.id);
  const failures = new Map(report.failed.map((f) => [f.id, f]));
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
  const marked = await deps.store.settle(items, { signal: options.releaseSignal ?? options.signal });
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
    const faulty = refused.find((e) => failures.get(e.id)?.senderFault === true);
    if (faulty) {
      // SQS will never take it as it is: hold the aggregate from it on, in order.
      const code = failures.get(faulty.id)?.code ?? 'SenderFault';
      const quarantinedAt = await deps.store.quarantine(ref, { fromSeq: faulty.seq, reason: `sender fault: ${code}`, lease, signal: options.signal });
      deps.metrics.quarantined++;
      deps.log?.warn('outbox aggregate quarantined', { where: ref.where, aggregate: ref.aggregate, fromSeq: faulty.seq, quarantinedAt, reason: 'sender fault', code, fence: lease.fence });
    }
    const now = Date.now();
    for (const e of refused) deps.metrics.pendingSince(e.committedAt, now);
    if (refused.length === 0) drained.push(working[i]!);
  }
  return drained;
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

/** One round of some aggregates: their leases claimed and their heads read (attempts begun), not sent yet. */
interface Round {
  leased: LeasedRef[];
  working: Working[];
  waiting: AggregateRef[];
  /** Body bytes (UTF-8) the round holds. */
  bytes: number;
}

/**
 * Claims and reads one round of `refs` within `maxBytes` of bodies. Undefined when nothing was
 * leased or read, or a store call failed (logged); every lease it claimed is then released.
 * Never throws, so a round read ahead never rejects unobserved.
 */
async function readRound(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions, maxBytes: number): Promise<Round | undefined> {
  let leased: LeasedRef[] = [];
  try {
    leased = await claimAll(deps, refs, options);
    if (leased.length === 0) return undefined;
    const { working, waiting } = await beginAll(deps, leased, options, maxBytes);
    if (working.length > 0 || waiting.length > 0) {
      let bytes = 0;
      for (const w of working) for (const e of w.events) bytes += Buffer.byteLength(e.body);
      return { leased, working, waiting, bytes };
    }
  } catch (error) {
    deps.log?.warn('outbox relay stopped; pending events stay for the next flush or sweep', { store: deps.store.kind, ...describeCause(error) });
  }
  await release(deps, leased.map((l) => l.lease), options);
  return undefined;
}

/**
 * Sends a round, marks what SQS accepted and releases its leases. Returns the aggregates of the
 * next round: those the byte budget left unread first, then those whose whole read was accepted
 * and that have more behind it (a refusal waits for the next run); none after a store failure
 * (logged). Never throws.
 */
async function finishRound(deps: RelayDeps, round: Round, options: RelayRunOptions): Promise<AggregateRef[]> {
  let settled = new Set<HeldLease>();
  try {
    const drained = round.working.length > 0 ? await sendRound(deps, round.working, options) : [];
    if (deps.store.settleReleasesLease) settled = new Set(round.working.map((w) => w.lease));
    return [...round.waiting, ...drained.filter((w) => w.more).map((w) => w.ref)];
  } catch (error) {
    deps.log?.warn('outbox relay stopped; pending events stay for the next flush or sweep', { store: deps.store.kind, ...describeCause(error) });
    return [];
  } finally {
    await release(deps, round.leased.map((l) => l.lease).filter((l) => !settled.has(l)), options);
  }
}

/** A chunk's first round: the queue checked readable, then read. */
async function firstRound(deps: RelayDeps, chunk: ReadonlyArray<AggregateRef>, options: RelayRunOptions, maxBytes: number): Promise<Round | undefined> {
  return chunk.length > 0 && (await queueReadable(deps, options)) ? readRound(deps, chunk, options, maxBytes) : undefined;
}

/**
 * Relays chunks of aggregates one after another, each in rounds until its heads are drained,
 * an aggregate is refused, or too little time is left; `take` gives the next chunk (undefined:
 * none left). Each round claims its aggregates' leases (one generation per round, so every mark
 * is fenced by a fresh token), reads, sends, marks and releases. Never throws for a store or
 * queue failure: what is not marked stays pending for the next flush or sweep.
 *
 * With `overlap`, the next chunk's first round is claimed and read while the current chunk's
 * last round is being sent and marked, so the store's round trips leave no gap in the sends.
 * Why that keeps every guarantee:
 * - Order per aggregate: it is read ahead only when the round in flight is its chunk's last (no
 *   aggregate of it has more to read, none waits on the budget), so no round of the same chunk
 *   can follow; a sweep's chunks are disjoint slices of one listing, and an aggregate listed
 *   twice would still be skipped, its lease held by the round in flight (claimed per round,
 *   under a fresh owner). Its events go out only after the round in flight has finished.
 * - Marks only after SQS accepted, fencing and poison: the round read ahead is sent, marked
 *   (fenced by its own leases), quarantined and released exactly as any round.
 * - Deadline: it is read only when a new round could start (`reserveMs` left, not aborted), and
 *   once read it is always sent: a send the deadline aborted is recorded as finished and
 *   unjudged, as for any round — never left as an unfinished attempt.
 * - Memory: it is read only when the round in flight holds at most half of `maxBytesPerRound`,
 *   within what that round left, so both together hold at most the budget (plus, as for any
 *   round, one event larger than what is left, read alone).
 * - Leases: its leases are held from its read until its own marks — at most the round in
 *   flight longer than a round's own; marks after a lease ran out are refused by the fence.
 */
export async function relayChunks(deps: RelayDeps, take: () => ReadonlyArray<AggregateRef> | undefined, options: RelayRunOptions, overlap: boolean): Promise<void> {
  const budget = options.maxBytesPerRound ?? DEFAULT_MAX_BYTES_PER_ROUND;
  const stop = (): boolean => options.signal?.aborted === true || options.remainingMs() < options.reserveMs;
  let ahead: Promise<Round | undefined> | undefined;
  for (;;) {
    let round: Round | undefined;
    if (ahead) {
      round = await ahead;
      ahead = undefined;
    } else {
      if (stop()) return;
      const chunk = take();
      if (!chunk) return;
      round = await firstRound(deps, chunk, options, budget);
    }
    for (let n = 0; round && n < 1000; n++) {
      const last = round.waiting.length === 0 && round.working.every((w) => !w.more);
      if (overlap && last && round.bytes <= budget / 2 && !stop()) {
        const chunk = take();
        if (chunk) ahead = firstRound(deps, chunk, options, budget - round.bytes);
      }
      const active = await finishRound(deps, round, options);
      round = active.length > 0 && !stop() ? await readRound(deps, active, options, budget) : undefined;
    }
  }
}

/**
 * Relays what is pending for `refs`, in rounds, until their heads are drained, an aggregate
 * is refused, or too little time is left (`relayChunks` with one chunk). Never throws for a
 * store or queue failure: what is not marked stays pending for the next flush or sweep.
 */
export async function relayAggregates(deps: RelayDeps, refs: ReadonlyArray<AggregateRef>, options: RelayRunOptions): Promise<void> {
  let given = false;
  await relayChunks(deps, () => (given ? undefined : ((given = true), refs)), options, false);
}
