/**
 * What any overlap of the relay's reads with its sends must keep, against the real stores
 * (Redis and the embedded outbox on FerretDB, each with its real `@steadyfn/lease` store) and a
 * FIFO queue on a real SQS server (fauxqs, moto), with `sqsSender`. A sweep's parallel workers
 * already read while other workers' sends are in flight; a read-ahead of a worker's own next
 * chunk during its last round's send was tried (commit 4ec1324 on wt/relay-overlap), measured
 * no faster (README, Bench) and left out — these tests are the guard for a next attempt.
 *
 * The store and the sender are observed, not replaced: every `begin` (a read, which begins the
 * events' attempts) and `settle` (the marks) is recorded per aggregate, every send call with the
 * aggregates and seqs it carries. What fails if a read overlapped an aggregate's round in
 * flight: a `begin` of an aggregate read and not marked yet (`reopened`), two send calls of one
 * aggregate at once, an aggregate's seqs accepted out of order or twice, a FIFO group delivered
 * out of order; and if a round read were left unsent: an aggregate read and never marked (`open`).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { sqsSender } from '../src/sqs.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import { ATTRIBUTES } from '../src/relay/message.js';
import type { RelayRunOptions } from '../src/relay/relay.js';
import { sweep, type SweepOptions } from '../src/relay/sweeper.js';
import type { RelayStore, Sender } from '../src/relay/types.js';
import { openFaultServers, type FaultBackend, type FaultServers } from './fault/backends.js';
import type { ServerName } from './sqs-servers.js';
import { drainQueue } from './support.js';

const AGGREGATES = 12;
const PER_AGGREGATE = 5;
/** Two events per aggregate per round: three rounds per chunk (seqs 1–2, 3–4, 5). */
const RUN = { leaseMs: 30_000, maxEventsPerAggregate: 2, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0 };
const SWEEP: SweepOptions = { graceMs: 0, maxAggregates: 1000, chunk: 3, parallel: 2, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 };

/** What the observed store and sender saw. */
interface Observed {
  store: RelayStore;
  sender: Sender;
  /** Reads of an aggregate whose previous read was not marked yet (must stay empty). */
  reopened: string[];
  /** Send calls that carried an aggregate another call in flight carried (must stay empty). */
  sentTwiceAtOnce: string[];
  /** Per aggregate, the seqs SQS accepted, in the order the calls were answered. */
  accepted: Map<string, number[]>;
  /** Aggregates read and not marked yet. */
  open: Set<string>;
  /** Called after a read, with the seqs it read. */
  onRead?: (seqs: number[]) => void;
}

function observe(store: RelayStore, inner: Sender): Observed {
  const o: Observed = { store, sender: inner, reopened: [], sentTwiceAtOnce: [], accepted: new Map(), open: new Set() };
  const inFlight = new Map<string, number>();
  const keyOf = (ref: { where: string; aggregate: string }): string => `${ref.where} ${ref.aggregate}`;
  const begin: RelayStore['begin'] = async (items, options) => {
    for (const { ref } of items) {
      if (o.open.has(keyOf(ref))) o.reopened.push(ref.aggregate);
      o.open.add(keyOf(ref));
    }
    try {
      const heads = await store.begin(items, options);
      heads.forEach((head, i) => {
        if (head.events.length === 0) o.open.delete(keyOf(items[i]!.ref));
      });
      o.onRead?.(heads.flatMap((h) => h.events.map((e) => e.seq)));
      return heads;
    } catch (error) {
      for (const { ref } of items) o.open.delete(keyOf(ref));
      throw error;
    }
  };
  const settle: RelayStore['settle'] = async (items, options) => {
    try {
      return await store.settle(items, options);
    } finally {
      for (const { ref } of items) o.open.delete(keyOf(ref));
    }
  };
  o.store = new Proxy(store, { get: (t, k) => (k === 'begin' ? begin : k === 'settle' ? settle : Reflect.get(t, k)) });
  o.sender = {
    fifo: inner.fifo,
    ...(inner.maxMessageBytes ? { maxMessageBytes: inner.maxMessageBytes.bind(inner) } : {}),
    async send(messages, options) {
      const aggregates = [...new Set(messages.map((m) => m.attributes![ATTRIBUTES.aggregate]!))];
      for (const a of aggregates) {
        if ((inFlight.get(a) ?? 0) > 0) o.sentTwiceAtOnce.push(a);
        inFlight.set(a, (inFlight.get(a) ?? 0) + 1);
      }
      try {
        const report = await inner.send(messages, options);
        const seqOf = new Map(messages.map((m) => [m.id, m]));
        for (const { id } of report.sent) {
          const m = seqOf.get(id)!;
          const a = m.attributes![ATTRIBUTES.aggregate]!;
          o.accepted.set(a, [...(o.accepted.get(a) ?? []), Number(m.attributes![ATTRIBUTES.seq])]);
        }
        return report;
      } finally {
        for (const a of aggregates) inFlight.set(a, inFlight.get(a)! - 1);
      }
    },
  };
  return o;
}

