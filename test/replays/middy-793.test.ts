/**
 * middyjs/middy#793 ("`event-normalizer` should parse SNS-SQS messages")
 * https://github.com/middyjs/middy/issues/793
 *
 * The reported fan-out: events published to an SNS FIFO topic, one SQS FIFO queue per consumer
 * Lambda. Each SQS body is the SNS notification as JSON text, its `Message` JSON text again;
 * middy's normalizer unwrapped only the SQS layer, so every consumer dug the event out of
 * `body.Message` by hand — and keyed, retried and ordered on the SQS layer's ids.
 *
 * steadyfn unwraps the notification: the function gets the published object, `ctx.trigger.sns`
 * names the topic, the SNS message id and its FIFO sequence number, while the queue's FIFO
 * semantics (stop at the first failure) and the batch answer stay the SQS message's. Replayed on
 * Redis with idempotency: a FIFO batch of two notifications of one group whose first fails
 * once — both reported, the second not run —, the redelivery running both in order, and the
 * copy of a notification that the topic fanned out to a second queue of the same function
 * replaying (keyed by the SNS message id) instead of running again.
 */
import { randomUUID } from 'node:crypto';
import { handler, RetryableError, type Context } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openBackend, type Backend } from '../../packages/idempotency/test/support.js';
import { lambdaContext, sqsRecord, type Json } from './support.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:orders.fifo';

/** The body SNS writes into an SQS FIFO queue for a FIFO topic (no signature fields; a SequenceNumber). */
function snsFifoEnvelope(snsId: string, seq: number, message: Json): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: snsId,
    SequenceNumber: String(10000000000000004000n + BigInt(seq)),
    TopicArn: TOPIC,
    Message: JSON.stringify(message),
    Timestamp: '2022-01-22T10:02:11.512Z',
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:3a1f6f4c`,
  });
}

function fifo(queue: string, sqsId: string, snsId: string, seq: number, message: Json): Json {
  const r = sqsRecord(snsFifoEnvelope(snsId, seq, message), { id: sqsId, groupId: 'customer-7', seq });
  return { ...r, eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}` };
}

describe('middy#793: an SNS FIFO → SQS FIFO message reaches the function unwrapped, keyed and ordered', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('the published object as input; first failure stops the group; the redelivery runs in order; the fan-out copy replays', async () => {
    const ran: Array<{ orderId: string; sns: unknown; groupId: unknown }> = [];
    let failOnce = true;
    const main = handler(
      { name: `billing-${randomUUID()}`, logSink: () => undefined, input: z.object({ orderId: z.string(), total: z.number() }), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] },
      (order, ctx: Context) => {
        const trigger = ctx.trigger as { sns?: unknown; groupId?: unknown };
        ran.push({ orderId: order.orderId, sns: trigger.sns, groupId: trigger.groupId });
        if (order.orderId === 'o-1' && failOnce) {
          failOnce = false;
          throw new RetryableError('LEDGER_BUSY', 'ledger busy');
        }
        return { billed: order.orderId };
      },
    );
    const [sns1, sns2] = [randomUUID(), randomUUID()];
    const batch = () => [fifo('billing.fifo', 'q-1', sns1, 1, { orderId: 'o-1', total: 12.5 }), fifo('billing.fifo', 'q-2', sns2, 2, { orderId: 'o-2', total: 3 })];

    expect(await main.aws({ Records: batch() }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: 'q-1' }, { itemIdentifier: 'q-2' }] });
    expect(ran.map((r) => r.orderId)).toEqual(['o-1']);
    expect(ran[0]).toMatchObject({ groupId: 'customer-7', sns: { topic: TOPIC, messageId: sns1, sequenceNumber: '10000000000000004001' } });

    expect(await main.aws({ Records: batch() }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran.map((r) => r.orderId)).toEqual(['o-1', 'o-1', 'o-2']);

    // The topic's copy of the first notification in another queue feeding the same function.
    const copy = [fifo('billing-replay.fifo', 'q-9', sns1, 1, { orderId: 'o-1', total: 12.5 })];
    expect(await main.aws({ Records: copy }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran.map((r) => r.orderId)).toEqual(['o-1', 'o-1', 'o-2']);
  });
});
