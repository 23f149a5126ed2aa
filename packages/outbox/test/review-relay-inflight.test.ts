/**
 * The order contract on the wire with large events, for any change to how the relay schedules
 * its calls: the real Redis store and lease, a real SQS server (fauxqs, moto; FIFO and standard
 * queues) through `sqsSender`, 200 KiB events (a round of the default 2 MiB budget holds about one
 * aggregate, so its batches go out one after another, and a sweep's workers fill the 4 call slots).
 *
 * Checked per `SendMessageBatch` call: when a call starts, every aggregate it carries has no
 * other call in flight, and its entries are the next seqs after the last one SQS accepted, in
 * order (k and k + 1 may share a call, as the sender packs them; k + 1 never leaves in another
 * call while k is unanswered or refused). Then every event was accepted once, and a FIFO queue
 * hands each group out in seq order.
 *
 * A scheduling change was measured against it (two lanes per relay run once one aggregate fills a
 * round, commit efaa9a63 on wt/relay-speed): more calls in flight, no steadier throughput, not
 * kept (README, Bench). These tests are the guard for a next attempt.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import { sqsSender } from '../src/sqs.js';
import { ATTRIBUTES } from '../src/relay/message.js';
import { MetricsRecorder } from '../src/relay/metrics.js';
import { DEFAULT_POISON } from '../src/relay/poison.js';
import { relayAggregates, type RelayRunOptions } from '../src/relay/relay.js';
import { sweep } from '../src/relay/sweeper.js';
import type { AggregateRef } from '../src/relay/types.js';
import { redisRelayStore } from '../src/stores/redis.js';
import type { ServerName } from './sqs-servers.js';
import { createQueue, drainQueue, openRedis, sqsClient, type RedisBackend } from './support.js';

const KIB = 1024;
const PER_AGGREGATE = 10;
const events = { Blob: { aggregateType: 'blob', schema: z.object({ n: z.number(), pad: z.string() }) } };
const RUN: RelayRunOptions = { leaseMs: 60_000, maxEventsPerAggregate: 50, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 120_000 };

interface Wire {
  client: SQSClient;
  /** Calls that broke the order contract (must stay empty). */
  violations: string[];
  /** Most `SendMessageBatch` calls seen in flight at once. */
  most: () => number;
  /** Per aggregate, the last seq SQS accepted. */
  acceptedUpTo: Map<string, number>;
}