/** Per FIFO group (aggregate), the seqs delivered, in delivery order. */
async function delivered(s: FaultServers): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const m of await drainQueue(s.sqs, s.queue.url)) {
    const a = m.MessageAttributes![ATTRIBUTES.aggregate]!.StringValue!;
    out.set(a, [...(out.get(a) ?? []), Number(m.MessageAttributes![ATTRIBUTES.seq]!.StringValue)]);
  }
  return out;
}

const all = Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1);
const everyAggregate = (seqs: number[]): Map<string, number[]> => new Map(Array.from({ length: AGGREGATES }, (_, a) => [`tick/agg-${a}`, seqs]));

const CASES: Array<{ backend: FaultBackend; sqs: ServerName }> = [
  { backend: 'redis', sqs: 'fauxqs' },
  { backend: 'ferretdb', sqs: 'moto' },
];

describe.each(CASES)('sweep reads and sends on $backend, $sqs FIFO queue', ({ backend, sqs }) => {
  let servers: FaultServers | undefined;
  afterEach(async () => {
    await servers?.close();
    servers = undefined;
  });

  const setUp = async (): Promise<{ s: FaultServers; o: Observed }> => {
    const s = (servers = await openFaultServers(backend, { sqs, fifo: true }));
    expect(await s.side.record(AGGREGATES, PER_AGGREGATE)).toBe(AGGREGATES * PER_AGGREGATE);
    return { s, o: observe(s.side.store, sqsSender({ client: s.sqs, queueUrl: s.queue.url })) };
  };
  const run = (extra: Partial<RelayRunOptions> = {}): RelayRunOptions => ({ ...RUN, remainingMs: () => 60_000, ...extra });

  test('parallel workers read while others send, never an aggregate read and not marked: each event once, in seq order', async () => {
    const { s, o } = await setUp();
    const metrics = new MetricsRecorder();
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics }, run(), SWEEP);
    expect(o.reopened).toEqual([]);
    expect(o.sentTwiceAtOnce).toEqual([]);
    expect(o.open.size).toBe(0);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(metrics.snapshot()).toMatchObject({ sent: AGGREGATES * PER_AGGREGATE, failed: 0, quarantined: 0 });
    expect(await delivered(s)).toEqual(everyAggregate(all));
    expect(await s.side.store.listPending({ limit: 100, before: Date.now() + 60_000 })).toEqual([]);
  }, 90_000);

  test('a round read is sent and marked though the run is aborted right after its read; the next sweep sends the rest in order', async () => {
    const { s, o } = await setUp();
    const abort = new AbortController();
    // Aborted once a second round has been read (its attempts begun), before it is sent.
    o.onRead = (seqs) => {
      if (seqs.includes(3)) abort.abort(new Error('deadline'));
    };
    const first = new MetricsRecorder();
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: first }, run({ signal: abort.signal, releaseSignal: new AbortController().signal }), { ...SWEEP, parallel: 1 });
    // Its send met the aborted signal: finished, unjudged, marked so, leases released; nothing else read.
    expect(o.reopened).toEqual([]);
    expect(o.open.size).toBe(0);
    expect(first.snapshot()).toMatchObject({ sent: SWEEP.chunk * RUN.maxEventsPerAggregate, failed: SWEEP.chunk * RUN.maxEventsPerAggregate, quarantined: 0 });
    o.onRead = undefined;
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run(), SWEEP);
    expect(o.reopened).toEqual([]);
    expect(o.sentTwiceAtOnce).toEqual([]);
    expect(o.open.size).toBe(0);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(await delivered(s)).toEqual(everyAggregate(all));
  }, 90_000);

  test('once the time left is below reserveMs the round in flight is finished and nothing new is read; the next sweep sends the rest in order', async () => {
    const { s, o } = await setUp();
    let left = 60_000;
    // The time runs out while the first chunk's last round is read.
    o.onRead = (seqs) => {
      if (seqs.includes(PER_AGGREGATE)) left = 0;
    };
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run({ reserveMs: 1, remainingMs: () => left }), { ...SWEEP, parallel: 1 });
    expect(o.reopened).toEqual([]);
    expect(o.open.size).toBe(0);
    expect([...o.accepted.values()]).toEqual(Array.from({ length: SWEEP.chunk }, () => all));
    expect(await s.side.store.listPending({ limit: 100, before: Date.now() + 60_000 })).toHaveLength(AGGREGATES - SWEEP.chunk);
    o.onRead = undefined;
    left = 60_000;
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run({ reserveMs: 1, remainingMs: () => left }), SWEEP);
    expect(o.reopened).toEqual([]);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(await delivered(s)).toEqual(everyAggregate(all));
  }, 90_000);
});
