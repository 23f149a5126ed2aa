/**
 * The relay's byte budget per round (`relay.maxBytesPerRound`): the pure spending rule, and
 * relay runs on the real Redis store (single server and cluster, where the partitions' scripts
 * share the budget) with the real `@steadyfn/lease` store: every round's send carries at most
 * the budget of bodies — one event larger than the budget alone — and every event still goes
 * out once, in seq order per aggregate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openRedis, scriptedSender, type RedisBackend } from '../../test/support.js';
import { redisWrite } from '../capture/redis.js';
import { prepareEvent } from '../envelope.js';
import { redisRelayStore } from '../stores/redis.js';
import { readWithinBudget, spendBudget } from './budget.js';
import { MetricsRecorder } from './metrics.js';
import { DEFAULT_POISON } from './poison.js';
import { relayAggregates } from './relay.js';
import type { AggregateRef, OutboundMessage, Sender } from './types.js';

describe('spendBudget', () => {
  it('spends the budget round-robin (every first event, then every second, …), each aggregate in seq order while its next event fits', () => {
    // Round-robin: 40 + 10 + 30, then 10 (the second 40 no longer fits). In order it was [2, 2, 0]:
    // the third aggregate waited, and a call holding one message per aggregate had two to mix, not three.
    expect(spendBudget([[40, 40, 40], [10, 10], [30]], 50, 100)).toEqual([1, 2, 1]);
    // Large events of many aggregates: the first of each, not all of the first (10 calls of one entry one after another).
    expect(spendBudget(Array.from({ length: 10 }, () => Array.from({ length: 10 }, () => 200)), 50, 2_000)).toEqual(Array.from({ length: 10 }, () => 1));
    // A later aggregate whose head fits in what is left still takes it (fuller batches).
    expect(spendBudget([[60, 60], [50], [30]], 50, 100)).toEqual([1, 0, 1]);
    // The per-aggregate count limit still holds.
    expect(spendBudget([[1, 1, 1], [1, 1, 1]], 2, 100)).toEqual([2, 2]);
  });

  it('begins no pass after one where an aggregate\'s next event did not fit (calls hold one message per aggregate: each pass more is one more call after the one before)', () => {
    // The second 600 does not fit: the small aggregate takes its second event in that pass, and no third.
    // Before, it took all four, in four passes: four calls one after another, three of them of one entry.
    expect(spendBudget([[600, 600], [10, 10, 10, 10]], 50, 700)).toEqual([1, 2]);
    // An aggregate that has no more events is not one that did not fit: the others go on.
    expect(spendBudget([[10], [10, 10, 10]], 50, 700)).toEqual([1, 3]);
    // Many aggregates of the bench's mix: no aggregate reads more passes than the first that stopped.
    expect(spendBudget([[900, 900], [5, 5, 5, 5, 5], [300, 300, 300], [5, 5, 5, 5, 5]], 50, 2_000)).toEqual([1, 2, 2, 2]);
  });

  it('reads the round\'s first event alone when it is larger than the budget, and nothing after it', () => {
    expect(spendBudget([[500, 1], [1]], 50, 100)).toEqual([1, 0]);
    expect(spendBudget([[], [500], [1]], 50, 100)).toEqual([0, 1, 0]);
  });

  it('never spends more than the budget except for that one event', () => {
    for (let trial = 0; trial < 200; trial++) {
      const sizes = Array.from({ length: 1 + (trial % 7) }, (_, a) => Array.from({ length: (trial + a) % 6 }, (_, i) => 1 + ((trial * 31 + a * 17 + i * 7) % 150)));
      const counts = spendBudget(sizes, 4, 100);
      const spent = counts.reduce((sum, n, a) => sum + sizes[a]!.slice(0, n).reduce((s, b) => s + b, 0), 0);
      const read = counts.reduce((s, n) => s + n, 0);
      expect(spent <= 100 || read === 1).toBe(true);
      if (sizes.some((e) => e.length > 0)) expect(read).toBeGreaterThan(0);
    }
  });
});

describe('readWithinBudget (the MongoDB stores\' two reads)', () => {
  it('asks for the bodies of only what the budget took; an unknown size is read alone, as the round\'s first', async () => {
    const asked: number[][] = [];
    const read = (sizes: number[][]) => readWithinBudget({ sizes: async () => sizes, bodies: async (counts) => void asked.push([...counts]) }, 50, 100);
    await expect(read([[40, 40, 40], [10, 10], [30]])).resolves.toMatchObject({ counts: [1, 2, 1] });
    await expect(read([[Infinity, 1], [1]])).resolves.toMatchObject({ counts: [1, 0] });
    await expect(read([[1], [Infinity]])).resolves.toMatchObject({ counts: [1, 0] });
    expect(asked).toEqual([[1, 2, 1], [1, 0], [1, 0]]);
  });
});

const events = { Blob: { aggregateType: 'blob', schema: z.object({ n: z.number(), pad: z.string() }) } };
const KIB = 1024;
const BUDGET = 200 * KIB;
// Per aggregate, body pads cycling through these sizes; aggregate 0 also holds one event larger than the budget.
const SIZES = [1 * KIB, 30 * KIB, 90 * KIB, 5 * KIB, 60 * KIB];

describe.each(['redis', 'cluster'] as const)('a relay round within maxBytesPerRound (Redis store and lease on %s)', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('sends at most the budget of bodies per round (one larger event alone), all events once and in order', { timeout: 60_000 }, async () => {
    const aggregates = 8;
    const perAggregate = 6;
    const ids = Array.from({ length: aggregates }, (_, a) => `b${a}-${name}`);
    let total = 0;
    for (const [a, id] of ids.entries()) {
      for (let n = 1; n <= perAggregate; n++) {
        const pad = 'x'.repeat(a === 0 && n === 2 ? 300 * KIB : SIZES[(a + n) % SIZES.length]!);
        // Its own hash tag: its own partition (on the cluster the partitions' scripts share the budget).
        await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', `${backend.prefix}n:{${id}}`, 1]], events: [prepareEvent(events, { type: 'Blob', aggregateId: id, payload: { n, pad } }, {})] });
        total += 1;
      }
    }
    const inner = scriptedSender();
    const rounds: number[][] = [];
    const sender: Sender = {
      fifo: false,
      send(messages: ReadonlyArray<OutboundMessage>) {
        rounds.push(messages.map((m) => Buffer.byteLength(m.body)));
        return inner.send(messages);
      },
    };
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix }).withLease!(backend.lease);
    const refs: AggregateRef[] = ids.map((id) => ({ where: id, aggregate: `blob/${id}`, since: 0 }));
    const metrics = new MetricsRecorder();
    await relayAggregates({ store, lease: backend.lease, sender, metrics }, refs, { leaseMs: 10_000, maxEventsPerAggregate: 50, maxBytesPerRound: BUDGET, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000 });

    expect(metrics.snapshot()).toMatchObject({ sent: total, quarantined: 0 });
    for (const round of rounds) {
      const bytes = round.reduce((s, b) => s + b, 0);
      expect(bytes <= BUDGET || round.length === 1, `a round of ${round.length} events and ${bytes} bytes`).toBe(true);
    }
    expect(rounds.some((r) => r.length === 1 && r[0]! > BUDGET)).toBe(true);
    // Batches stay full: the rounds are not many more than the bytes need.
    const bytes = rounds.flat().reduce((s, b) => s + b, 0);
    expect(rounds.length).toBeLessThanOrEqual(2 * Math.ceil(bytes / BUDGET) + 2);
    for (const id of ids) {
      const seqs = inner.accepted.filter((m) => m.groupKey === `blob/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']));
      expect(seqs).toEqual(Array.from({ length: perAggregate }, (_, i) => i + 1));
    }
    expect(await store.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
  });

  it('ends a round with the pass where an aggregate\'s next event did not fit: the aggregate of small events does not go on alone', { timeout: 60_000 }, async () => {
    const prefix = `${backend.prefix}passes:`;
    const big = `big-${name}`;
    const small = `small-${name}`;
    for (let n = 1; n <= 2; n++) await redisWrite(backend.client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${big}}`, 1]], events: [prepareEvent(events, { type: 'Blob', aggregateId: big, payload: { n, pad: 'x'.repeat(120 * KIB) } }, {})] });
    for (let n = 1; n <= 6; n++) await redisWrite(backend.client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${small}}`, 1]], events: [prepareEvent(events, { type: 'Blob', aggregateId: small, payload: { n, pad: 'x'.repeat(KIB) } }, {})] });
    const inner = scriptedSender();
    const rounds: Array<ReadonlyArray<OutboundMessage>> = [];
    const sender: Sender = {
      fifo: false,
      send(messages: ReadonlyArray<OutboundMessage>) {
        rounds.push(messages);
        return inner.send(messages);
      },
    };
    const store = redisRelayStore({ client: backend.client, prefix }).withLease!(backend.lease);
    const refs: AggregateRef[] = [big, small].map((id) => ({ where: id, aggregate: `blob/${id}`, since: 0 }));
    await relayAggregates({ store, lease: backend.lease, sender, metrics: new MetricsRecorder() }, refs, { leaseMs: 10_000, maxEventsPerAggregate: 50, maxBytesPerRound: BUDGET, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000 });
    // Pass 1: the first of each; pass 2: the big one's second does not fit, the small one's does; no pass 3.
    // Before, the small aggregate took all six: six calls of one message each, one after another.
    expect(rounds[0]!.map((m) => m.groupKey)).toEqual([`blob/${big}`, `blob/${small}`, `blob/${small}`]);
    for (const id of [big, small]) expect(inner.accepted.filter((m) => m.groupKey === `blob/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual(Array.from({ length: id === big ? 2 : 6 }, (_, i) => i + 1));
    expect(await store.listPending({ limit: 10, before: Date.now() + 60_000 })).toEqual([]);
  });

  it('spreads a round over the aggregates: the first event of each while they fit, not all of the first (calls hold one message per aggregate)', { timeout: 60_000 }, async () => {
    const prefix = `${backend.prefix}spread:`;
    const ids = Array.from({ length: 10 }, (_, a) => `s${a}-${name}`);
    for (const id of ids) {
      for (let n = 1; n <= 4; n++) await redisWrite(backend.client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${id}}`, 1]], events: [prepareEvent(events, { type: 'Blob', aggregateId: id, payload: { n, pad: 'x'.repeat(20 * KIB) } }, {})] });
    }
    const inner = scriptedSender();
    const rounds: Array<ReadonlyArray<OutboundMessage>> = [];
    const sender: Sender = {
      fifo: false,
      send(messages: ReadonlyArray<OutboundMessage>) {
        rounds.push(messages);
        return inner.send(messages);
      },
    };
    const store = redisRelayStore({ client: backend.client, prefix }).withLease!(backend.lease);
    const refs: AggregateRef[] = ids.map((id) => ({ where: id, aggregate: `blob/${id}`, since: 0 }));
    await relayAggregates({ store, lease: backend.lease, sender, metrics: new MetricsRecorder() }, refs, { leaseMs: 10_000, maxEventsPerAggregate: 50, maxBytesPerRound: BUDGET, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000 });
    // 200 KiB holds 9 of these events: one each of 9 aggregates (in order it was 4 + 4 + 1 of three).
    const first = rounds[0]!.map((m) => m.groupKey);
    expect(first).toHaveLength(9);
    expect(new Set(first).size).toBe(9);
    for (const id of ids) expect(inner.accepted.filter((m) => m.groupKey === `blob/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual([1, 2, 3, 4]);
  });
});
