/**
 * s55-fxk (review rvm2): the outbox's default request key was `delivery:[fn, deliveryId]`, with
 * no time. A Service Bus delivery id is a sequence number (`<namespace>/<queue>#<n>`), which
 * starts over when the queue is recreated and, after a geo-DR failover, counts in another
 * namespace (as Kafka offsets and Event Hubs sequence numbers do): a NEW message at a seen
 * number was answered as a duplicate of the old one — its write and event lost. The key now
 * holds the message's time for such a position (the idempotency plugin's `positionKey`), while
 * a redelivery (same enqueue time) is still a duplicate. Through `fn.azure(body, context)` as
 * the Functions host calls it; FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();
process.env.S55_FXK_SB = 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=not-a-real-key=';
afterAll(() => {
  delete process.env.S55_FXK_SB;
});

const events = { Counted: { aggregateType: 'counter', schema: z.object({}) } };

/** A Service Bus message at sequence number 1 of queue `orders`, as the host hands it over. */
function context(messageId: string, enqueuedTimeUtc: string) {
  return {
    invocationId: randomUUID(),
    functionName: 'count',
    options: { trigger: { type: 'serviceBusTrigger', name: 'message', direction: 'in', queueName: 'orders', connection: 'S55_FXK_SB' } },
    triggerMetadata: { sequenceNumber: 1, messageId, enqueuedTimeUtc, deliveryCount: 1 },
    log: () => undefined,
    error: () => undefined,
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
  };
}

describe('embedded mode, the default request key of a reused Service Bus sequence number', () => {
  it('a new message at a seen sequence number is written; the same message redelivered is a duplicate', async () => {
    const collection = `counters_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'counter', writeLease: mongo.lease });
    const docs = mongo.db.collection<{ _id: string; n?: number }>(collection);
    await docs.insertOne({ _id: 'c-1', n: 0 });
    const seen: Array<string | undefined> = [];
    const fn = handler({ body: 'json', use: [outbox({ events, store })], logSink: () => undefined }, async (input: unknown, ctx) => {
      seen.push(ctx.deliveryId);
      ctx.outbox.add({ type: 'Counted', aggregateId: 'c-1', payload: {} });
      return (await ctx.outbox.updateOne({ _id: 'c-1' }, { $inc: { n: (input as { add: number }).add } })).duplicate;
    });
    await expect(fn.azure({ add: 1 }, context('m-1', '2026-12-01T10:00:00.000Z') as never)).resolves.toBe(false);
    await expect(fn.azure({ add: 1 }, context('m-1', '2026-12-01T10:00:00.000Z') as never)).resolves.toBe(true); // redelivery
    await expect(fn.azure({ add: 5 }, context('m-2', '2026-12-02T08:00:00.000Z') as never)).resolves.toBe(false); // queue recreated: sequence 1 again
    expect(seen).toEqual(Array(3).fill('contoso.servicebus.windows.net/orders#1'));
    expect((await docs.findOne({ _id: 'c-1' }))?.n).toBe(6);
  });
});
