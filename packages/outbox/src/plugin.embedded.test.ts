import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { openMongo, scriptedSender, type MongoBackend } from '../test/support.js';
import { outbox } from './plugin.js';
import { mongoEmbeddedOutbox } from './stores/mongo-embedded.js';
import { FIELDS } from './stores/mongo-shapes.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } };

describe('outbox plugin, embedded mode on FerretDB', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo.close();
  });

  const make = (sender = scriptedSender(), flush = true) => {
    const writeLease = mongo.lease;
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'orders', aggregateType: 'order', writeLease });
    const orders = outbox({ events, store, relay: { sender, lease: mongo.lease, flush, sweep: { graceMs: 0 } } });
    const pay = handler({ input: z.object({ orderId: z.string(), amountCents: z.number() }), use: [orders] }, async (input, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
      const r = await ctx.outbox.updateOne({ _id: input.orderId, status: 'validated' }, { $set: { status: 'paid' } });
      if (!r.matched) throw new Error('not validated');
      return { duplicate: r.duplicate };
    });
    return { orders, pay, sender, store };
  };

  it('writes, flushes, and removes the sent events from the document', async () => {
    const { pay, sender, store } = make();
    await store.ensureIndexes();
    await mongo.db.collection('orders').insertOne({ _id: 'o-1' as never, status: 'validated' });
    await expect(pay.invoke({ orderId: 'o-1', amountCents: 5 })).resolves.toEqual({ duplicate: false });
    expect(sender.accepted.map((m) => m.attributes!['steadyfn.seq'])).toEqual(['1']);
    const doc = await mongo.db.collection('orders').findOne({ _id: 'o-1' as never });
    expect(doc).toMatchObject({ status: 'paid', [FIELDS.events]: [], [FIELDS.count]: 0, [FIELDS.seq]: 1 });
    expect(doc![FIELDS.pendingSince]).toBeUndefined();
  });

  it('the sweeper relays events a crashed flush left', async () => {
    const { orders, pay, sender } = make(scriptedSender(), false);
    await mongo.db.collection('orders').insertOne({ _id: 'o-2' as never, status: 'validated' });
    await pay.invoke({ orderId: 'o-2', amountCents: 7 });
    expect(sender.accepted).toHaveLength(0);
    const swept = await orders.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: console as never });
    expect(swept.metrics.sent).toBe(1);
    expect(sender.accepted.map((m) => JSON.parse(m.body).aggregateId)).toEqual(['o-2']);
    expect((await orders.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: console as never })).found).toBe(0);
  });
});
