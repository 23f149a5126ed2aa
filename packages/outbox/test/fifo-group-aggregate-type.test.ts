/**
 * The FIFO `MessageGroupId` is the aggregate's identity the outbox orders by —
 * `aggregateType/aggregateId` (`aggregateKey`) — not the bare aggregate id. Before, an `order`
 * and a `payment` that shared the id `a-1` were one message group: ordered apart in the store,
 * coupled on the queue (a payment event waited for every order event in flight, and a failed
 * order event held the payments back). Proven on real FIFO queues (moto, fauxqs, ElasticMQ)
 * through the relay of a Redis outbox and `sqsSender`: each aggregate its own group, the group
 * the `steadyfn.aggregate` attribute a consumer reads (hashed when SQS would refuse it), and one
 * aggregate's message in flight does not hold the other's back.
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aggregateKey, outbox, redisOutbox } from '../src/index.js';
import { sqsSender } from '../src/sqs.js';
import { messageGroupId } from '../src/sqs/ids.js';
import { ATTRIBUTES } from '../src/relay/message.js';
import { createQueue, openRedis, sqsClient, type RedisBackend } from './support.js';
import { receiveAll, sqsServers } from './sqs-servers.js';

const events = {
  OrderPlaced: { aggregateType: 'order', schema: z.object({ n: z.number().int() }) },
  PaymentTaken: { aggregateType: 'payment', schema: z.object({ n: z.number().int() }) },
};
/** An id that makes `aggregateType/aggregateId` longer than SQS's 128 characters: hashed. */
const LONG_ID = `a-${'x'.repeat(130)}`;

describe.each(sqsServers({ elasticmq: true }))('FIFO MessageGroupId = aggregateType/aggregateId ($name)', ({ name }) => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    [redis, sqs] = await Promise.all([openRedis('redis'), sqsClient(name)]);
  });
  afterAll(async () => {
    for (const c of cleanups) await c().catch(() => undefined);
    await redis?.close();
    sqs?.destroy();
  });

  /** A Redis outbox relaying to a fresh FIFO queue, and a function recording one event per call. */
  const setup = async (tag: string) => {
    const queue = await createQueue(sqs, { fifo: true });
    cleanups.push(queue.remove);
    const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}${tag}:` });
    const box = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease, sweep: { graceMs: 0 } } });
    const record = handler({ input: z.object({ type: z.enum(['OrderPlaced', 'PaymentTaken']), id: z.string(), n: z.number().int() }), use: [box] }, async ({ type, id, n }, ctx) => {
      ctx.outbox.add({ type, aggregateId: id, payload: { n } });
      return { ok: true };
    });
    return { url: queue.url, record };
  };

  it('aggregates of two types sharing an id are two groups, each the aggregate a consumer reads', async () => {
    const { url, record } = await setup('groups');
    for (const [type, id, n] of [['OrderPlaced', 'a-1', 1], ['PaymentTaken', 'a-1', 2], ['OrderPlaced', 'a-1', 3], ['PaymentTaken', 'a-1', 4], ['OrderPlaced', LONG_ID, 5]] as const) {
      await record.invoke({ type, id, n });
    }
    const got = await receiveAll(sqs, url, 5, 15_000);
    expect(got).toHaveLength(5);
    const groupOf = (m: Message) => m.Attributes!.MessageGroupId!;
    const aggregateOf = (m: Message) => m.MessageAttributes![ATTRIBUTES.aggregate]!.StringValue!;
    for (const m of got) expect(groupOf(m)).toBe(messageGroupId(aggregateOf(m)));
    const byGroup = (group: string) => got.filter((m) => groupOf(m) === group).map((m) => (JSON.parse(m.Body!) as { payload: { n: number } }).payload.n);
    expect(byGroup('order/a-1')).toEqual([1, 3]);
    expect(byGroup('payment/a-1')).toEqual([2, 4]);
    // Too long for SQS as is: hashed from the whole aggregate identity, type included.
    expect(byGroup(messageGroupId(aggregateKey('order', LONG_ID)))).toEqual([5]);
    expect(messageGroupId(aggregateKey('order', LONG_ID))).toMatch(/^sha256:/);
  });

  it("one aggregate's message in flight does not hold back the other type's aggregate of the same id", async () => {
    const { url, record } = await setup('coupling');
    await record.invoke({ type: 'OrderPlaced', id: 'a-2', n: 1 });
    await record.invoke({ type: 'PaymentTaken', id: 'a-2', n: 2 });
    const receive = async (max: number): Promise<Message[]> =>
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, VisibilityTimeout: 600, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }))).Messages ?? [];
    const aggregates = (ms: Message[]) => ms.map((m) => m.MessageAttributes![ATTRIBUTES.aggregate]!.StringValue);
    // The order event is received and not deleted: its group is blocked while it is in flight.
    const first = await receive(1);
    expect(aggregates(first)).toEqual(['order/a-2']);
    // The payment aggregate is another group: it is handed out all the same (one group, as
    // before, handed out nothing until the order event was deleted or its visibility ran out).
    let second: Message[] = [];
    for (let i = 0; i < 20 && second.length === 0; i++) {
      second = await receive(10);
      if (second.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(aggregates(second)).toEqual(['payment/a-2']);
    expect(second.map((m) => m.Attributes!.MessageGroupId)).toEqual(['payment/a-2']);
  });
});
