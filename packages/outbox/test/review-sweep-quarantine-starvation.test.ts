/**
 * Review finding (stuck events behind quarantines): the sweeper's list of pending aggregates
 * (`listPending`, oldest first, at most `sweep.maxAggregates`) counted quarantined aggregates
 * too. A quarantined aggregate keeps its pending events (and its old "pending since") until a
 * redrive, so once as many aggregates as `maxAggregates` were quarantined — one bad event type
 * deployed to every aggregate is enough — every sweep listed only them, skipped them, and
 * never reached a healthy aggregate whose flush had died: its events stayed pending for good
 * (the MassTransit#5641 / wolverine#1825 "messages left in the outbox" class).
 *
 * Every relay store on its real server (Redis, Redis Cluster, embedded on FerretDB, the
 * transaction-mode store's reads and marks on FerretDB), real lease stores, moto FIFO queue.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../src/relay/metrics.js';
import type { RelayRunOptions } from '../src/relay/relay.js';
import { sweep, type SweepOptions } from '../src/relay/sweeper.js';
import { sqsSender } from '../src/sqs.js';
import { openSide, SIDES, type OutageSide } from './review3/relay-sides.js';

const AGGREGATES = 6;
const PER_AGGREGATE = 2;
const HELD = 3;
const SWEEP: SweepOptions = { graceMs: 0, maxAggregates: HELD, chunk: 25, parallel: 1, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 };
const run: RelayRunOptions = { leaseMs: 5_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 3, maxUnfinishedAttempts: 3 }, reserveMs: 0, remainingMs: () => 600_000 };

describe.each(SIDES)('sweeps with at least maxAggregates aggregates quarantined on the %s store', (name) => {
  let side: OutageSide;
  beforeEach(async () => {
    side = await openSide(name);
  });
  afterEach(async () => {
    await side?.close();
  });

  it('still reach the healthy aggregates: their events are sent, in order; the quarantined ones stay held', { timeout: 60_000 }, async () => {
    await side.record(AGGREGATES, PER_AGGREGATE);
    // The oldest `HELD` aggregates, as the sweeper lists them, are quarantined from their first event.
    const all = await side.store.listPending({ limit: AGGREGATES, before: Date.now() + 60_000 });
    expect(all).toHaveLength(AGGREGATES);
    const held = all.slice(0, HELD);
    for (const ref of held) await side.store.quarantine(ref, { fromSeq: 1, reason: 'review: held', lease: { key: side.store.leaseKey(ref), owner: 'review', fence: 0 } });

    const sender = sqsSender({ client: side.sqs, queueUrl: side.queueUrl, retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 5 } });
    const metrics = new MetricsRecorder();
    // Two sweeps: however the first one spends its list, the healthy aggregates are reached.
    for (let i = 0; i < 2; i++) await sweep({ store: side.store, lease: side.lease, sender, metrics }, run, SWEEP);

    const heldIds = new Set(held.map((r) => r.aggregate.slice(r.aggregate.indexOf('/') + 1)));
    const expected = new Map(
      Array.from({ length: AGGREGATES }, (_, a) => `agg-${a}`)
        .filter((id) => !heldIds.has(id))
        .map((id) => [id, Array.from({ length: PER_AGGREGATE }, (_, k) => k + 1)]),
    );
    expect(await side.received()).toEqual(expected);
    expect(metrics.snapshot()).toMatchObject({ sent: (AGGREGATES - HELD) * PER_AGGREGATE, quarantined: 0 });
    expect((await side.store.listQuarantined({ limit: 100 })).map((q) => q.aggregate).sort()).toEqual(held.map((r) => r.aggregate).sort());
    // Nothing left for a sweep but the quarantined aggregates, and it does not list those.
    expect(await side.store.listPending({ limit: AGGREGATES, before: Date.now() + 60_000 })).toEqual([]);
  });
});
