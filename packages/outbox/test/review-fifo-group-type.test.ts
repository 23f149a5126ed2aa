/**
 * Review finding (FIFO group by aggregate type): the relay made the FIFO `MessageGroupId` from
 * the aggregate id alone, so `order/42` and `invoice/42` — two aggregates — shared one message
 * group: an `OrderPaid` in flight (or failing and retried by the consumer) held the invoice's
 * events behind it. The group is now `aggregateType/aggregateId` (hashed as before when it is
 * not a valid group id). Real FIFO queues on moto and fauxqs, Redis outbox.
 *
 * Across the deploy: an event the old relay already sent keeps its old group (`42`), the next
 * one of the same aggregate goes to the new group (`order/42`), so FIFO no longer orders the
 * two. The inbox's seq gap check does: checked here with the later event received first.
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { inbox, outbox, redisOutbox, sqsSender } from '@steadyfn/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sqsServers } from './sqs-servers.js';
import { createQueue, lambdaContext, openRedis, runId, scriptedSender, sqsClient, sqsRecord, type RedisBackend } from './support.js';

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({ n: z.number().int() }) },
  InvoiceIssued: { aggregateType: 'invoice', schema: z.object({ n: z.number().int() }) },
};
const quiet = () => undefined;
let redis: RedisBackend;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await openRedis('redis');
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await redis?.close();
});

/** Receives up to `max` messages, leaving them in flight (not deleted). */
async function receive(sqs: SQSClient, url: string, max: number): Promise<Message[]> {
  for (let i = 0; i < 20; i++) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, WaitTimeSeconds: 0, VisibilityTimeout: 600, MessageSystemAttributeNames: ['All'] }));
    if ((got.Messages ?? []).length > 0) return got.Messages!;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

describe.each(sqsServers().map((s) => s.name))('FIFO MessageGroupId names the aggregate type (%s)', (server) => {
  it('order 42 and invoice 42 are two groups: one in flight does not hold the other', async () => {
    const sqs = await sqsClient(server);
    const q = await createQueue(sqs, { fifo: true });
    cleanups.push(q.remove, async () => sqs.destroy());
    const id = `42-${runId()}`;
    const box = outbox({ events, store: redisOutbox({ client: redis.client, prefix: redis.prefix }), relay: { sender: sqsSender({ client: sqs, queueUrl: q.url }), lease: redis.lease } });
    const write = handler({ use: [box], logSink: quiet }, async (_input, ctx) => {
      ctx.outbox.call('SET', `${redis.prefix}state:{${id}}`, 'v');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: { n: 1 } });
      ctx.outbox.add({ type: 'InvoiceIssued', aggregateId: id, payload: { n: 1 } });
    });
    await write.invoke({});

    const first = await receive(sqs, q.url, 1);
    expect(first).toHaveLength(1);
    // The first message stays in flight: the other aggregate's must still be handed out.
    const second = await receive(sqs, q.url, 1);
    expect(second).toHaveLength(1);
    const groups = [...first, ...second].map((m) => m.Attributes!.MessageGroupId).sort();
    expect(groups).toEqual([`invoice/${id}`, `order/${id}`]);
  });

  it('across the deploy the inbox keeps order: the new-group event received first waits for the old-group one', async () => {
    const sqs = await sqsClient(server);
    const q = await createQueue(sqs, { fifo: true });
    cleanups.push(q.remove, async () => sqs.destroy());
    const id = `o-${runId()}`;
    // Two events of one aggregate, captured as the relay hands them to its sender.
    const capture = scriptedSender(() => 'sent', true);
    const box = outbox({ events, store: redisOutbox({ client: redis.client, prefix: redis.prefix }), relay: { sender: capture, lease: redis.lease } });
    const write = handler({ use: [box], logSink: quiet }, async (_input, ctx) => {
      ctx.outbox.call('SET', `${redis.prefix}state:{${id}}`, 'v');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: { n: 1 } });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: { n: 2 } });
    });
    await write.invoke({});
    const [one, two] = capture.accepted;
    expect(two!.groupKey).toBe(`order/${id}`);
    const sender = sqsSender({ client: sqs, queueUrl: q.url });
    // Seq 1 sent by the old relay (group = the aggregate id), seq 2 by the new one.
    expect((await sender.send([{ ...one!, groupKey: id }])).sent).toHaveLength(1);
    expect((await sender.send([two!])).sent).toHaveLength(1);

    const applied: number[] = [];
    const consumer = handler({ use: [inbox({ store: redisStore({ client: redis.client, prefix: `${redis.prefix}inbox:` }), consumer: `c-${runId()}` })], logSink: quiet }, async (_input, ctx) => {
      applied.push(ctx.inbox.event.seq);
    });
    const run = async (m: Message, attempt: number) =>
      (await consumer.aws({ Records: [sqsRecord(m.Body!, { messageId: m.MessageId!, attempt, fifo: true })] }, lambdaContext())) as { batchItemFailures: unknown[] };

    // Both groups hand out their head at once: FIFO no longer orders seq 1 before seq 2.
    const both = await receive(sqs, q.url, 10);
    const more = both.length < 2 ? await receive(sqs, q.url, 10) : [];
    const messages = [...both, ...more];
    expect(messages.map((m) => m.Attributes!.MessageGroupId).sort()).toEqual([id, `order/${id}`].sort());
    const seqOf = (m: Message) => (JSON.parse(m.Body!) as { seq: number }).seq;
    const newer = messages.find((m) => seqOf(m) === 2)!;
    const older = messages.find((m) => seqOf(m) === 1)!;
    // The consumer meets seq 2 first: the gap check sends it back; seq 1, then seq 2 again.
    expect((await run(newer, 1)).batchItemFailures).toHaveLength(1);
    expect((await run(older, 1)).batchItemFailures).toEqual([]);
    expect((await run(newer, 2)).batchItemFailures).toEqual([]);
    expect(applied).toEqual([1, 2]);
  });
});
