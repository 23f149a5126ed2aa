/**
 * Transaction mode, a workflow step re-run after a crash between its commit (state, event and
 * `_applied` marker) and the inbox's completion: the redelivery's `ctx.transition(id,
 * 'validated', 'paid')` matches nothing (the document is already `paid`) and used to throw the
 * terminal 409 `TRANSITION_CONFLICT` before the commit's marker insert could roll it back as
 * already applied. Now the transition looks its request key up in the applied markers and
 * answers `{ duplicate: true }`.
 *
 * The transaction itself needs a replica set (FerretDB has none): that test runs when
 * MONGODB_REPLSET_URI is set and is reported skipped otherwise. The lookup's decision — applied
 * marker found: a duplicate; none: the 409 as before; the staged event dropped either way — runs
 * here on FerretDB through the plugin's own `ctx.transition`, with no transaction and no session
 * (none is faked).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MongoClient } from 'mongodb';
import { handler } from '@steadyfn/handler';
import { mongoStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { lambdaContext, openMongo, sqsEvent, type MongoBackend } from '../test/support.js';
import { prepareEvent, serializeEvent, type PendingEvent } from './envelope.js';
import { inbox } from './inbox.js';
import { outbox } from './plugin.js';
import { mongoTransactionOutbox } from './stores/mongo-collection.js';
import { transitions } from './transitions.js';

const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;
const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ n: z.number() }) } };

describe('transaction-mode transition that matches nothing: the applied-marker lookup (FerretDB, no transaction)', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo?.close();
  });

  /** `ctx.transition` of the plugin, with the ctx a transaction-mode invocation consuming inbox key `key` has. */
  const transitionOf = (key: string) => {
    const store = mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never });
    const staged: PendingEvent[] = [];
    const outboxCtx = { staged, session: undefined, add: (draft: never) => (staged.push(prepareEvent(events, draft, {})), staged.at(-1)!) };
    const ctx = { functionName: 'pay', trigger: { kind: 'queue' }, inbox: { key }, outbox: outboxCtx } as never;
    const plugin = transitions({ table, store, collection: () => mongo.db.collection('orders') as never });
    const { transition } = plugin.extend!(ctx, []) as { transition: (id: string, from: string, to: string, e: unknown) => Promise<{ duplicate: boolean }> };
    return { store, staged, transition };
  };

  it('the request key among the applied markers: a duplicate, its event dropped (was a terminal 409 TRANSITION_CONFLICT)', async () => {
    const id = `o-${randomUUID()}`;
    const key = `inbox:billing:${randomUUID()}`;
    await mongo.db.collection('orders').insertOne({ _id: id as never, status: 'paid' });
    const { store, staged, transition } = transitionOf(key);
    await (await store.applied()).insertOne({ _id: key, at: new Date() });
    await expect(transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: { n: 1 } })).resolves.toEqual({ duplicate: true });
    expect(staged).toEqual([]);
  });

  it('no applied marker: the 409 TRANSITION_CONFLICT as before, its event dropped', async () => {
    const id = `o-${randomUUID()}`;
    await mongo.db.collection('orders').insertOne({ _id: id as never, status: 'paid' });
    const { staged, transition } = transitionOf(`inbox:billing:${randomUUID()}`);
    await expect(transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: { n: 1 } })).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT', status: 409 });
    expect(staged).toEqual([]);
  });
});

const replset = process.env.MONGODB_REPLSET_URI;
describe('transaction-mode step re-run after a crash between the commit and the inbox completion', () => {
  it.runIf(replset)('finds its write already applied: no 409, no second state change or event (needs a replica set for transactions: set MONGODB_REPLSET_URI; none can run here)', async () => {
    const client = await new MongoClient(replset!).connect();
    const db = client.db(`steadyfn_outbox_rerun_${randomUUID().slice(0, 8)}`);
    try {
      const store = mongoTransactionOutbox({ client: client as never, db: db as never });
      await store.ensureIndexes();
      const id = `o-${randomUUID()}`;
      await db.collection('orders').insertOne({ _id: id as never, status: 'validated' });
      const records = mongoStore({ collection: db.collection('inbox') });
      // The first delivery's completion never lands (its process killed after the commit): its
      // records are freed as the lease's end would free them, so the redelivery runs the step again.
      const killed: IdempotencyStore = { ...records, completeMany: (requests) => records.completeMany(requests.map(({ key, owner }) => ({ key, owner }))) };
      let runs = 0;
      const step = (s: IdempotencyStore) =>
        handler({ use: [inbox({ store: s, consumer: 'billing' }), outbox({ events, store }), transitions({ table, store, collection: () => db.collection('orders') as never })], logSink: () => undefined }, async (_input, ctx) => {
          runs++;
          await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: { n: 1 } });
        });
      const body = serializeEvent(prepareEvent({ OrderValidated: { aggregateType: 'order', schema: z.object({}) } }, { type: 'OrderValidated', aggregateId: id, payload: {} }, {}), 1);
      expect(await step(killed).aws(sqsEvent([body]), lambdaContext('pay'))).toEqual({ batchItemFailures: [] });
      expect(await step(records).aws(sqsEvent([body], { attempt: 2 }), lambdaContext('pay'))).toEqual({ batchItemFailures: [] });
      expect(runs).toBe(2);
      expect(await db.collection('orders').findOne({ _id: id as never })).toMatchObject({ status: 'paid' });
      expect(await db.collection('outbox').countDocuments({ a: `order/${id}` })).toBe(1);
    } finally {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    }
  });
});