/** `client`, checking every `SendMessageBatch` against the order contract (see the file's comment). */
function watched(client: SQSClient): Wire {
  const acceptedUpTo = new Map<string, number>();
  const busy = new Set<string>();
  const violations: string[] = [];
  let now = 0;
  let most = 0;
  const wire = Object.create(client) as SQSClient;
  type Entry = { Id?: string; MessageAttributes?: Record<string, { StringValue?: string }> };
  wire.send = (async (command: { constructor: { name: string }; input: { Entries?: Entry[] } }, ...rest: unknown[]) => {
    const entries = command.constructor.name === 'SendMessageBatchCommand' ? (command.input.Entries ?? []) : undefined;
    if (!entries) return (client.send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    const of = (e: Entry) => ({ aggregate: e.MessageAttributes![ATTRIBUTES.aggregate]!.StringValue!, seq: Number(e.MessageAttributes![ATTRIBUTES.seq]!.StringValue) });
    const carried = new Map<string, number[]>();
    for (const e of entries) {
      const { aggregate, seq } = of(e);
      carried.set(aggregate, [...(carried.get(aggregate) ?? []), seq]);
    }
    for (const [aggregate, seqs] of carried) {
      if (busy.has(aggregate)) violations.push(`${aggregate} ${seqs.join(',')}: another call of the aggregate in flight`);
      const from = (acceptedUpTo.get(aggregate) ?? 0) + 1;
      if (seqs.some((s, i) => s !== from + i)) violations.push(`${aggregate} ${seqs.join(',')}: sent after seq ${from - 1} was accepted`);
      busy.add(aggregate);
    }
    most = Math.max(most, ++now);
    try {
      const answer = (await (client.send as (...a: unknown[]) => Promise<unknown>)(command, ...rest)) as { Successful?: Array<{ Id?: string }> };
      const byId = new Map(entries.map((e) => [e.Id!, of(e)]));
      const ok = (answer.Successful ?? []).map((s) => byId.get(s.Id!)!).sort((a, b) => a.seq - b.seq);
      for (const { aggregate, seq } of ok) {
        if (seq !== (acceptedUpTo.get(aggregate) ?? 0) + 1) violations.push(`${aggregate} ${seq}: accepted out of order`);
        acceptedUpTo.set(aggregate, seq);
      }
      return answer;
    } finally {
      now--;
      for (const aggregate of carried.keys()) busy.delete(aggregate);
    }
  }) as SQSClient['send'];
  return { client: wire, violations, most: () => most, acceptedUpTo };
}

const CASES: Array<{ sqs: ServerName; fifo: boolean }> = [
  { sqs: 'fauxqs', fifo: true },
  { sqs: 'fauxqs', fifo: false },
  { sqs: 'moto', fifo: true },
  { sqs: 'moto', fifo: false },
];

describe.each(CASES)('200 KiB events on Redis, $sqs (FIFO: $fifo)', ({ sqs, fifo }) => {
  let backend: RedisBackend | undefined;
  let queue: { url: string; remove(): Promise<void> } | undefined;
  afterEach(async () => {
    await queue?.remove();
    await backend?.close();
    queue = undefined;
    backend = undefined;
  });

  const setUp = async (aggregates: number) => {
    const b = (backend = await openRedis('redis'));
    const client = await sqsClient(sqs);
    const q = (queue = await createQueue(client, { fifo }));
    const ids = Array.from({ length: aggregates }, (_, a) => `big${a}`);
    for (const id of ids) {
      const batch = Array.from({ length: PER_AGGREGATE }, (_, i) => prepareEvent(events, { type: 'Blob', aggregateId: id, payload: { n: i + 1, pad: 'x'.repeat(200 * KIB) } }, {}));
      await redisWrite(b.client, b.prefix, { checks: [], commands: [], events: batch });
    }
    const wire = watched(client);
    const store = redisRelayStore({ client: b.client, prefix: b.prefix }).withLease!(b.lease);
    const deps = { store, lease: b.lease, sender: sqsSender({ client: wire.client, queueUrl: q.url }), metrics: new MetricsRecorder() };
    const refs: AggregateRef[] = await store.listPending({ limit: 100, before: Date.now() + 60_000 });
    expect(refs).toHaveLength(aggregates);
    return { client, q, wire, deps, refs, ids };
  };

  /** Every event accepted once in seq order on the wire; a FIFO queue hands each group out in seq order. */
  const expectInOrder = async (client: SQSClient, url: string, wire: Wire, ids: string[]) => {
    expect(wire.violations).toEqual([]);
    expect(Object.fromEntries(wire.acceptedUpTo)).toEqual(Object.fromEntries(ids.map((id) => [`blob/${id}`, PER_AGGREGATE])));
    const out = new Map<string, number[]>();
    for (const m of await drainQueue(client, url)) {
      const a = m.MessageAttributes![ATTRIBUTES.aggregate]!.StringValue!;
      out.set(a, [...(out.get(a) ?? []), Number(m.MessageAttributes![ATTRIBUTES.seq]!.StringValue)]);
    }
    const all = Array.from({ length: PER_AGGREGATE }, (_, i) => i + 1);
    for (const id of ids) {
      const seqs = out.get(`blob/${id}`) ?? [];
      expect(fifo ? seqs : [...seqs].sort((x, y) => x - y), id).toEqual(all);
    }
  };

  test('one relay run sends each aggregate\'s events in order', async () => {
    const { client, q, wire, deps, refs, ids } = await setUp(4);
    await relayAggregates(deps, refs, RUN);
    expect(deps.metrics.snapshot()).toMatchObject({ sent: 4 * PER_AGGREGATE, failed: 0, quarantined: 0 });
    await expectInOrder(client, q.url, wire, ids);
  }, 120_000);

  test('a sweep\'s parallel workers (4 calls in flight) keep the order per aggregate', async () => {
    const { client, q, wire, deps, ids } = await setUp(8);
    await sweep(deps, RUN, { graceMs: 0, maxAggregates: 100, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 });
    expect(deps.metrics.snapshot()).toMatchObject({ sent: 8 * PER_AGGREGATE, failed: 0, quarantined: 0 });
    expect(wire.most()).toBeLessThanOrEqual(4);
    await expectInOrder(client, q.url, wire, ids);
  }, 120_000);
});
