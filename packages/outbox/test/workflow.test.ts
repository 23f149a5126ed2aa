/**
 * A three-step workflow end to end through the handler on the local services: an HTTP
 * function validates an order (FerretDB, embedded outbox) → OrderValidated on SQS (moto) →
 * `pay` moves it validated → paid → OrderPaid → `dispatch` moves it paid → dispatched.
 * Each step is an inbox consumer (Redis idempotency store) driven like an SQS event source
 * mapping, and a crash is injected in each step:
 *   validate   the process dies after the commit, before the flush (the sweeper sends it)
 *   pay        the process dies after the atomic write (state + event + applied key), before
 *              the inbox completion: the invocation fails, SQS redelivers, the write is a duplicate
 *   dispatch   the function fails once before writing (the queue redelivers)
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ReceiveMessageCommand, DeleteMessageCommand, ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { sqsSender } from '../src/sqs.js';
import { createQueue, openMongo, openRedis, sqsClient, type MongoBackend, type RedisBackend } from './support.js';
import { inbox, mongoEmbeddedOutbox, outbox, transitions, type Sender } from '../src/index.js';

const events = {
  OrderValidated: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) },
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) },
  OrderDispatched: { aggregateType: 'order', schema: z.object({ carrier: z.string() }) },
};
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;

describe('workflow validated → paid → dispatched, a crash in each step', () => {
  let mongo: MongoBackend;
  let redis: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    mongo = await openMongo();
    redis = await openRedis('redis');
    sqs = await sqsClient();
    queue = await createQueue(sqs);
  });
  afterAll(async () => {
    await queue?.remove();
    await redis?.close();
    await mongo?.close();
  });

  it('ends with every order dispatched once, each step applied exactly once', async () => {
    const writeLease = mongo.lease;
    const relayLease = mongo.lease;
    const store = () => mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'orders', aggregateType: 'order', writeLease });
    const real = sqsSender({ client: sqs, queueUrl: queue.url });
    let crashFlush = true;
    const dyingOnce: Sender = { fifo: false, send: async (m, o) => { if (crashFlush) { crashFlush = false; throw new Error('process killed before the flush'); } return real.send(m, o); } };
    const orders = (sender: Sender) => outbox({ events, store: store(), relay: { sender, lease: relayLease, sweep: { graceMs: 0 } } });
    const flow = transitions({ table, store: store() });
    const effects = { paid: 0, dispatched: 0 };

    const validateOutbox = orders(dyingOnce);
    const validate = handler({ input: z.object({ orderId: z.string(), amountCents: z.number() }), use: [validateOutbox] }, async (input, ctx) => {
      ctx.outbox.add({ type: 'OrderValidated', aggregateId: input.orderId, payload: { amountCents: input.amountCents } });
      await ctx.outbox.updateOne({ _id: input.orderId }, { $set: { status: 'validated', amountCents: input.amountCents } }, { upsert: true });
      return { accepted: input.orderId };
    });

    const idem = redisStore({ client: redis.client, prefix: `${redis.prefix}idem:` });
    let crashCompletion = true;
    const pay = handler({ use: [inbox({ store: idem, consumer: 'pay' }), orders(real), flow] }, async (_input, ctx) => {
      const e = ctx.inbox.event;
      if (e.type !== 'OrderValidated') return;
      const r = await ctx.transition(e.aggregateId, 'validated', 'paid', { type: 'OrderPaid', aggregateId: e.aggregateId, payload: e.payload as { amountCents: number } });
      if (!r.duplicate) effects.paid++;
      if (crashCompletion) {
        crashCompletion = false;
        throw new Error('process killed after the write, before the inbox completion');
      }
    });
    let failDispatch = true;
    const dispatch = handler({ use: [inbox({ store: idem, consumer: 'dispatch' }), orders(real), flow] }, async (_input, ctx) => {
      const e = ctx.inbox.event;
      if (e.type !== 'OrderPaid') return;
      if (failDispatch) {
        failDispatch = false;
        throw new Error('carrier API timed out');
      }
      const r = await ctx.transition(e.aggregateId, 'paid', 'dispatched', { type: 'OrderDispatched', aggregateId: e.aggregateId, payload: { carrier: 'ups' } });
      if (!r.duplicate) effects.dispatched++;
    });

    const ids = ['w-1', 'w-2', 'w-3'];
    for (const id of ids) await validate.invoke({ orderId: id, amountCents: 100 });
    // The first validation's flush died; the sweeper (a schedule) sends what is pending.
    const ctx = { signal: new AbortController().signal, remainingMs: () => 60_000, log: console as never };
    await validateOutbox.sweep(ctx);

    // The event source mapping: each message goes to both step functions (each ignores other types);
    // a failed one becomes visible again. Bounded rounds.
    const seenTypes: string[] = [];
    for (let round = 0; round < 60; round++) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }));
      if (Messages.length === 0) {
        if ((await mongo.db.collection('orders').countDocuments({ status: 'dispatched' })) === ids.length) break;
        await new Promise((r) => setTimeout(r, 350));
        await validateOutbox.sweep(ctx);
        continue;
      }
      for (const m of Messages) {
        const record = { messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:1:orders', awsRegion: 'us-east-1' };
        const lambda = { awsRequestId: randomUUID(), functionName: 'step', getRemainingTimeInMillis: () => 30_000 };
        const results = (await Promise.all([pay.aws({ Records: [record] }, lambda), dispatch.aws({ Records: [record] }, lambda)])) as Array<{ batchItemFailures: unknown[] }>;
        seenTypes.push(JSON.parse(m.Body!).type);
        if (results.every((r) => r.batchItemFailures.length === 0)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle! }));
        else await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
      }
    }
    const docs = await mongo.db.collection('orders').find({}).toArray();
    expect(docs.map((d) => d.status).sort()).toEqual(['dispatched', 'dispatched', 'dispatched']);
    expect(effects).toEqual({ paid: 3, dispatched: 3 });
    expect(docs.every((d) => d._outboxSeq === 3 && d._outboxCount === 0)).toBe(true);
    expect(crashFlush || crashCompletion || failDispatch).toBe(false);
    expect(seenTypes).toContain('OrderDispatched');
  });
});
