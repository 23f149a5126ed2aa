/**
 * The sweeper's read-ahead (`relayChunks` in src/relay/relay.ts): a worker claims and reads its
 * next chunk while its current chunk's last round is being sent. Against the real stores (Redis
 * and the embedded outbox on FerretDB, each with its real `@steadyfn/lease` store) and a FIFO
 * queue on a real SQS server (fauxqs, moto), with `sqsSender`.
 *
 * The store and the sender are observed, not replaced: every `begin` (a read, which begins the
 * events' attempts) and `settle` (the marks) is recorded per aggregate, every send call with the
 * aggregates and seqs it carries. With `hold`, a send that carries an aggregate's last seq — the
 * last round of its chunk, the one a read-ahead overlaps — is held until a read that started
 * during it has returned (or 5 s passed: no read-ahead is coming), so the overlap happens on
 * every chunk, not only when the timing allows.
 * What would fail if the read-ahead read an aggregate whose round is in flight: `begin` of an
 * aggregate read and not yet marked (`reopened`), two send calls of one aggregate at once, an
 * aggregate's seqs sent out of order or twice, or a FIFO group delivered out of order.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { sqsSender } from '../src/index.js';
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
/** Two events per aggregate per round: three rounds per chunk (seqs 1–2, 3–4, 5), the last one read ahead of the next chunk. */
const RUN = { leaseMs: 30_000, maxEventsPerAggregate: 2, poison: { maxAttempts: 100, maxUnfinishedAttempts: 100 }, reserveMs: 0 };
const SWEEP: SweepOptions = { graceMs: 0, maxAggregates: 1000, chunk: 3, parallel: 1, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 };

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
  /** Reads that started while a send call was in flight. */
  readsDuringSends: number;
  /** Aggregates read and not marked yet. */
  open: Set<string>;
  /** Called after a read, with the seqs it read. */
  onRead?: (seqs: number[]) => void;
  /** Called after marks, with the seqs SQS accepted. */
  onSettled?: (seqs: number[]) => void;
}

