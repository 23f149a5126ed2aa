/**
 * The attempt counters the Redis store's `begin` reports (`started`, `finished`, `unjudged`,
 * which poison detection reads), on the real server and cluster with the real lease store.
 * `BEGIN` reads the finished and unjudged counters only for an event begun before (a first
 * start finds them at 0): these cases pin what each attempt reports — a first start, a
 * start after refused and unjudged attempts, after a crash (begun, never settled), and after
 * a redrive reset counters that were not 0.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openRedis, type RedisBackend } from '../../test/support.js';
import { redisWrite } from '../capture/redis.js';
import { prepareEvent } from '../envelope.js';
import type { AggregateRef, HeldLease, RelayStore, StoredEvent } from '../relay/types.js';
import { redisRelayStore } from './redis.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number() }) } };

describe.each(['redis', 'cluster'] as const)('Redis relay store: attempt counters begin reports (%s)', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  /** Two events of a fresh aggregate in its own partition; the store and its ref. */
  async function twoEvents(): Promise<{ store: RelayStore; ref: AggregateRef }> {
    const id = `c-${randomUUID().slice(0, 8)}`;
    const written = await redisWrite(backend.client, backend.prefix, {
      checks: [],
      commands: [['INCRBY', `${backend.prefix}n:{${id}}`, 1]],
      events: [1, 2].map((n) => prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n } }, {})),
    });
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix }).withLease!(backend.lease);
    return { store, ref: { where: written.partition, aggregate: `tick/${id}`, since: 0 } };
  }

  async function begin(store: RelayStore, ref: AggregateRef): Promise<{ lease: HeldLease; events: StoredEvent[] }> {
    const key = store.leaseKey(ref);
    const owner = randomUUID();
    const claim = await backend.lease.claim({ key, owner, leaseMs: 10_000 });
    expect(claim.claimed).toBe(true);
    const lease = { key, owner, fence: claim.claimed ? claim.fence : 0 };
    const [head] = await store.begin([{ ref, lease }], { limit: 10, maxBytes: 1 << 20 });
    return { lease, events: head!.events };
  }

  const counters = (es: StoredEvent[]) => es.map((e) => ({ seq: e.seq, started: e.started, finished: e.finished, unjudged: e.unjudged }));

  it('a first start reports 0 finished; later starts report the finished and unjudged attempts before them, a crash leaves started ahead', async () => {
    const { store, ref } = await twoEvents();
    const first = await begin(store, ref);
    expect(counters(first.events)).toEqual([
      { seq: 1, started: 1, finished: 0, unjudged: 0 },
      { seq: 2, started: 1, finished: 0, unjudged: 0 },
    ]);
    // Both refused; SQS never judged the first (the whole call failed).
    expect(await store.settle([{ ref, lease: first.lease, sent: [], refused: first.events, unjudged: [first.events[0]!] }])).toEqual([0]);

    const second = await begin(store, ref);
    expect(counters(second.events)).toEqual([
      { seq: 1, started: 2, finished: 1, unjudged: 1 },
      { seq: 2, started: 2, finished: 1, unjudged: 0 },
    ]);
    // A crash: begun, never settled; the lease is let go.
    await backend.lease.settle(second.lease);

    const third = await begin(store, ref);
    expect(counters(third.events)).toEqual([
      { seq: 1, started: 3, finished: 1, unjudged: 1 },
      { seq: 2, started: 3, finished: 1, unjudged: 0 },
    ]);
    // The first accepted (removed with its counters), the second refused and judged.
    expect(await store.settle([{ ref, lease: third.lease, sent: [third.events[0]!], refused: [third.events[1]!] }])).toEqual([1]);

    const fourth = await begin(store, ref);
    expect(counters(fourth.events)).toEqual([{ seq: 2, started: 4, finished: 2, unjudged: 0 }]);
    await backend.lease.settle(fourth.lease);
  });

  it('after a redrive reset counters that were not 0, the next start reports a first attempt', async () => {
    const { store, ref } = await twoEvents();
    const first = await begin(store, ref);
    expect(await store.settle([{ ref, lease: first.lease, sent: [], refused: first.events, unjudged: first.events }])).toEqual([0]);
    const second = await begin(store, ref);
    expect(counters(second.events).map((c) => [c.started, c.finished, c.unjudged])).toEqual([
      [2, 1, 1],
      [2, 1, 1],
    ]);
    const quarantinedAt = await store.quarantine(ref, { fromSeq: 1, reason: 'test', lease: second.lease });
    await backend.lease.settle(second.lease);
    expect(await store.redrive({ where: ref.where, aggregate: ref.aggregate, fromSeq: 1, quarantinedAt })).toBe('redriven');

    const after = await begin(store, ref);
    expect(counters(after.events)).toEqual([
      { seq: 1, started: 1, finished: 0, unjudged: 0 },
      { seq: 2, started: 1, finished: 0, unjudged: 0 },
    ]);
    await backend.lease.settle(after.lease);
  });
});
