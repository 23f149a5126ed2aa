/**
 * Review finding (ef): in embedded mode the events staged for an `updateOne` were cleared only
 * when the update matched. An update that matched nothing (`matched: false`, "nothing
 * written") or threw left them staged: a later, unrelated update of the aggregate wrote them
 * (an `OrderPaid` for a payment refused), and a function that answered from `matched: false`
 * failed `OUTBOX_EVENT_INVALID`. An event added after the update that wrote the state failed
 * the invocation too, terminally, and every redelivery the same way (its update was a
 * duplicate by request key): the message went to the DLQ with its state written.
 *
 * Now an update that matches nothing or throws takes back the events it was given, as
 * `transitions()` does; and the events an aggregate's update left behind are written at the
 * invocation's end with one more update of that aggregate under its own request key, so a
 * redelivery completes it once, never twice. FerretDB, real lease store.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox } from '@steadyfn/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, openMongo, sqsRecord, type MongoBackend } from './support.js';

let mongo: MongoBackend;
beforeAll(async () => {
  mongo = await openMongo();
});
afterAll(async () => {
  await mongo?.close();
});

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

function setup() {
  const collection = `orders_${randomUUID().slice(0, 8)}`;
  const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection, aggregateType: 'order', writeLease: mongo.lease });
  const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
  return { store, docs };
}

/** The event types written into the document, in seq order. */
async function writtenTypes(docs: ReturnType<typeof setup>['docs'], id: string): Promise<string[]> {
  const doc = await docs.findOne({ _id: id });
  return ((doc?._outbox as Array<{ t: string }> | undefined) ?? []).map((e) => e.t);
}

describe('embedded mode: events of an update that did not write', () => {
  it('D1: an update that matched nothing takes its events back; a later update of the aggregate does not write them', async () => {
    const { store, docs } = setup();
    await docs.insertOne({ _id: 'o-1', status: 'cancelled' });
    const pay = handler({ input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: () => undefined }, async ({ orderId }, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: {} });
      const result = await ctx.outbox.updateOne({ _id: orderId, status: 'validated' }, { $set: { status: 'paid' } });
      const staged = ctx.outbox.staged.length;
      if (!result.matched) await ctx.outbox.updateOne({ _id: orderId }, { $inc: { refusedPayments: 1 } });
      return { paid: result.matched, staged };
    });
    const answer = await pay.invoke({ orderId: 'o-1' }, { deliveryId: randomUUID() });
    expect(await docs.findOne({ _id: 'o-1' })).toMatchObject({ status: 'cancelled', refusedPayments: 1 });
    expect(await writtenTypes(docs, 'o-1')).toEqual([]);
    expect(answer).toEqual({ paid: false, staged: 0 });
  });

  it('D1: an update the server refuses (it throws) takes its events back too', async () => {
    const { store, docs } = setup();
    await docs.insertOne({ _id: 'o-2', status: 'cancelled' });
    const pay = handler({ input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: () => undefined }, async ({ orderId }, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: {} });
      // $inc of a string field: the server refuses the update.
      const refused = await ctx.outbox.updateOne({ _id: orderId }, { $inc: { status: 1 } }).then(
        () => false,
        () => true,
      );
      await ctx.outbox.updateOne({ _id: orderId }, { $inc: { refusedPayments: 1 } });
      return { refused };
    });
    await expect(pay.invoke({ orderId: 'o-2' }, { deliveryId: randomUUID() })).resolves.toEqual({ refused: true });
    expect(await docs.findOne({ _id: 'o-2' })).toMatchObject({ status: 'cancelled', refusedPayments: 1 });
    expect(await writtenTypes(docs, 'o-2')).toEqual([]);
  });

  it('D2: a function that answers from matched: false answers normally', async () => {
    const { store, docs } = setup();
    await docs.insertOne({ _id: 'o-3', status: 'paid' });
    const pay = handler({ input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: () => undefined }, async ({ orderId }, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: {} });
      const result = await ctx.outbox.updateOne({ _id: orderId, status: 'validated' }, { $set: { status: 'paid' } });
      return result.matched ? { paid: true } : { alreadyPaid: true };
    });
    await expect(pay.invoke({ orderId: 'o-3' }, { deliveryId: randomUUID() })).resolves.toEqual({ alreadyPaid: true });
    expect(await writtenTypes(docs, 'o-3')).toEqual([]);
  });

  it('D3: an event added after the update that wrote the state is written once, and a redelivery writes nothing twice', async () => {
    const { store, docs } = setup();
    const pay = handler({ name: 'pay', input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: () => undefined }, async ({ orderId }, ctx) => {
      await ctx.outbox.updateOne({ _id: orderId }, { $set: { status: 'paid' } }, { upsert: true });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: {} });
    });
    const messageId = randomUUID();
    const body = JSON.stringify({ orderId: 'o-4' });
    expect(await pay.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext('pay'))).toEqual({ batchItemFailures: [] });
    expect(await docs.findOne({ _id: 'o-4' })).toMatchObject({ status: 'paid' });
    expect(await writtenTypes(docs, 'o-4')).toEqual(['OrderPaid']);
    // The same message again (a redelivery): every update a duplicate, nothing written twice.
    expect(await pay.aws({ Records: [sqsRecord(body, { messageId, attempt: 2 })] }, lambdaContext('pay'))).toEqual({ batchItemFailures: [] });
    expect(await writtenTypes(docs, 'o-4')).toEqual(['OrderPaid']);
  });

  it('D3: a delivery that failed after the state write is completed by the redelivery, exactly once', async () => {
    const { store, docs } = setup();
    let attempt = 0;
    const pay = handler({ name: 'pay', input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: () => undefined }, async ({ orderId }, ctx) => {
      attempt++;
      await ctx.outbox.updateOne({ _id: orderId }, { $set: { status: 'paid' } }, { upsert: true });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: orderId, payload: {} });
      // The first attempt fails after its state write (a crash would do the same): its event was never written.
      if (attempt === 1) throw new Error('lost after the state write');
    });
    const messageId = randomUUID();
    const body = JSON.stringify({ orderId: 'o-5' });
    const failed = (await pay.aws({ Records: [sqsRecord(body, { messageId })] }, lambdaContext('pay'))) as { batchItemFailures: unknown[] };
    expect(failed.batchItemFailures).toHaveLength(1);
    expect(await writtenTypes(docs, 'o-5')).toEqual([]);
    for (const receive of [2, 3]) {
      expect(await pay.aws({ Records: [sqsRecord(body, { messageId, attempt: receive })] }, lambdaContext('pay'))).toEqual({ batchItemFailures: [] });
      expect(await writtenTypes(docs, 'o-5')).toEqual(['OrderPaid']);
    }
  });

  it('an event of an aggregate no update of the invocation wrote still fails the invocation', async () => {
    const { store, docs } = setup();
    const lines: string[] = [];
    const pay = handler({ input: z.object({ orderId: z.string() }), use: [outbox({ events, store })], logSink: (line) => void lines.push(line) }, async ({ orderId }, ctx) => {
      await ctx.outbox.updateOne({ _id: orderId }, { $set: { status: 'paid' } }, { upsert: true });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-other', payload: {} });
    });
    await expect(pay.invoke({ orderId: 'o-6' }, { deliveryId: randomUUID() })).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'events' }] });
    expect(await writtenTypes(docs, 'o-6')).toEqual([]);
    expect(await docs.findOne({ _id: 'o-other' })).toBeNull();
  });
});