function observe(store: RelayStore, inner: Sender, hold: boolean): Observed {
  const o: Observed = { store, sender: inner, reopened: [], sentTwiceAtOnce: [], accepted: new Map(), readsDuringSends: 0, open: new Set() };
  const inFlight = new Map<string, number>();
  let sendsInFlight = 0;
  let overlappedRead = (): void => undefined;
  const keyOf = (ref: { where: string; aggregate: string }): string => `${ref.where} ${ref.aggregate}`;
  const begin: RelayStore['begin'] = async (items, options) => {
    const during = sendsInFlight > 0;
    if (during) o.readsDuringSends++;
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
    } finally {
      if (during) overlappedRead();
    }
  };
  const settle: RelayStore['settle'] = async (items, options) => {
    try {
      return await store.settle(items, options);
    } finally {
      for (const { ref } of items) o.open.delete(keyOf(ref));
      o.onSettled?.(items.flatMap((i) => i.sent.map((e) => e.seq)));
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
      sendsInFlight++;
      try {
        if (hold && messages.some((m) => Number(m.attributes![ATTRIBUTES.seq]) === PER_AGGREGATE)) {
          // The chunk's last round: held until the read-ahead that started during it has returned, or 5 s.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            overlappedRead = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          overlappedRead = () => undefined;
        }
        const report = await inner.send(messages, options);
        const seqOf = new Map(messages.map((m) => [m.id, m]));
        for (const { id } of report.sent) {
          const m = seqOf.get(id)!;
          const a = m.attributes![ATTRIBUTES.aggregate]!;
          o.accepted.set(a, [...(o.accepted.get(a) ?? []), Number(m.attributes![ATTRIBUTES.seq])]);
        }
        return report;
      } finally {
        sendsInFlight--;
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

describe.each(CASES)('sweep read-ahead on $backend, $sqs FIFO queue', ({ backend, sqs }) => {
  let servers: FaultServers | undefined;
  afterEach(async () => {
    await servers?.close();
    servers = undefined;
  });

  const setUp = async (hold: boolean): Promise<{ s: FaultServers; o: Observed }> => {
    const s = (servers = await openFaultServers(backend, { sqs, fifo: true }));
    expect(await s.side.record(AGGREGATES, PER_AGGREGATE)).toBe(AGGREGATES * PER_AGGREGATE);
    return { s, o: observe(s.side.store, sqsSender({ client: s.sqs, queueUrl: s.queue.url }), hold) };
  };
  const run = (extra: Partial<RelayRunOptions> = {}): RelayRunOptions => ({ ...RUN, remainingMs: () => 60_000, ...extra });

  test('reads the next chunk during the last round of the current one, never an aggregate in flight: each event once, in seq order', async () => {
    const { s, o } = await setUp(true);
    const metrics = new MetricsRecorder();
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics }, run(), SWEEP);
    // Never a read of an aggregate read and not marked yet, and the overlap happened (one read-ahead per chunk after the first).
    expect(o.reopened).toEqual([]);
    expect(o.sentTwiceAtOnce).toEqual([]);
    expect(o.readsDuringSends).toBe(AGGREGATES / SWEEP.chunk - 1);
    expect(o.open.size).toBe(0);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(metrics.snapshot()).toMatchObject({ sent: AGGREGATES * PER_AGGREGATE, failed: 0, quarantined: 0 });
    expect(await delivered(s)).toEqual(everyAggregate(all));
    expect(await s.side.store.listPending({ limit: 100, before: Date.now() + 60_000 })).toEqual([]);
  }, 90_000);

  test('overlap off (the bench`s relay-serial): no read while a send is in flight; the same result', async () => {
    const { s, o } = await setUp(false);
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run(), SWEEP, { overlap: false });
    expect(o.readsDuringSends).toBe(0);
    expect(o.reopened).toEqual([]);
    expect(o.sentTwiceAtOnce).toEqual([]);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(await delivered(s)).toEqual(everyAggregate(all));
  }, 90_000);

  test('a chunk read ahead is sent and marked though the run is aborted after its read: nothing read is left unmarked; the next sweep sends the rest in order', async () => {
    const { s, o } = await setUp(true);
    const abort = new AbortController();
    // Aborted once the first chunk's last round is marked: the next chunk was read ahead by then, not sent.
    o.onSettled = (seqs) => {
      if (seqs.includes(PER_AGGREGATE)) abort.abort(new Error('deadline'));
    };
    const first = new MetricsRecorder();
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: first }, run({ signal: abort.signal, releaseSignal: new AbortController().signal }), SWEEP);
    expect(o.reopened).toEqual([]);
    expect(o.readsDuringSends).toBe(1);
    // Its send met the aborted signal: finished, unjudged, marked so, leases released.
    expect(o.open.size).toBe(0);
    expect(first.snapshot()).toMatchObject({ sent: SWEEP.chunk * PER_AGGREGATE, failed: SWEEP.chunk * RUN.maxEventsPerAggregate, quarantined: 0 });
    o.onSettled = undefined;
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run(), SWEEP);
    expect(o.reopened).toEqual([]);
    expect(o.sentTwiceAtOnce).toEqual([]);
    expect(o.open.size).toBe(0);
    expect(o.accepted).toEqual(everyAggregate(all));
    expect(await delivered(s)).toEqual(everyAggregate(all));
  }, 90_000);

  test('no read-ahead once the time left is below reserveMs: the round in flight is finished, the other chunks stay pending for the next sweep', async () => {
    const { s, o } = await setUp(false);
    let left = 60_000;
    // The time runs out while the first chunk's last round is read: before the read-ahead would start.
    o.onRead = (seqs) => {
      if (seqs.includes(PER_AGGREGATE)) left = 0;
    };
    await sweep({ store: o.store, lease: s.side.lease, sender: o.sender, metrics: new MetricsRecorder() }, run({ reserveMs: 1, remainingMs: () => left }), SWEEP);
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
