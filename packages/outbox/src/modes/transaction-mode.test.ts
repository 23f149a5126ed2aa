/**
 * Transaction mode. Needs a replica set: the transaction tests run when MONGODB_REPLSET_URI
 * is set and are reported skipped otherwise. On FerretDB (no transactions) the mode refuses
 * clearly — that part runs here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MongoClient, MongoError } from 'mongodb';
import { handler } from '@steadyfn/handler';
import { idempotency, mongoStore } from '@steadyfn/idempotency';
import { mongoLeaseStore } from '@steadyfn/lease';
import { outbox } from '../plugin.js';
import { openMongo, scriptedSender, type MongoBackend } from '../../test/support.js';
import { prepareEvent } from '../envelope.js';
import { newInvocationState, type InvocationState } from '../invocation.js';
import { mongoTransactionOutbox } from '../stores/mongo-collection.js';
import { transactionAround } from './transaction-mode.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ n: z.number() }) } };
const paid = (id: string, n = 1) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: { n } }, {});
const newState = (deliveryId?: string): InvocationState => ({ ...newInvocationState(), ctx: { deliveryId, trigger: { kind: 'queue' } } as never });

describe('transaction mode on FerretDB (no transactions)', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('refuses with OUTBOX_SERVER_UNSUPPORTED and writes nothing', async () => {
    const store = mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never });
    const state = newState();
    await expect(
      transactionAround(store, state, async () => {
        state.events.push(paid('o-1'));
        await mongo.db.collection('orders').insertOne({ _id: 'o-1' as never }, { session: state.session as never });
        return 'ok';
      }),
    ).rejects.toMatchObject({ code: 'OUTBOX_SERVER_UNSUPPORTED' });
    expect(await mongo.db.collection('outbox').countDocuments()).toBe(0);
  });
});

const replset = process.env.MONGODB_REPLSET_URI;
describe.skipIf(!replset)('transaction mode on a replica set (needs a replica set: set MONGODB_REPLSET_URI)', () => {
  let client: MongoClient;
  let dbName: string;
  beforeAll(async () => {
    client = await new MongoClient(replset!).connect();
    dbName = `steadyfn_outbox_tx_${Math.random().toString(36).slice(2, 8)}`;
  });
  afterAll(async () => {
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  const setup = async () => {
    const db = client.db(dbName);
    const store = mongoTransactionOutbox({ client: client as never, db: db as never });
    await store.ensureIndexes();
    return { db, store };
  };

  it('commits state and events together, seq per aggregate', async () => {
    const { db, store } = await setup();
    const state = newState();
    await transactionAround(store, state, async () => {
      await db.collection('orders').insertOne({ _id: 'a' as never, status: 'paid' }, { session: state.session as never });
      state.events.push(paid('a'), paid('a', 2));
    });
    const docs = await db.collection('outbox').find({ a: 'order/a' }).sort({ s: 1 }).toArray();
    expect(docs.map((d) => d.s)).toEqual([1, 2]);
    expect(await db.collection('orders').findOne({ _id: 'a' as never })).toMatchObject({ status: 'paid' });
  });

  it('keeps each event\'s body size (b) beside it; a relay round reads the bodies of only what its byte budget takes', async () => {
    const { db, store } = await setup();
    const state = newState();
    await transactionAround(store, state, async () => {
      state.events.push(...Array.from({ length: 30 }, (_, i) => paid('big', i + 1)));
    });
    const docs = await db.collection('outbox').find({ a: 'order/big' }).sort({ s: 1 }).toArray();
    for (const d of docs) expect(d.b).toBe(Buffer.byteLength(d.e as string));
    const budget = docs.slice(0, 10).reduce((sum, d) => sum + (d.b as number), 0);
    const heads = await store.relay.begin([{ ref: { where: 'outbox', aggregate: 'order/big', since: 0 }, lease: { key: 'k', owner: 'o', fence: 1 } }], { limit: 50, maxBytes: budget });
    expect(heads[0]).toMatchObject({ quarantined: false, more: true });
    expect(heads[0]!.events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('a retry after a crash between the commit and the completion rolls back: no second state change, no second event', async () => {
    const { db, store } = await setup();
    const attempt = async () => {
      const state = newState('delivery-9');
      await transactionAround(store, state, async () => {
        await db.collection('counters').updateOne({ _id: 'd' as never }, { $inc: { n: 1 } }, { upsert: true, session: state.session as never });
        state.events.push(paid('d'));
      });
    };
    await attempt();
    await attempt();
    expect(await db.collection('counters').findOne({ _id: 'd' as never })).toMatchObject({ n: 1 });
    expect(await db.collection('outbox').countDocuments({ a: 'order/d' })).toBe(1);
  });

  it('a failing state write leaves no event; a failing event write leaves no state', async () => {
    const { db, store } = await setup();
    const s1 = newState();
    await expect(
      transactionAround(store, s1, async () => {
        s1.events.push(paid('b'));
        throw new Error('state write failed');
      }),
    ).rejects.toThrow('state write failed');
    expect(await db.collection('outbox').countDocuments({ a: 'order/b' })).toBe(0);
    const s2 = newState();
    const dup = paid('c');
    await db.collection('outbox').insertOne({ _id: dup.id as never, a: 'x', s: 99 });
    await expect(
      transactionAround(store, s2, async () => {
        await db.collection('orders').insertOne({ _id: 'c' as never }, { session: s2.session as never });
        s2.events.push(dup);
      }),
    ).rejects.toThrow();
    expect(await db.collection('orders').findOne({ _id: 'c' as never })).toBeNull();
  });

  it('withTransaction running the function again: the failed attempt\'s events never reach the commit', async () => {
    const { db, store } = await setup();
    const state = newState();
    let attempts = 0;
    await transactionAround(store, state, async () => {
      attempts++;
      state.events.push(paid('r', attempts));
      await db.collection('orders').updateOne({ _id: 'r' as never }, { $inc: { n: 1 } }, { upsert: true, session: state.session as never });
      if (attempts === 1) {
        const transient = new MongoError('transient (test)');
        transient.addErrorLabel('TransientTransactionError');
        throw transient;
      }
    });
    expect(attempts).toBe(2);
    const docs = await db.collection('outbox').find({ a: 'order/r' }).toArray();
    expect(docs.map((d) => JSON.parse(d.e).payload.n)).toEqual([2]);
    expect(await db.collection('orders').findOne({ _id: 'r' as never })).toMatchObject({ n: 1 });
  });

  it('the idempotency completion commits in the transaction: the plugin completes nothing itself; a duplicate replays', async () => {
    const { db, store } = await setup();
    const records = mongoStore({ collection: db.collection('idempotency') as never });
    await records.ensureIndexes();
    let completions = 0;
    const counted = { ...records, complete: (r: never, o: never) => (completions++, records.complete(r, o)), completeMany: (r: never[], o: never) => ((completions += r.length), records.completeMany(r, o)) };
    const leases = mongoLeaseStore({ collection: db.collection('leases') });
    const fn = handler({ use: [idempotency({ store: counted, ttlMs: 60_000 }), outbox({ events, store, relay: { sender: scriptedSender(), lease: leases } })], logSink: () => undefined }, async (_i, ctx) => {
      await db.collection('orders').updateOne({ _id: 'i' as never }, { $inc: { n: 1 } }, { upsert: true, session: ctx.outbox.session as never });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'i', payload: { n: 1 } });
      return { at: Date.now() };
    });
    const first = await fn.invoke({}, { deliveryId: 'tx-idem-1' });
    expect(completions).toBe(0);
    expect(await fn.invoke({}, { deliveryId: 'tx-idem-1' })).toEqual(first);
    expect(await db.collection('orders').findOne({ _id: 'i' as never })).toMatchObject({ n: 1 });
  });
});
