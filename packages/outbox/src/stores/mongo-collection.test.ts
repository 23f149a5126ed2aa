/**
 * The transaction-mode relay store (one document per event). Its reads and marks run on any
 * MongoDB-wire server, so they are checked on FerretDB with a Redis lease (which cannot join a
 * transaction: marks conditional on (id, seq) alone). The marks in a transaction with a
 * `mongoLeaseStore`'s settle — conditional on (lease token, seq) — need a replica set: run when
 * MONGODB_REPLSET_URI is set, reported skipped otherwise.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { mongoLeaseStore } from '@steadyfn/lease';
import { openMongo, openRedis, type MongoBackend, type RedisBackend } from '../../test/support.js';
import { mongoTransactionOutbox } from './mongo-collection.js';
import type { AggregateRef, RelayStore } from '../relay/types.js';

const ref = (id: string): AggregateRef => ({ where: 'outbox', aggregate: `order/${id}`, since: 0 });
// As the capture writes them (`eventDocument`): the body's size `b` beside it.
const eventDocs = (id: string, n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => {
    const e = JSON.stringify({ seq: from + i, pad: 'x'.repeat(100) });
    return { _id: randomUUID(), a: `order/${id}`, s: from + i, t: 'OrderPaid', e, b: Buffer.byteLength(e), c: new Date(Date.now() - 10_000 + i), p: true, tp: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  });

describe('transaction-mode relay store on FerretDB (reads and marks; Redis lease)', () => {
  let mongo: MongoBackend;
  let redis: RedisBackend;
  let store: RelayStore;
  beforeAll(async () => {
    mongo = await openMongo();
    redis = await openRedis('redis');
    store = mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never, mark: 'sent' }).relay.withLease!(redis.lease);
  });
  afterAll(async () => {
    await redis?.close();
    await mongo?.close();
  });

  const lease = (id: string) => ({ key: store.leaseKey(ref(id)), owner: 'o', fence: 1 });

  it('a Redis lease cannot join the marks\' transaction: the relay releases it after the marks', () => {
    expect(store.settleReleasesLease).toBe(false);
  });

  it('spends the round\'s byte budget across the aggregates round-robin: one whose head no longer fits reads nothing and begins no attempt', async () => {
    await mongo.db.collection('outbox').insertMany([...eventDocs('r1', 3), ...eventDocs('r2', 2), ...eventDocs('r3', 1)] as never[]);
    const size = eventDocs('x', 1)[0]!.e.length;
    const items = ['r1', 'r2', 'r3'].map((id) => ({ ref: ref(id), lease: lease(id) }));
    const heads = await store.begin(items, { limit: 10, maxBytes: 2 * size });
    // Every aggregate's first event while it fits (r1 and r2), not r1's first two.
    expect(heads.map((h) => h.events.length)).toEqual([1, 1, 0]);
    expect(heads.map((h) => h.more)).toEqual([true, true, true]);
    // The skipped aggregate's head was not counted as started: the next round's begin is its first.
    const [r3] = await store.begin([items[2]!], { limit: 10, maxBytes: 1 });
    expect(r3!.events.map((e) => [e.seq, e.started])).toEqual([[1, 1]]);
  });

  it('reads the head in seq order (count and byte budget), counts a started attempt, carries the traceparent', async () => {
    await mongo.db.collection('outbox').insertMany(eventDocs('a', 4) as never[]);
    const [head] = await store.begin([{ ref: ref('a'), lease: lease('a') }], { limit: 3, maxBytes: 1 << 20 });
    expect(head!.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(head!.more).toBe(true);
    expect(head!.events[0]!.traceparent).toMatch(/^00-/);
    const [again] = await store.begin([{ ref: ref('a'), lease: lease('a') }], { limit: 10, maxBytes: 1 });
    expect(again!.events.map((e) => e.seq)).toEqual([1]);
    expect(again!.events[0]!.started).toBe(2);
  });

  it('marks only (id, seq) still pending; a refusal counts a finished attempt; sent ones are cleaned in bounded batches', async () => {
    await mongo.db.collection('outbox').insertMany(eventDocs('b', 3) as never[]);
    const [head] = await store.begin([{ ref: ref('b'), lease: lease('b') }], { limit: 10, maxBytes: 1 << 20 });
    const [e1, e2, e3] = head!.events;
    expect(await store.settle([{ ref: ref('b'), lease: lease('b'), sent: [e1!, { ...e2!, seq: 99 }], refused: [e3!] }])).toEqual([1]);
    expect(await store.settle([{ ref: ref('b'), lease: lease('b'), sent: [e1!], refused: [] }])).toEqual([0]);
    const [after] = await store.begin([{ ref: ref('b'), lease: lease('b') }], { limit: 10, maxBytes: 1 << 20 });
    expect(after!.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(await mongo.db.collection('outbox').findOne({ _id: e3!.id as never })).toMatchObject({ fi: 1 });
    expect(await store.cleanup!({ limit: 10, olderThanMs: 0 })).toBe(1);
  });

  it('quarantine holds the aggregate; redrive releases it', async () => {
    await mongo.db.collection('outbox').insertMany(eventDocs('c', 2) as never[]);
    const quarantinedAt = await store.quarantine(ref('c'), { fromSeq: 1, reason: 'test', lease: lease('c') });
    expect((await store.begin([{ ref: ref('c'), lease: lease('c') }], { limit: 10, maxBytes: 1 << 20 }))[0]!.quarantined).toBe(true);
    expect((await store.listQuarantined({ limit: 10 })).find((q) => q.aggregate === 'order/c')).toMatchObject({ where: 'outbox', fromSeq: 1, quarantinedAt });
    // Another identity (a later quarantine from the same seq) is not this one.
    expect(await store.redrive({ where: 'outbox', aggregate: 'order/c', fromSeq: 1, quarantinedAt: quarantinedAt + 1 })).toBe('quarantine-changed');
    expect(await store.redrive({ where: 'outbox', aggregate: 'order/c', fromSeq: 1, quarantinedAt })).toBe('redriven');
    expect((await store.begin([{ ref: ref('c'), lease: lease('c') }], { limit: 10, maxBytes: 1 << 20 }))[0]!.events).toHaveLength(2);
  });

  it('lists aggregates with pending events, oldest first', async () => {
    const pending = await store.listPending({ limit: 100, before: Date.now() });
    expect(pending.map((r) => r.aggregate)).toEqual(expect.arrayContaining(['order/a', 'order/b', 'order/c']));
  });
});

const replset = process.env.MONGODB_REPLSET_URI;
describe.skipIf(!replset)('transaction-mode marks with the lease\'s settle in one transaction (needs a replica set: set MONGODB_REPLSET_URI)', () => {
  it('conditional on (lease token, seq): a relay whose lease was taken over commits no mark', async () => {
    const client = await new MongoClient(replset!).connect();
    const db = client.db(`steadyfn_outbox_marks_${randomUUID().slice(0, 8)}`);
    try {
      const leases = mongoLeaseStore({ collection: db.collection('leases') });
      await leases.ensureIndexes();
      const store = mongoTransactionOutbox({ client: client as never, db: db as never }).relay.withLease!(leases);
      expect(store.settleReleasesLease).toBe(true);
      await db.collection('outbox').insertMany(eventDocs('t', 2) as never[]);
      const key = store.leaseKey(ref('t'));
      const owner = randomUUID();
      const claim = await leases.claim({ key, owner, leaseMs: 500 });
      if (!claim.claimed) throw new Error('not claimed');
      const held = { key, owner, fence: claim.fence };
      const [head] = await store.begin([{ ref: ref('t'), lease: held }], { limit: 10, maxBytes: 1 << 20 });
      await new Promise((r) => setTimeout(r, 800));
      expect((await leases.claim({ key, owner: randomUUID(), leaseMs: 60_000 })).claimed).toBe(true);
      expect(await store.settle([{ ref: ref('t'), lease: held, sent: head!.events, refused: [] }])).toEqual([-1]);
      expect(await db.collection('outbox').countDocuments({ a: 'order/t', p: true })).toBe(2);
    } finally {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    }
  });
});
