/**
 * Known defect: `inbox({ queue })` read the queue's `RedrivePolicy` once and cached it for the
 * life of the warm instance. A policy changed after that first read was never seen:
 * - `maxReceiveCount` raised (or the DLQ removed): the inbox still accepted a gap on the old
 *   last receive, handling the event out of order while the queue would have delivered it again;
 * - a DLQ added (or `maxReceiveCount` lowered): the inbox went on retrying past the queue's new
 *   last receive, and SQS dead-lettered the event unhandled.
 * Now the value is read again when it is older than 60 s (`RECEIVE_LIMIT_MAX_AGE_MS`, SQS's own
 * propagation window), and before a gap is accepted on it (the failure a stale value causes there).
 *
 * Real standard queues on moto and fauxqs (both take SetQueueAttributes with a RedrivePolicy, read
 * back here); each delivery is handed to the consumer with the receive count it stands for. The
 * age is crossed on a fake `performance` clock (nothing else faked: the SDK's calls run as usual).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { memoryStore } from '@steadyfn/idempotency';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { inbox } from '../src/index.js';
import { inboxQueue } from '../src/sqs.js';
import { RECEIVE_LIMIT_MAX_AGE_MS } from '../src/inbox-redrive.js';
import { deleteQueue, suffix, sqsServers } from './sqs-servers.js';
import { lambdaContext, sqsClient, sqsRecord } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
afterEach(() => void vi.useRealTimers());

describe.each(sqsServers().map((s) => s.name))('inbox gap retries when the queue\'s redrive policy changes on a warm instance (%s)', (server) => {
  let sqs: SQSClient;
  let reads = 0;
  /** Set: the client's RedrivePolicy reads fail (access denied, say) before reaching the server. */
  let denied = false;

  const setup = async (): Promise<{ url: string; setPolicy: (maxReceiveCount: number | undefined) => Promise<void> }> => {
    sqs = await sqsClient(server);
    reads = 0;
    denied = false;
    cleanups.push(async () => sqs.destroy());
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand' && (args.input as { AttributeNames?: string[] }).AttributeNames?.includes('RedrivePolicy')) {
          reads++;
          if (denied) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `obx-gapdlq-${suffix()}` }))).QueueUrl!;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `obx-gapmain-${suffix()}` }))).QueueUrl!;
    cleanups.push(() => deleteQueue(sqs, url), () => deleteQueue(sqs, dlq));
    const setPolicy = async (maxReceiveCount: number | undefined): Promise<void> => {
      const policy = maxReceiveCount === undefined ? '' : JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount });
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: policy } }));
      // The server took it (read back, not counted): what follows is about the inbox's copy.
      const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }));
      reads--;
      const count = read.Attributes?.RedrivePolicy ? Number((JSON.parse(read.Attributes.RedrivePolicy) as { maxReceiveCount: unknown }).maxReceiveCount) : undefined;
      expect(count).toBe(maxReceiveCount);
    };
    return { url, setPolicy };
  };

  /** A consumer of `url` (maxGapRetries 10) and a way to deliver seq 2 of an aggregate whose seq 1 never comes, as receive `attempt`. */
  const consumerOf = (url: string, lines: string[] = []) => {
    const handled: number[] = [];
    const consumer = handler({ use: [inbox({ store: memoryStore(), consumer: 'shipping', unseenAggregate: 'retry', queue: inboxQueue({ client: sqs, queueUrl: url }) })], logLevel: 'warn', logSink: (line) => void lines.push(line) }, async (_input, ctx) => {
      handled.push(ctx.trigger.kind === 'queue' ? (ctx.trigger.attempt ?? 1) : 0);
    });
    const event = { id: uuidv7(), type: 'OrderPaid', aggregateType: 'order', aggregateId: `o-${suffix()}`, seq: 2, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1 };
    const deliver = async (attempt: number): Promise<void> => {
      await consumer.aws({ Records: [sqsRecord(JSON.stringify(event), { messageId: `m-${event.id}`, attempt })] }, lambdaContext());
    };
    return { handled, deliver };
  };

  it.each([
    ['raised to 6', 6, [6]],
    ['removed (no DLQ any more)', undefined, [10]],
  ] as const)('maxReceiveCount 3 %s after the first read: the gap is not accepted on receive 3 but on the new last receive', async (_what, next, acceptedOn) => {
    const { url, setPolicy } = await setup();
    await setPolicy(3);
    const { handled, deliver } = consumerOf(url);
    await deliver(1);
    expect(reads, 'the first gap reads the policy').toBe(1);
    await setPolicy(next);
    for (let attempt = 3; attempt <= 10 && handled.length === 0; attempt++) await deliver(attempt);
    expect(handled, 'accepted on the queue\'s last receive as it is now').toEqual(acceptedOn);
  });

  it('a DLQ added after the first read (none before): a gap after RECEIVE_LIMIT_MAX_AGE_MS reads it again and is accepted on its last receive', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { url, setPolicy } = await setup();
    const { handled, deliver } = consumerOf(url);
    await deliver(1);
    expect(reads).toBe(1);
    await setPolicy(2);
    // Within the age the policy read is used as it is: no call per gap.
    await deliver(1);
    expect(reads).toBe(1);
    vi.advanceTimersByTime(RECEIVE_LIMIT_MAX_AGE_MS + 1_000);
    await deliver(2);
    expect(handled, 'taken on receive 2, the last before the DLQ').toEqual([2]);
    expect(reads).toBe(2);
  });

  it('a re-read that fails keeps the last policy read (warned), and the gap is accepted on its last receive', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { url, setPolicy } = await setup();
    await setPolicy(3);
    const lines: string[] = [];
    const { handled, deliver } = consumerOf(url, lines);
    await deliver(1);
    denied = true;
    vi.advanceTimersByTime(RECEIVE_LIMIT_MAX_AGE_MS + 1_000);
    await deliver(2);
    expect(handled).toEqual([]);
    await deliver(3);
    expect(handled).toEqual([3]);
    expect(lines.join('\n')).toContain("inbox could not read the queue's RedrivePolicy; the last one read applies");
  });
});
