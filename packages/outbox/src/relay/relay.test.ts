/**
 * Relay decisions against the real Redis store on a single server and on the cluster, with
 * the real `@steadyfn/lease` Redis store (its settle fragment in the mark script) and a
 * scripted sender: head of line, partial failures, leases, poison, sender faults, quarantine
 * with later events, redrive in order, conditional marks, batched store calls, pruning.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inWindow, sleepUntil } from '../../../../test/support/window.js';
import { openRedis, scriptedSender, type RedisBackend } from '../../test/support.js';
import { redisWrite } from '../capture/redis.js';
import { prepareEvent } from '../envelope.js';
import { redisRelayStore } from '../stores/redis.js';
import { partitionKeys, partitionsKey } from '../stores/redis-keys.js';
import { MetricsRecorder } from './metrics.js';
import { DEFAULT_POISON } from './poison.js';
import { relayAggregates, type RelayRunOptions } from './relay.js';
import { sweep } from './sweeper.js';
import type { AggregateRef, RelayStore, Sender } from './types.js';

const events = { Tick: { aggregateType: 'clock', schema: z.object({ n: z.number() }) } };
const run = (overrides: Partial<RelayRunOptions> = {}): RelayRunOptions => ({ leaseMs: 10_000, maxEventsPerAggregate: 50, poison: DEFAULT_POISON, reserveMs: 0, remainingMs: () => 60_000, ...overrides });

describe.each(['redis', 'cluster'] as const)('relay decisions (Redis store and lease on %s)', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  // Every aggregate of these tests has its own hash tag: its own partition (and slot on the cluster).
  const tagged = (id: string) => `${id}-${name}`;
  const record = async (id: string, n: number, partitionTtlMs?: number) => {
    for (let i = 1; i <= n; i++) {
      await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', `${backend.prefix}n:{${tagged(id)}}`, 1]], events: [prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: i } }, {})], ...(partitionTtlMs ? { partitionTtlMs } : {}) });
    }
  };
  const ref = (id: string): AggregateRef => ({ where: tagged(id), aggregate: `clock/${id}`, since: 0 });
  const seqs = (sender: { accepted: Array<{ attributes?: Readonly<Record<string, string>>; groupKey?: string }> }, id: string) =>
    sender.accepted.filter((m) => m.groupKey === `clock/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']));
  /** Claims `key` for a new owner, retrying briefly: the server expires the old lease by its own clock. */
  const claimOnceFree = async (key: string) => {
    for (let i = 0; ; i++) {
      const claim = await backend.lease.claim({ key, owner: randomUUID(), leaseMs: 60_000 });
      if (claim.claimed || i === 50) return claim;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const storeOf = (): RelayStore => redisRelayStore({ client: backend.client, prefix: backend.prefix }).withLease!(backend.lease);

  const relay = (sender: Sender, refs: AggregateRef[], options: Partial<RelayRunOptions> = {}) => {
    const metrics = new MetricsRecorder();
    const store = storeOf();
    return relayAggregates({ store, lease: backend.lease, sender, metrics }, refs, run(options)).then(() => ({ metrics: metrics.snapshot(), store }));
  };

  it('marks and releases the lease in one script: the store says so', () => {
    expect(storeOf().settleReleasesLease).toBe(true);
  });

  it('sends each aggregate in seq order across rounds, and drains it', async () => {
    await record('a', 7);
    const sender = scriptedSender();
    const { metrics, store } = await relay(sender, [ref('a')], { maxEventsPerAggregate: 3 });
    expect(seqs(sender, 'a')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(metrics.sent).toBe(7);
    expect((await store.listPending({ limit: 100, before: Date.now() + 1000 })).filter((r) => r.aggregate === 'clock/a')).toEqual([]);
    // Every round released its lease: the next relay claims at once.
    expect(await backend.lease.get(store.leaseKey(ref('a')))).toBeUndefined();
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

  it('skips an aggregate whose lease another relay holds (another process, the same lease store)', async () => {
    await record('c', 2);
    const store = storeOf();
    const other = await backend.lease.claim({ key: store.leaseKey(ref('c')), owner: randomUUID(), leaseMs: 60_000 });
    expect(other.claimed).toBe(true);
    const sender = scriptedSender();
    const { metrics } = await relay(sender, [ref('c')]);
    expect(sender.accepted).toHaveLength(0);
    expect(metrics.leased).toBe(1);
  });

  it('a relay whose lease was taken over marks nothing; the new holder sends the events again', async () => {
    await record('lost', 2);
    const store = storeOf();
    const key = store.leaseKey(ref('lost'));
    // The window: the lease, which must still be held when `begin` reads the head. A `begin` that
    // a loaded machine delays past it proves nothing: run again with a longer lease.
    await inWindow([150, 600, 2_400], async (window) => {
      const owner = randomUUID();
      const since = Date.now();
      const claim = await backend.lease.claim({ key, owner, leaseMs: window.ms });
      if (!claim.claimed) throw new Error('not claimed');
      const claimedBy = Date.now();
      const lease = { key, owner, fence: claim.fence };
      const [head] = await store.begin([{ ref: ref('lost'), lease }], { limit: 10, maxBytes: 1 << 20 });
      window.holds(since, () => expect(head?.events.length).toBe(2));
      // Paused past its lease (it ends by `claimedBy + ms`): another relay takes the aggregate over.
      await sleepUntil(claimedBy + window.ms);
      const takeover = await claimOnceFree(key);
      expect(takeover.claimed).toBe(true);
      expect(await store.settle([{ ref: ref('lost'), lease, sent: head!.events, refused: [] }])).toEqual([-1]);
      expect((await store.listPending({ limit: 100, before: Date.now() + 1000 })).some((r) => r.aggregate === 'clock/lost')).toBe(true);
    });
  });

  it('a sender fault quarantines the aggregate from that event on; others keep flowing; redrive sends in order', async () => {
    await record('d', 3);
    await record('e', 2);
    let fault = true;
    const sender = scriptedSender((m) => (fault && m.groupKey === 'clock/d' && m.attributes!['steadyfn.seq'] === '2' ? 'fault' : 'sent'));
    const { metrics, store } = await relay(sender, [ref('d'), ref('e')]);
    expect(seqs(sender, 'd')).toEqual([1]);
    expect(seqs(sender, 'e')).toEqual([1, 2]);
    expect(metrics.quarantined).toBe(1);
    expect((await store.listQuarantined({ limit: 100 })).filter((q) => q.aggregate === 'clock/d')).toEqual([expect.objectContaining({ fromSeq: 2, reason: expect.stringContaining('InvalidMessageContents') })]);
    // New events of a quarantined aggregate wait behind it.
    await record('d', 1);
    await relay(sender, [ref('d')]);
    expect(seqs(sender, 'd')).toEqual([1]);
    fault = false;
    const [held] = (await store.listQuarantined({ limit: 100 })).filter((q) => q.aggregate === 'clock/d');
    expect(held!.where).toBe(tagged('d'));
    expect(await store.redrive(held!)).toBe('redriven');
    await relay(sender, [ref('d')]);
    expect(seqs(sender, 'd')).toEqual([1, 2, 3, 4]);
    expect((await store.listQuarantined({ limit: 100 })).filter((q) => q.aggregate === 'clock/d')).toEqual([]);
  });

  it('counts crashes: attempts begun that never finished make an event poison', async () => {
    await record('f', 2);
    const store = storeOf();
    // Four relays that "crash" after reading its head alone (begin counted, nothing settled): the
    // first makes it a suspect, the next three count (crashes are judged in isolation).
    for (let i = 0; i < 4; i++) {
      const key = `${store.leaseKey(ref('f'))}`;
      const owner = randomUUID();
      const claim = await backend.lease.claim({ key, owner, leaseMs: 60_000 });
      if (!claim.claimed) throw new Error('not claimed');
      await store.begin([{ ref: ref('f'), lease: { key, owner, fence: claim.fence } }], { limit: 1, maxBytes: 1 << 20 });
      await backend.lease.settle({ key, owner, fence: claim.fence });
    }
    const sender = scriptedSender();
    const { metrics } = await relay(sender, [ref('f')]);
    expect(sender.accepted).toHaveLength(0);
    expect(metrics.quarantined).toBe(1);
    expect((await store.listQuarantined({ limit: 100 })).find((q) => q.aggregate === 'clock/f')).toMatchObject({ fromSeq: 1, reason: expect.stringContaining('crashes') });
  });

  it('retryable refusals count toward maxAttempts, then quarantine', async () => {
    await record('g', 1);
    const sender = scriptedSender(() => 'retryable');
    let quarantined = 0;
    for (let i = 0; i < 4; i++) quarantined += (await relay(sender, [ref('g')], { poison: { maxAttempts: 3, maxUnfinishedAttempts: 3 } })).metrics.quarantined;
    expect(quarantined).toBe(1);
    expect(sender.calls).toBe(3);
  });

  it('failures SQS never judged (the whole call failed, or send threw) count nothing toward maxAttempts; judged ones still do', async () => {
    await record('u', 1);
    const poison = { maxAttempts: 2, maxUnfinishedAttempts: 2 };
    const outage = scriptedSender(() => 'unjudged');
    const thrower = { fifo: false, send: async (): Promise<never> => Promise.reject(new Error('connect ECONNREFUSED')) };
    let quarantined = 0;
    for (let i = 0; i < 5; i++) quarantined += (await relay(i % 2 === 0 ? outage : thrower, [ref('u')], { poison })).metrics.quarantined;
    expect(quarantined).toBe(0);
    const refusing = scriptedSender(() => 'retryable');
    for (let i = 0; i < 3; i++) quarantined += (await relay(refusing, [ref('u')], { poison })).metrics.quarantined;
    expect(quarantined).toBe(1);
    expect(refusing.calls).toBe(2);
  });

  it('marks only events still pending at the seq it sent (a second mark marks nothing)', async () => {
    await record('h', 1);
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const lease = { key: 'k', owner: 'o', fence: 1 };
    const [head] = await store.begin([{ ref: ref('h'), lease }], { limit: 10, maxBytes: 1 << 20 });
    const item = { ref: ref('h'), lease, refused: [] };
    expect(await store.settle([{ ...item, sent: head!.events }])).toEqual([1]);
    expect(await store.settle([{ ...item, sent: head!.events }])).toEqual([0]);
    expect(await store.settle([{ ...item, sent: [{ ...head!.events[0]!, seq: 99 }] }])).toEqual([0]);
  });

  it('reads and marks many aggregates per script: one call on a server, two per partition on a cluster (sizes, then bodies)', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `many-${i}`);
    for (const id of ids) await record(id, 3);
    let scripts = 0;
    const counted = new Proxy(backend.client, {
      get: (target, prop) => (prop === 'evalsha' ? (...a: unknown[]) => (scripts++, (target.evalsha as (...x: unknown[]) => Promise<unknown>)(...a)) : Reflect.get(target, prop)),
    });
    const store = redisRelayStore({ client: counted as never, prefix: backend.prefix }).withLease!(backend.lease);
    const leases = ids.map((id) => ({ ref: ref(id), lease: { key: store.leaseKey(ref(id)), owner: 'o', fence: 1 } }));
    const heads = await store.begin(leases, { limit: 2, maxBytes: 1 << 20 });
    expect(heads.map((h) => h.events.map((e) => e.seq))).toEqual(ids.map(() => [1, 2]));
    expect(heads.every((h) => h.more)).toBe(true);
    // A cluster reads each partition's head sizes, then its bodies: two scripts per partition, each wave at once.
    expect(scripts).toBe(name === 'redis' ? 1 : 2 * ids.length);
    // That read ends its attempts (as a relay's settle would): left unfinished, they would be a crash's suspects, each sent alone.
    await redisRelayStore({ client: backend.client, prefix: backend.prefix }).settle(leases.map((l, i) => ({ ...l, sent: [], refused: heads[i]!.events, unjudged: heads[i]!.events })));
    // The whole relay of 12 aggregates: a lease batch, a read and a mark script per round.
    scripts = 0;
    const sender = scriptedSender();
    const metrics = new MetricsRecorder();
    await relayAggregates({ store, lease: backend.lease, sender, metrics }, ids.map(ref), run());
    expect(metrics.sent).toBe(36);
    expect(sender.calls).toBe(1);
    if (name === 'redis') expect(scripts).toBe(2);
    for (const id of ids) expect(seqs(sender, id)).toEqual([1, 2, 3]);
  });

  // Only a cluster spreads partitions over several scripts: on one server the case is not registered (not a skip).
  if (name === 'cluster')
    it('on a cluster reads the partitions at once, at most 16 scripts in flight, within the byte budget', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `wide-${i}`);
    for (const id of ids) await record(id, 2);
    let inFlight = 0;
    let most = 0;
    const counted = new Proxy(backend.client, {
      get: (target, prop) =>
        prop === 'evalsha' || prop === 'eval'
          ? async (...a: unknown[]) => {
              most = Math.max(most, ++inFlight);
              try {
                return await (target[prop] as (...x: unknown[]) => Promise<unknown>)(...a);
              } finally {
                inFlight--;
              }
            }
          : Reflect.get(target, prop),
    });
    const store = redisRelayStore({ client: counted as never, prefix: backend.prefix });
    const leases = ids.map((id) => ({ ref: ref(id), lease: { key: store.leaseKey(ref(id)), owner: 'o', fence: 1 } }));
    const all = await store.begin(leases, { limit: 10, maxBytes: 1 << 20 });
    expect(all.map((h) => h.events.map((e) => e.seq))).toEqual(ids.map(() => [1, 2]));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    // A budget of a few events: spent round-robin (every aggregate's first event, then every
    // second, …) in aggregate order, and no more than it (the first event in any case).
    const size = Buffer.byteLength(all[0]!.events[0]!.body);
    const some = await store.begin(leases, { limit: 10, maxBytes: size * 5 });
    const read = some.map((h) => h.events.length);
    expect(read.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5);
    expect(read.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(some.slice(5).every((h) => h.events.length === 0 && h.more && !h.quarantined)).toBe(true);
  });

  // The mark script removes an aggregate's accepted events with one command of each kind, in
  // chunks of 1,000 arguments (Lua's stack bounds unpack): a head above that crosses the chunks.
  it.each(['delete', 'sent'] as const)('marks a head larger than the mark script\'s chunks in one round (mark: %s): every event once, in order, its counters gone', async (mark) => {
    const id = `big-${mark}`;
    const total = 1_201;
    for (let from = 1; from <= total; from += 50) {
      const batch = Array.from({ length: Math.min(50, total - from + 1) }, (_, i) => prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: from + i } }, {}));
      // The command's hash tag puts the events in the aggregate's own partition, as `record` does.
      await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', `${backend.prefix}n:{${tagged(id)}}`, 1]], events: batch });
    }
    const sender = scriptedSender();
    const metrics = new MetricsRecorder();
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix, mark }).withLease!(backend.lease);
    await relayAggregates({ store, lease: backend.lease, sender, metrics }, [ref(id)], run({ maxEventsPerAggregate: 1_500, maxBytesPerRound: 64 << 20 }));
    expect(sender.calls).toBe(1);
    expect(seqs(sender, id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(metrics.snapshot().sent).toBe(total);
    const k = partitionKeys(backend.prefix, tagged(id));
    expect(await backend.client.call('ZCARD', k.aggregate(`clock/${id}`))).toBe(0);
    expect(await backend.client.call('HLEN', k.attempts)).toBe(0);
    expect(await backend.client.call('XLEN', k.events)).toBe(mark === 'sent' ? total : 0);
    expect(await backend.client.call('ZCARD', k.sent)).toBe(mark === 'sent' ? total : 0);
    expect((await store.listPending({ limit: 100, before: Date.now() + 1000 })).filter((r) => r.aggregate === `clock/${id}`)).toEqual([]);
  });

  it('stops reading an aggregate at the byte budget (always at least one event) and says more are waiting', async () => {
    await record('bytes', 3);
    const store = storeOf();
    const lease = { key: store.leaseKey(ref('bytes')), owner: 'o', fence: 1 };
    const [one] = await store.begin([{ ref: ref('bytes'), lease }], { limit: 10, maxBytes: 1 });
    expect(one!.events.map((e) => e.seq)).toEqual([1]);
    expect(one!.more).toBe(true);
  });

  it('cleanup of events kept as sent runs only under its outbox\'s cleanup lease, in bounded batches', async () => {
    // A prefix of its own: the sweep relays (and then keeps as sent) only this test's events.
    const prefix = `${backend.prefix}kept:`;
    const store = redisRelayStore({ client: backend.client, prefix, mark: 'sent' }).withLease!(backend.lease);
    for (let i = 1; i <= 3; i++) {
      await redisWrite(backend.client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${tagged('kept')}}`, 1]], events: [prepareEvent(events, { type: 'Tick', aggregateId: 'kept', payload: { n: i } }, {})] });
    }
    const sender = scriptedSender();
    const sweepOnce = (cleanupLimit: number) => sweep({ store, lease: backend.lease, sender, metrics: new MetricsRecorder() }, run(), { graceMs: 0, maxAggregates: 1000, chunk: 50, retainSentMs: 0, cleanupLimit, pruneLimit: 0 });
    const stream = partitionKeys(prefix, tagged('kept')).events;
    // Another sweeper is cleaning this outbox: this one relays, but deletes nothing.
    const key = store.cleanupLeaseKey!;
    const other = randomUUID();
    const held = await backend.lease.claim({ key, owner: other, leaseMs: 10_000 });
    expect(held.claimed).toBe(true);
    // Another outbox on the same lease store is being cleaned too: that does not hold this one back.
    const neighbour = redisRelayStore({ client: backend.client, prefix: `${backend.prefix}neighbour:`, mark: 'sent' }).cleanupLeaseKey!;
    expect(neighbour).not.toBe(key);
    expect((await backend.lease.claim({ key: neighbour, owner: other, leaseMs: 10_000 })).claimed).toBe(true);
    expect((await sweepOnce(10)).cleaned).toBe(0);
    expect(seqs(sender, 'kept')).toEqual([1, 2, 3]);
    expect(await backend.client.xlen(stream)).toBe(3);
    if (held.claimed) expect(await backend.lease.settle({ key, owner: other, fence: held.fence })).toBe(true);
    // Its lease released: at most cleanupLimit sent events per sweep, oldest first.
    expect((await sweepOnce(2)).cleaned).toBe(2);
    expect(await backend.client.xlen(stream)).toBe(1);
    expect((await sweepOnce(2)).cleaned).toBe(1);
    expect(await backend.client.xlen(stream)).toBe(0);
    expect(seqs(sender, 'kept')).toEqual([1, 2, 3]);
  });

  it('a sweep that finds fewer aggregates than chunk × parallel spreads them over the parallel workers, no chunk below 10 (a full batch), each in order', async () => {
    const prefix = `${backend.prefix}spread${randomUUID().slice(0, 6)}:`;
    // 24 aggregates, chunk 25, 4 workers: chunks of 10, 10 and 4 (not 4 of 6: calls of 6 entries at most).
    const ids = Array.from({ length: 24 }, (_, i) => `spread-${i}`);
    for (const id of ids) {
      for (let n = 1; n <= 2; n++) await redisWrite(backend.client, prefix, { checks: [], commands: [], events: [prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n } }, {})] });
    }
    const inner = scriptedSender();
    let now = 0;
    let most = 0;
    const sizes: number[] = [];
    const sender: Sender = {
      fifo: false,
      async send(messages, options) {
        most = Math.max(most, ++now);
        sizes.push(new Set(messages.map((m) => m.groupKey)).size);
        await new Promise((r) => setTimeout(r, 30));
        now--;
        return inner.send(messages, options);
      },
    };
    const store = redisRelayStore({ client: backend.client, prefix }).withLease!(backend.lease);
    const result = await sweep({ store, lease: backend.lease, sender, metrics: new MetricsRecorder() }, run(), { graceMs: 0, maxAggregates: 1000, chunk: 25, parallel: 4, retainSentMs: 0, cleanupLimit: 1, pruneLimit: 0 });
    expect(result.found).toBe(24);
    expect(sizes.sort((a, b) => a - b)).toEqual([4, 10, 10]);
    expect(most).toBe(3);
    for (const id of ids) expect(inner.accepted.filter((m) => m.groupKey === `clock/${id}`).map((m) => Number(m.attributes!['steadyfn.seq']))).toEqual([1, 2]);
  });

  it('a sweep drops partitions that hold nothing from the partition list; a later write lists them again', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    // The listing TTL outlasts the write and the first sweep on a loaded machine (with 1 s, a
    // sweep that took longer pruned the partition before the check that it was kept).
    const PARTITION_TTL_MS = 4_000;
    await record('prune', 1, PARTITION_TTL_MS);
    const written = Date.now(); // its listing TTL ends by then + PARTITION_TTL_MS
    const list = async () => (await backend.client.smembers(partitionsKey(backend.prefix))).includes(tagged('prune'));
    expect(await list()).toBe(true);
    const sender = scriptedSender();
    await sweep({ store: store.withLease!(backend.lease), lease: backend.lease, sender, metrics: new MetricsRecorder() }, run(), { graceMs: 0, maxAggregates: 1000, chunk: 50, retainSentMs: 0, cleanupLimit: 1 });
    if (name === 'cluster') {
      // Still within its listing TTL after the write: kept.
      expect(await list()).toBe(true);
      await new Promise((r) => setTimeout(r, written + PARTITION_TTL_MS + 200 - Date.now()));
    }
    const result = await sweep({ store: store.withLease!(backend.lease), lease: backend.lease, sender, metrics: new MetricsRecorder() }, run(), { graceMs: 0, maxAggregates: 1000, chunk: 50, retainSentMs: 0, cleanupLimit: 1 });
    expect(result.pruned).toBeGreaterThanOrEqual(1);
    expect(await list()).toBe(false);
    await record('prune', 1, 1_000);
    expect(await list()).toBe(true);
    await relay(sender, [ref('prune')]);
    expect(seqs(sender, 'prune')).toEqual([1, 2]);
  });
});
