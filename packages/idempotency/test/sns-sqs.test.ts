/**
 * `key: 'auto'` on SQS messages an SNS topic delivered without raw message delivery: the
 * handler unwraps the envelope and the SNS message id is the delivery id, so one notification
 * fanned out to two queues the same function reads (or delivered twice to one queue) runs once;
 * standard and FIFO topics alike. Two copies in one batch: the second meets the first running
 * (a batch item failure, as for any twin in a batch) and replays when SQS redelivers it. A malformed envelope among good messages fails alone
 * (`batchItemFailures`) and takes no record. Published-shape events through the Lambda adapter,
 * on each real store.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { BACKENDS, lambdaContext, silentSink, useBackend } from './support.js';

type SqsEvent = { Records: Array<Record<string, any>> };
const fixture = (file: string): SqsEvent => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/aws/published/${file}`, import.meta.url), 'utf8'));

/** Record `index` of `file` with a fresh SNS message id (so runs on a shared store never meet), as SQS message `messageId` of `queue`. */
function copy(file: string, index: number, snsId: string, messageId: string, queue: string): Record<string, any> {
  const record = structuredClone(fixture(file).Records[index]!);
  const envelope = JSON.parse(record.body as string) as Record<string, unknown>;
  envelope.MessageId = snsId;
  record.body = JSON.stringify(envelope);
  record.messageId = messageId;
  record.eventSourceARN = `arn:aws:sqs:eu-west-1:210987654321:${queue}`;
  return record;
}

describe.each(BACKENDS)('SNS → SQS with key auto, on %s', (name) => {
  const backend = useBackend(name);

  const make = () => {
    const ran: Array<{ input: unknown; deliveryId: string | undefined }> = [];
    const main = handler({ name: `sns-sqs-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, (input, ctx) => {
      ran.push({ input, deliveryId: ctx.deliveryId });
      return { ok: true };
    });
    return { main, ran };
  };

  it.each([
    ['standard topic', 'sqs-sns-envelope.json', 'orders-from-topic', 'orders-audit'],
    ['FIFO topic', 'sqs-sns-envelope-fifo.json', 'orders-from-topic.fifo', 'orders-audit.fifo'],
  ])('%s: one notification in two queues and again in the first runs once, with the Message as input', async (_label, file, queueA, queueB) => {
    const { main, ran } = make();
    const snsId = randomUUID();
    // One event source mapping per queue: each queue's copy comes in its own batch.
    for (const queue of [queueA, queueB, queueA]) {
      expect(await main.aws({ Records: [copy(file, 0, snsId, randomUUID(), queue)] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    }
    expect(ran).toHaveLength(1);
    expect(ran[0]!.deliveryId).toBe(snsId);
    expect(ran[0]!.input).toMatchObject({ orderId: expect.stringMatching(/^o-/) });
  });

  it('SNS delivering one notification twice into one batch: the second copy meets the first running (a batch item failure), and its redelivery replays', async () => {
    const { main, ran } = make();
    const snsId = randomUUID();
    const twin = copy('sqs-sns-envelope.json', 0, snsId, randomUUID(), 'orders-from-topic');
    const event = { Records: [copy('sqs-sns-envelope.json', 0, snsId, randomUUID(), 'orders-from-topic'), twin] };
    expect(await main.aws(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: twin.messageId }] });
    expect(await main.aws({ Records: [twin] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran).toHaveLength(1);
  });

  it('a malformed envelope (bad TopicArn) among good ones fails alone and takes no record; the good ones run once', async () => {
    const { main, ran } = make();
    const good = [randomUUID(), randomUUID()];
    const bad = copy('sqs-sns-envelope.json', 0, randomUUID(), randomUUID(), 'orders-from-topic');
    const envelope = JSON.parse(bad.body as string) as Record<string, unknown>;
    envelope.TopicArn = 'arn:aws:sns:eu-west-1:210987654321:orders topic';
    bad.body = JSON.stringify(envelope);
    const records = [copy('sqs-sns-envelope.json', 0, good[0]!, randomUUID(), 'orders-from-topic'), bad, copy('sqs-sns-envelope.json', 1, good[1]!, randomUUID(), 'orders-from-topic')];
    expect(await main.aws({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    expect(ran.map((r) => r.deliveryId)).toEqual(good);
    // SQS redelivers the batch's failed message (still malformed) and, say, a good one again.
    expect(await main.aws({ Records: [bad, records[0]] }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    expect(ran).toHaveLength(2);
  });
});
