/**
 * Review finding (inbox gap retries vs the queue's redrive): with `onGap: 'retry'` an event
 * whose predecessor never arrives is handled anyway on its `maxGapRetries`-th delivery (default
 * 10). A queue whose redrive policy moves a message to its DLQ after fewer receives
 * (`maxReceiveCount` 3, a common setting) dead-letters it first: the event is never handled,
 * though the inbox was configured to take it. The inbox cannot see the redrive policy in the
 * message, so `inbox({ queue: { client, queueUrl } })` reads it (`GetQueueAttributes`, once, as
 * the sender reads `MaximumMessageSize`) and takes the event on the queue's last receive when
 * that comes first, with a warning. Real standard queues with a DLQ on moto and fauxqs.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { memoryStore } from '@steadyfn/idempotency';
import { inbox } from '@steadyfn/outbox';
import { inboxQueue } from '@steadyfn/outbox/sqs';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { deleteQueue, suffix, sqsServers } from './sqs-servers.js';
import { lambdaContext, sqsClient, sqsRecord } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A standard queue whose messages go to a DLQ after `maxReceiveCount` receives. */
async function queueWithDlq(sqs: SQSClient, maxReceiveCount: number): Promise<{ url: string; dlq: string }> {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `obx-dlq-${suffix()}` }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: `obx-main-${suffix()}`, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount }) } }))).QueueUrl!;
  cleanups.push(() => deleteQueue(sqs, url), () => deleteQueue(sqs, dlq));
  return { url, dlq };
}

describe.each(sqsServers().map((s) => s.name))('inbox gap retries against the redrive policy (%s)', (server) => {
  it('an event whose predecessor never comes is handled on the last receive before the DLQ, not dead-lettered', async () => {
    const sqs = await sqsClient(server);
    cleanups.push(async () => sqs.destroy());
    const { url, dlq } = await queueWithDlq(sqs, 3);
    // Seq 2 of an aggregate whose seq 1 is lost.
    const event = { id: uuidv7(), type: 'OrderPaid', aggregateType: 'order', aggregateId: `o-${suffix()}`, seq: 2, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1 };
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(event) }));

    const warnings: string[] = [];
    const handled: number[] = [];
    const consumer = handler(
      { use: [inbox({ store: memoryStore(), consumer: 'shipping', unseenAggregate: 'retry', queue: inboxQueue({ client: sqs, queueUrl: url }) })], logLevel: 'warn', logSink: (line) => void warnings.push(line) },
      async (_input, ctx) => {
        handled.push(ctx.inbox.event.seq);
      },
    );
    // The queue's own receives: each failed delivery becomes visible again at once.
    for (let i = 0; i < 6 && handled.length === 0; i++) {
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }))).Messages ?? [];
      for (const m of got) await consumer.aws({ Records: [sqsRecord(m.Body!, { messageId: m.MessageId!, attempt: Number(m.Attributes!.ApproximateReceiveCount) })] }, lambdaContext());
    }
    expect(handled).toEqual([2]);
    expect(((await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? []).length).toBe(0);
    expect(warnings.join('\n')).toContain('maxReceiveCount');
  }, 30_000);
});

describe('inbox({ queue }) is checked up front', () => {
  it.each([
    ['queue', 'inbox', 'not an object'],
    ['queueUrl', 'inboxQueue', { client: undefined as never, queueUrl: '' }],
  ])('a bad %s is CONFIG_INVALID naming it', async (field, owner, queue) => {
    const sqs = await sqsClient('moto');
    cleanups.push(async () => sqs.destroy());
    if (typeof queue === 'object') expectOptionRefused(() => inboxQueue({ ...queue, client: sqs }), owner, field, []);
    else expectOptionRefused(() => inbox({ store: memoryStore(), consumer: 'c', queue: queue as never }), owner, field, []);
  });

  it('an unknown key of inboxQueue() is refused with its name', () => {
    expectOptionRefused(() => inboxQueue({ queueUrl: 'https://x', client: {} as never, url: 'x' } as never), 'inboxQueue', 'url', []);
  });

  it("the 0.x plain { client, queueUrl } is refused naming inboxQueue and '@steadyfn/outbox/sqs' (the root loads no SQS SDK)", async () => {
    const sqs = await sqsClient('moto');
    cleanups.push(async () => sqs.destroy());
    expectOptionRefused(() => inbox({ store: memoryStore(), consumer: 'c', queue: { client: sqs, queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' } as never }), 'inbox', 'queue', ['inboxQueue', "'@steadyfn/outbox/sqs'"]);
  });
});
