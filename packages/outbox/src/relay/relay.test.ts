/**
 * Relay decisions against the real Redis store, with a scripted sender: poison, sender
 * faults, quarantine with later events, redrive in order, partial failures, leases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryLease, openRedis, scriptedSender, type RedisBackend } from '../../test/support.js';
import { redisWrite } from '../capture/redis.js';
import { prepareEvent } from '../envelope.js';
import { redisRelayStore } from '../stores/redis.js';
import { MetricsRecorder } from './metrics.js';
import { DEFAULT_POISON } from './poison.js';
import { relayAggregates, type RelayRunOptions } from './relay.js';
import type { AggregateRef, Sender } from './types.js';

const events = { Tick: { aggregateType: 'clock', schema: z.object({ n: z.number() }) } };
const run = (overrides: Partial<RelayRunOptions> = {}): RelayRunOptions => ({ leaseMs: 10_000, maxEventsPerAggregate: 50, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000, ...overrides });

describe('relay decisions (Redis store)', () => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis('redis');
  });
  afterAll(async () => {
    await backend.close();
  });

  const record = async (id: string, n: number) => {
    for (let i = 1; i <= n; i++) await redisWrite(backend.client, backend.prefix, { checks: [], commands: [], events: [prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: i } }, {})] });
  };
  const ref = (id: string): AggregateRef => ({ where: 'default', aggregate: `clock/${id}`, since: 0 });
  const seqs = (sender: { accepted: Array<{ attributes?: Readonly<Record<string, string>>; groupKey?: string }> }, id: string) =>
    sender.accepted.filter((m) => m.groupKey === id).map((m) => Number(m.attributes!['steadyfn.seq']));

  const relay = (sender: Sender, refs: AggregateRef[], lease = memoryLease(), options: Partial<RelayRunOptions> = {}) => {
    const metrics = new MetricsRecorder();
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    return relayAggregates({ store, lease, sender, metrics }, refs, run(options)).then(() => ({ metrics: metrics.snapshot(), store }));
  };

  it('sends each aggregate in seq order across rounds, and drains it', async () => {
    await record('a', 7);
    const sender = scriptedSender();
    const { metrics, store } = await relay(sender, [ref('a')], undefined, { maxEventsPerAggregate: 3 });
    expect(seqs(sender, 'a')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(metrics.sent).toBe(7);
    expect(await store.listPending({ limit: 10, before: Date.now() + 1000 })).toEqual([]);
  });

  it('a refused event blocks the ones after it (head of line) and stays pending; the next run sends from it', async () => {
    await record('b', 4);
    let refuse = true;
    const sender = scriptedSender((m) => (refuse && m.attributes!['steadyfn.seq'] === '2' ? 'retryable' : 'sent'));
    const first = await relay(sender, [ref('b')]);
    expect(seqs(sender, 'b')).toEqual([1]);
    expect(first.metrics).toMatchObject({ sent: 1, failed: 3 });
    refuse = false;
    await relay(sender, [ref('b')]);
    expect(seqs(sender, 'b')).toEqual([1, 2, 3, 4]);
  });

  it('skips an aggregate whose lease another relay holds', async () => {
    await record('c', 2);
    const lease = memoryLease();
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    await lease.claim({ key: store.leaseKey(ref('c')), owner: 'someone-else', leaseMs: 60_000 });
    const sender = scriptedSender();
    const { metrics } = await relay(sender, [ref('c')], lease);
    expect(sender.accepted).toHaveLength(0);
    expect(metrics.leased).toBe(1);
  });

  it('a sender fault quarantines the aggregate from that event on; others keep flowing; redrive sends in order', async () => {
    await record('d', 3);
    await record('e', 2);
    let fault = true;
    const sender = scriptedSender((m) => (fault && m.groupKey === 'd' && m.attributes!['steadyfn.seq'] === '2' ? 'fault' : 'sent'));
    const { metrics, store } = await relay(sender, [ref('d'), ref('e')]);
    expect(seqs(sender, 'd')).toEqual([1]);
    expect(seqs(sender, 'e')).toEqual([1, 2]);
    expect(metrics.quarantined).toBe(1);
    expect(await store.listQuarantined({ limit: 10 })).toEqual([expect.objectContaining({ aggregate: 'clock/d', fromSeq: 2, reason: expect.stringContaining('InvalidMessageContents') })]);
    // New events of a quarantined aggregate wait behind it.
    await record('d', 1);
    await relay(sender, [ref('d')]);
    expect(seqs(sender, 'd')).toEqual([1]);
    fault = false;
    expect(await store.redrive(ref('d'))).toBe(true);
    await relay(sender, [ref('d')]);
    expect(seqs(sender, 'd')).toEqual([1, 2, 3, 4]);
    expect(await store.listQuarantined({ limit: 10 })).toEqual([]);
  });

  it('counts crashes: attempts begun that never finished make an event poison', async () => {
    await record('f', 2);
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const lease = memoryLease();
    // Three relays that "crash" after reading (begin counted, nothing settled).
    for (let i = 0; i < 3; i++) {
      const claim = await lease.claim({ key: `crash-${i}`, owner: 'x', leaseMs: 1000 });
      await store.begin(ref('f'), { limit: 50, lease: { key: `crash-${i}`, owner: 'x', fence: claim.claimed ? claim.fence : 0 } });
    }
    const sender = scriptedSender();
    const { metrics } = await relay(sender, [ref('f')]);
    expect(sender.accepted).toHaveLength(0);
    expect(metrics.quarantined).toBe(1);
    expect((await store.listQuarantined({ limit: 10 })).find((q) => q.aggregate === 'clock/f')).toMatchObject({ fromSeq: 1, reason: expect.stringContaining('crashes') });
  });

  it('retryable refusals count toward maxAttempts, then quarantine', async () => {
    await record('g', 1);
    const sender = scriptedSender(() => 'retryable');
    let quarantined = 0;
    for (let i = 0; i < 4; i++) quarantined += (await relay(sender, [ref('g')], undefined, { poison: { maxAttempts: 3, maxUnfinishedAttempts: 3 } })).metrics.quarantined;
    expect(quarantined).toBe(1);
    expect(sender.calls).toBe(3);
  });

  it('marks only events still pending at the seq it sent (a second marker marks nothing)', async () => {
    await record('h', 1);
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const lease = { key: 'k', owner: 'o', fence: 1 };
    const head = await store.begin(ref('h'), { limit: 10, lease });
    expect(await store.settle(ref('h'), { sent: head.events, refused: [], lease })).toBe(1);
    expect(await store.settle(ref('h'), { sent: head.events, refused: [], lease })).toBe(0);
    expect(await store.settle(ref('h'), { sent: [{ ...head.events[0]!, seq: 99 }], refused: [], lease })).toBe(0);
  });
});
