/**
 * Fault injection at every relay step across OUTBOX_FAULT_EVENTS (default 10,000) events on
 * real Redis (with the real `@steadyfn/lease` Redis store) and SQS (fauxqs and moto), standard
 * and FIFO: a crash after the claim, after the send
 * before the mark, partial batch failures, whole-call failures, and flushes racing the
 * sweeper on the same aggregates. Then: zero lost, every duplicate delivery carries the same
 * event id, the inbox consumer applies each event exactly once, and in seq order per
 * aggregate (kept by FIFO, restored through seq on the standard queue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerName } from '../sqs-servers.js';
import { sqsSender } from '../../src/sqs.js';
import { MetricsRecorder } from '../../src/relay/metrics.js';
import { relayAggregates, type RelayRunOptions } from '../../src/relay/relay.js';
import { sweep } from '../../src/relay/sweeper.js';
import { allApplied, appliedSeqs, openFaultServers, type FaultServers } from './backends.js';
import { consume, crashAfterClaim, faultySender, seeded } from './harness.js';

// 10,000 events per queue kind on fauxqs; moto answers ~30-40 calls/s on a loaded 2-core
// machine, so its runs are smaller by default (OUTBOX_FAULT_MOTO_EVENTS; 1,000 per kind took
// 7-8 minutes each there).
// Not on ElasticMQ: the fault runs are long; the conformance suites cover it (sqs-servers.ts).
type FaultServer = Exclude<ServerName, 'elasticmq'>;
const SIZES: Record<FaultServer, number> = { fauxqs: Number(process.env.OUTBOX_FAULT_EVENTS ?? 10_000), moto: Number(process.env.OUTBOX_FAULT_MOTO_EVENTS ?? 300) };
const SEED = Number(process.env.OUTBOX_FAULT_SEED ?? 20261130);
const RUNS: Array<[FaultServer, boolean]> = [
  ['fauxqs', false],
  ['fauxqs', true],
  ['moto', false],
  ['moto', true],
];

describe.each(RUNS)('relay under faults on %s (FIFO: %s)', (server, fifo) => {
  const TOTAL = SIZES[server];
  // A standard queue reorders freely and the consumer restores order by failing early
  // arrivals (onGap 'retry'): short aggregates keep that redelivery churn bounded.
  const PER_AGGREGATE = fifo ? 50 : 5;
  const AGGREGATES = Math.max(1, Math.round(TOTAL / PER_AGGREGATE));
  let servers: FaultServers;
  beforeAll(async () => {
    servers = await openFaultServers('redis', { sqs: server, fifo });
  });
  afterAll(async () => {
    await servers?.close();
  });

  it(`loses nothing and applies each of ${TOTAL} events once, in order`, { timeout: 1_500_000 }, async () => {
    const { redis, side, sqs, queue } = servers;
    const random = seeded(SEED + (fifo ? 1 : 0) + (server === 'moto' ? 2 : 0));
    const startedAt = Date.now();
    const total = await side.record(AGGREGATES, PER_AGGREGATE);
    expect(total).toBe(AGGREGATES * PER_AGGREGATE);
    const base = side.store;
    const store = crashAfterClaim(base, 0.02, random);
    const sender = faultySender(sqsSender({ client: sqs, queueUrl: queue.url }), { wholeCall: 0.1, partial: 0.2, afterSendBeforeMark: 0.1 }, random);
    const lease = side.lease;
    const metrics = new MetricsRecorder();
    const run: RelayRunOptions = { leaseMs: 30_000, maxEventsPerAggregate: 10, poison: { maxAttempts: 10_000, maxUnfinishedAttempts: 10_000 }, reserveMs: 0, remainingMs: () => 60_000 };
    const deps = { store, lease, sender, metrics };
    for (let pass = 0; pass < 500; pass++) {
      const pending = await base.listPending({ limit: 10_000, before: Date.now() + 60_000 });
      if (pending.length === 0) break;
      // A sweep and flushes of some of the same aggregates race each other.
      const racing = pending.filter((_, i) => i % 7 === pass % 7);
      await Promise.all([sweep(deps, run, { graceMs: 0, maxAggregates: 10_000, chunk: 5, retainSentMs: 0, cleanupLimit: 1 }), relayAggregates(deps, racing, run)]);
    }
    expect(await base.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
    const injected = { ...sender.injected, afterClaim: store.injected };
    console.info(`injected: ${JSON.stringify(injected)}`);
    for (const count of Object.values(injected)) expect(count).toBeGreaterThan(0);

    const relayedAt = Date.now();
    const consumed = await consume(sqs, queue.url, redis.client, redis.prefix, () => allApplied(redis, AGGREGATES, PER_AGGREGATE), { fifo, limitMs: 900_000 });

    const ids = [...consumed.idOf.values()];
    expect(new Set(ids).size).toBe(total); // every event arrived: zero lost
    expect(consumed.conflictingIds).toBe(0); // every duplicate carried the same event id
    const duplicates = [...consumed.deliveries.values()].reduce((s, n) => s + n - 1, 0);
    for (let a = 0; a < AGGREGATES; a++) expect(await appliedSeqs(redis, a)).toEqual(Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1));
    if (fifo) {
      // FIFO keeps each group's order: the first arrival of each seq is in order.
      for (const seqs of consumed.arrival.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    console.info(`relay faults on ${server} (${fifo ? 'FIFO' : 'standard'}): ${total} events, injected ${JSON.stringify(injected)}, ${duplicates} duplicate deliveries, marked ${metrics.sent}, refused ${metrics.failed}; relay ${relayedAt - startedAt} ms, consume ${Date.now() - relayedAt} ms`);
  });
});
