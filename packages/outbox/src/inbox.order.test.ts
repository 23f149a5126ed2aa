/**
 * The inbox on a standard queue (moto SQS with the Redis idempotency store; the FerretDB
 * store through the Lambda adapter's SQS batch): the events of one
 * aggregate that arrive in one batch run one by one in `seq` order, so they are all applied in
 * that one delivery whatever order the queue handed them out in; a gap stops only its own
 * aggregate's later events in the batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { handler, type Plugin } from '@steadyfn/handler';
import { mongoStore, redisStore } from '@steadyfn/idempotency';
import { createQueue, drainQueue, lambdaContext, openMongo, openRedis, sqsClient, sqsRecord, type MongoBackend, type RedisBackend } from '../test/support.js';
import { prepareEvent, serializeEvent } from './envelope.js';
import { inbox } from './inbox.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const envelope = (aggregateId: string, seq: number) => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents: seq } }, {}), seq);
const lambda = () => lambdaContext('ship');
type Answer = { batchItemFailures: Array<{ itemIdentifier: string }> };
describe('inbox: one aggregate in one standard-queue batch (moto SQS, Redis)', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient();
    queue = await createQueue(sqs);
  });
  afterAll(async () => {
    await queue?.remove();
    await redis?.close();
  });

  /** A consumer recording the (aggregate, seq) it applied; `plugin` lets a test take the hook away. */
  const consumer = (name: string, applied: string[], plugin: (p: ReturnType<typeof inbox>) => Plugin<any, any> = (p) => p) => {
    const store = redisStore({ client: redis.client, prefix: `${redis.prefix}idem:` });
    return handler({ use: [plugin(inbox({ store, consumer: name, unseenAggregate: 'retry' }))], logSink: () => undefined }, async (_input, ctx) => {
      const e = ctx.inbox.event;
      // Time for a side-by-side run to overlap, as a real effect (a store write) would.
      await new Promise((r) => setTimeout(r, 10));
      applied.push(`${e.aggregateId}#${e.seq}`);
    });
  };

  /** Sends `bodies` to the standard queue and receives them all back as ONE delivery (not deleted yet). */
  async function deliverTogether(bodies: string[]): Promise<Message[]> {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody })) }));
    const got: Message[] = [];
    for (let polls = 0; got.length < bodies.length && polls < 50; polls++) {
      const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 600, MessageSystemAttributeNames: ['All'] }));
      got.push(...(answer.Messages ?? []));
    }
    expect(got).toHaveLength(bodies.length);
    return got;
  }

  /** Runs the handler once on `messages` as a Lambda SQS batch, deletes what succeeded, and returns the failed bodies' seqs. */
  async function runOnce(main: ReturnType<typeof consumer>, messages: Message[]): Promise<number[]> {
    const Records = messages.map((m) => sqsRecord(m.Body!, { messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, attempt: Number(m.Attributes?.ApproximateReceiveCount ?? 1) }));
    const answer = (await main.aws({ Records }, lambda())) as Answer;
    const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: done.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
    return messages.filter((m) => failed.has(m.MessageId!)).map((m) => JSON.parse(m.Body!).seq as number).sort((a, b) => a - b);
  }

  it('three in-order events of one aggregate in one batch are all applied in that one delivery, in seq order', async () => {
    const applied: string[] = [];
    const failed = await runOnce(consumer('in-order', applied), await deliverTogether([envelope('o-1', 1), envelope('o-1', 2), envelope('o-1', 3)]));
    expect(failed).toEqual([]);
    expect(applied).toEqual(['o-1#1', 'o-1#2', 'o-1#3']);
    expect(await drainQueue(sqs, queue.url)).toEqual([]);
  });

  it('a shuffled batch too: seq order, not arrival order; other aggregates alongside are applied as well', async () => {
    const applied: string[] = [];
    const bodies = [envelope('o-2', 3), envelope('o-3', 2), envelope('o-2', 1), envelope('o-3', 1), envelope('o-2', 2)];
    const failed = await runOnce(consumer('shuffled', applied), await deliverTogether(bodies));
    expect(failed).toEqual([]);
    expect(applied.filter((a) => a.startsWith('o-2'))).toEqual(['o-2#1', 'o-2#2', 'o-2#3']);
    expect(applied.filter((a) => a.startsWith('o-3'))).toEqual(['o-3#1', 'o-3#2']);
    expect(await drainQueue(sqs, queue.url)).toEqual([]);
  });

  it('without the hook (the defect) the same batch runs side by side: every event after the first fails as a seq gap and waits for a redelivery', async () => {
    const applied: string[] = [];
    const unordered = consumer('unordered', applied, (p) => ({ ...p, batchOrder: undefined }));
    const failed = await runOnce(unordered, await deliverTogether([envelope('o-4', 1), envelope('o-4', 2), envelope('o-4', 3)]));
    expect(failed).toEqual([2, 3]);
    expect(applied).toEqual(['o-4#1']);
  });

  it('a gap fails its event and holds back only the rest of its aggregate; a duplicate in the batch is answered, not run', async () => {
    const applied: string[] = [];
    const ship = consumer('gap', applied);
    const o5 = [1, 2, 3].map((seq) => envelope('o-5', seq));
    const o6 = [1, 2].map((seq) => envelope('o-6', seq));
    // o-5 #1 is late: #2 is a gap, #3 is not run (NOT_PROCESSED); o-6 goes through, its duplicate answered.
    const first = await runOnce(ship, await deliverTogether([o5[2]!, o5[1]!, o6[0]!, o6[0]!, o6[1]!]));
    expect(first).toEqual([2, 3]);
    expect([...applied].sort()).toEqual(['o-6#1', 'o-6#2']);
    // #2 and #3 come again with #1 (and o-6 #1 once more): all applied in that delivery, o-6 #1 not again.
    const second = await runOnce(ship, await deliverTogether([o5[1]!, o5[2]!, o5[0]!, o6[0]!]));
    expect(second).toEqual([]);
    expect(applied.filter((a) => a.startsWith('o-5'))).toEqual(['o-5#1', 'o-5#2', 'o-5#3']);
    expect(applied.filter((a) => a === 'o-6#1')).toHaveLength(1);
  });
});

describe('inbox: one aggregate in one standard-queue batch (FerretDB idempotency store)', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo?.close();
  });

  it('in-order and shuffled batches are each applied in one delivery, in seq order', async () => {
    const applied: string[] = [];
    const store = mongoStore({ collection: mongo.db.collection('inbox') });
    const ship = handler({ use: [inbox({ store, consumer: 'ferret' })], logSink: () => undefined }, async (_input, ctx) => {
      await new Promise((r) => setTimeout(r, 5));
      applied.push(`${ctx.inbox.event.aggregateId}#${ctx.inbox.event.seq}`);
    });
    const batch = (bodies: string[]) => ({ Records: bodies.map((body) => sqsRecord(body)) });
    const inOrder = (await ship.aws(batch([envelope('f-1', 1), envelope('f-1', 2), envelope('f-1', 3)]), lambda())) as Answer;
    const shuffled = (await ship.aws(batch([envelope('f-2', 2), envelope('f-2', 3), envelope('f-2', 1)]), lambda())) as Answer;
    expect(inOrder.batchItemFailures).toEqual([]);
    expect(shuffled.batchItemFailures).toEqual([]);
    expect(applied).toEqual(['f-1#1', 'f-1#2', 'f-1#3', 'f-2#1', 'f-2#2', 'f-2#3']);
  });
});
