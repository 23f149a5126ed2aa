/**
 * Review finding (a long SQS outage quarantined everything): once the sender had the queue's
 * size limit cached, every whole-call failure of `SendMessageBatch` — connection refused,
 * timeout, throttling, 5xx, the deadline's abort — still counted toward
 * `relay.poison.maxAttempts` (and an abort by the deadline left the attempt "unfinished", a
 * crash). A one-minute sweeper through a ten-minute outage quarantined every pending aggregate.
 * Now only attempts SQS judged count toward `maxAttempts`; an attempt it never judged is
 * recorded as finished and unjudged; only attempts that never end count as crashes.
 *
 * Real stores on their servers (Redis, Redis Cluster, embedded on FerretDB, the
 * transaction-mode store's reads and marks on FerretDB), real `@steadyfn/lease` stores, moto
 * behind a gate on a port of this test's own (test/sqs-gate.ts) that refuses connections or
 * never answers — the shared moto keeps running.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { relayAggregates, type RelayDeps, type RelayRunOptions } from '../../src/relay/relay.js';
import { sweep, type SweepOptions } from '../../src/relay/sweeper.js';
import { runOptionsOf } from '../../src/relay/entry.js';
import type { ResolvedRelay } from '../../src/options.js';
import { sqsSender } from '../../src/sqs.js';
import { startFaultProxy } from '../fault-proxy.js';
import { sqsClient, sqsServers } from '../sqs-servers.js';
import { startSqsGate, type SqsGate } from '../sqs-gate.js';
import { openSide, SIDES, type OutageSide } from './relay-sides.js';
import { eventually } from '../../../../test/support/wait.js';

const MOTO = sqsServers().find((s) => s.name === 'moto')!.endpoint;
const POISON = { maxAttempts: 3, maxUnfinishedAttempts: 2 };
const SWEEP: SweepOptions = { graceMs: 0, maxAggregates: 1000, chunk: 25, parallel: 1, retainSentMs: 0, cleanupLimit: 1 };
const AGGREGATES = 4;
const PER_AGGREGATE = 3;
const fast = { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 5 };
const run = (extra: Partial<RelayRunOptions> = {}): RelayRunOptions => ({ leaseMs: 5_000, maxEventsPerAggregate: 10, poison: POISON, reserveMs: 0, remainingMs: () => 600_000, ...extra });
const inOrder = new Map(Array.from({ length: AGGREGATES }, (_, a) => [`agg-${a}`, Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1)]));

describe.each(SIDES)('an SQS outage on the %s store', (name) => {
  let side: OutageSide;
  let gate: SqsGate;
  let abandoned = new AbortController();
  beforeAll(async () => {
    gate = await startSqsGate(MOTO);
  });
  beforeEach(async () => {
    await gate.up();
    abandoned = new AbortController();
    side = await openSide(name);
  });
  afterEach(async () => {
    abandoned.abort();
    await side?.close();
  });
  afterAll(async () => {
    await gate?.close();
  });
  const deps = (sender: RelayDeps['sender'], metrics = new MetricsRecorder()): RelayDeps => ({ store: side.store, lease: side.lease, sender, metrics });
  const quarantined = () => side.store.listQuarantined({ limit: 100 });

  it('quarantines nothing through more runs than maxAttempts (refused connections, deadline aborts); afterwards every event arrives in order', { timeout: 120_000 }, async () => {
    await side.record(AGGREGATES, PER_AGGREGATE);
    const client = sqsClient(gate.endpoint);
    const sender = sqsSender({ client, queueUrl: side.queueUrl, retry: fast });
    // Read while SQS is up: the limit is cached, as in every warm sweeper — the case that counted.
    expect(await sender.maxMessageBytes()).toBeGreaterThan(0);

    await gate.down();
    for (let i = 0; i < POISON.maxAttempts + 3; i++) {
      const metrics = new MetricsRecorder();
      await sweep(deps(sender, metrics), run(), SWEEP);
      expect(metrics.snapshot()).toMatchObject({ sent: 0, quarantined: 0, failed: AGGREGATES * PER_AGGREGATE });
    }

    // Calls that hang until the deadline's reserve aborts them: recorded as finished, not as crashes.
    await gate.blackhole();
    for (let i = 0; i < POISON.maxUnfinishedAttempts + 2; i++) {
      const deadline = Date.now() + 1_400;
      const metrics = new MetricsRecorder();
      const options = runOptionsOf({ leaseMs: 5_000, maxEventsPerAggregate: 10, poison: POISON, reserveMs: 1_000 } as ResolvedRelay, { signal: new AbortController().signal, remainingMs: () => deadline - Date.now() });
      await sweep(deps(sender, metrics), options, SWEEP);
      expect(metrics.snapshot()).toMatchObject({ sent: 0, quarantined: 0 });
    }
    expect(await quarantined()).toEqual([]);

    await gate.up();
    const metrics = new MetricsRecorder();
    await sweep(deps(sender, metrics), run(), SWEEP);
    expect(metrics.snapshot()).toMatchObject({ sent: AGGREGATES * PER_AGGREGATE, quarantined: 0 });
    expect(await quarantined()).toEqual([]);
    expect(await side.received()).toEqual(inOrder);
    client.destroy();
  });

  it('still quarantines an event SQS refuses as a sender fault, from it on', { timeout: 60_000 }, async () => {
    await side.record(AGGREGATES, PER_AGGREGATE);
    const proxy = await startFaultProxy(MOTO, (_call, entries) => {
      const bad = entries.filter((e) => /"aggregateId":"agg-1"/.test(e.MessageBody) && /"seq":2\b/.test(e.MessageBody)).map((e) => e.Id);
      return bad.length > 0 ? { failEntries: bad, code: 'InvalidMessageContents', senderFault: true } : undefined;
    });
    const client = sqsClient(proxy.endpoint);
    try {
      const metrics = new MetricsRecorder();
      // One message of a group per call, so SQS cannot take agg-1's seq 3 in the call that refuses seq 2.
      await sweep(deps(sqsSender({ client, queueUrl: side.queueUrl, retry: fast, onePerGroupPerBatch: true }), metrics), run(), SWEEP);
      expect(metrics.snapshot()).toMatchObject({ quarantined: 1 });
      expect((await quarantined()).map((q) => ({ aggregate: q.aggregate.slice(q.aggregate.indexOf('/') + 1), fromSeq: q.fromSeq, reason: q.reason }))).toEqual([{ aggregate: 'agg-1', fromSeq: 2, reason: 'sender fault: InvalidMessageContents' }]);
      const got = await side.received();
      expect(got.get('agg-1')).toEqual([1]);
      expect(got.get('agg-0')).toEqual([1, 2, 3]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('still quarantines a crash loop: attempts begun and never finished (processes killed mid-call)', { timeout: 60_000 }, async () => {
    await side.record(1, 2);
    await gate.blackhole();
    const sender = sqsSender({ client: sqsClient(gate.endpoint), queueUrl: side.queueUrl, retry: fast, maxMessageBytes: 262_144 });
    let calls = 0;
    const counted: RelayDeps['sender'] = { fifo: sender.fifo, send: (messages, options) => (calls++, sender.send(messages, options)), maxMessageBytes: (options) => sender.maxMessageBytes!(options) };
    // Each run hangs in its call and is never finished: a process killed there. Its lease runs out; the next run begins again.
    // The first makes the event a suspect; the next ones send it alone, and those count (s51: crashes judged in isolation).
    for (let i = 0; i < POISON.maxUnfinishedAttempts + 1; i++) {
      const refs = (await side.store.listPending({ limit: 10, before: Date.now() })).slice(0, 1);
      void relayAggregates(deps(counted), refs, run({ leaseMs: 300, signal: abandoned.signal }));
      // In its call (its attempt begun), then until its 300 ms lease has run out as the lease store
      // judges it (on FerretDB: plus twice its server-clock uncertainty). A fixed 700 ms from the
      // start instead could let a loaded machine begin the next run before this one had claimed
      // (one attempt fewer counted), or find the last lease still held.
      await eventually(() => calls === i + 1, 30_000);
      await eventually(async () => (await side.lease.get(side.store.leaseKey(refs[0]!))) === undefined, 30_000);
    }
    const metrics = new MetricsRecorder();
    await relayAggregates(deps(sender, metrics), await side.store.listPending({ limit: 10, before: Date.now() }), run({ leaseMs: 300, signal: AbortSignal.timeout(2_000) }));
    expect(metrics.snapshot()).toMatchObject({ quarantined: 1 });
    const [q] = await quarantined();
    expect(q).toMatchObject({ fromSeq: 1, reason: `crashes: ${POISON.maxUnfinishedAttempts} relay attempts never finished` });
  });
});
