/**
 * Review s51 (handler's delivery ids, seen through this plugin with its real memory store):
 * - Azure Service Bus was keyed by the sender-chosen `MessageId` (not unique without duplicate
 *   detection): a second message reusing one was acknowledged without running, and in a batch
 *   failed `IDEMPOTENCY_IN_PROGRESS`, then replayed the first one's result on redelivery. The
 *   key is now the broker's `SequenceNumber` scoped by the entity.
 * - An EventBridge event delivered twice into SQS (EventBridge's target retries; each copy a new
 *   SQS message id) ran twice. The key is now the event id.
 * The handler's own tests (packages/handler/test/review-service-bus-delivery-key.test.ts,
 * review-eventbridge-in-sqs.test.ts) check the ids; these check the effect.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvocationContext, trigger } from '@azure/functions';
import { handler } from '@steadyfn/handler';
import { idempotency, memoryStore } from '../src/index.js';
import { lambdaContext, silentSink, sqsRecord } from './support.js';

function idempotent(runs: unknown[]) {
  return handler({ use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })], logSink: silentSink() }, (input: unknown) => {
    runs.push(input);
    return { ran: input };
  });
}

function serviceBus(triggerMetadata: Record<string, unknown>, cardinality: 'one' | 'many'): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'orders',
    options: { trigger: { ...trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus', cardinality }), name: 'item', direction: 'in' } as never },
    triggerMetadata,
    logHandler: () => undefined,
  });
}

describe('Service Bus: two messages reusing one MessageId are two deliveries', () => {
  it('one at a time (sequence 101, 102): both run; a redelivery of 101 does not', async () => {
    const runs: unknown[] = [];
    const main = idempotent(runs);
    await main({ type: 'OrderPlaced' }, serviceBus({ messageId: 'o-42', sequenceNumber: 101, deliveryCount: 1 }, 'one'));
    await main({ type: 'OrderShipped' }, serviceBus({ messageId: 'o-42', sequenceNumber: 102, deliveryCount: 1 }, 'one'));
    await main({ type: 'OrderPlaced' }, serviceBus({ messageId: 'o-42', sequenceNumber: 101, deliveryCount: 2 }, 'one'));
    expect(runs).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }]);
  });

  it('one batch (messageIdArray [o-42, o-42], sequenceNumberArray [201, 202]): both run, no IDEMPOTENCY_IN_PROGRESS; a redelivery runs neither', async () => {
    const runs: unknown[] = [];
    const main = idempotent(runs);
    const batch = (delivery: number) => serviceBus({ messageIdArray: ['o-42', 'o-42'], sequenceNumberArray: [201, 202], deliveryCountArray: [delivery, delivery] }, 'many');
    await expect(main([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }], batch(1))).resolves.toBeUndefined();
    await expect(main([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }], batch(2))).resolves.toBeUndefined();
    expect(runs).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }]);
  });
});

describe('EventBridge → SQS: a second SQS copy of one event does not run again', () => {
  it('copies 1111… and 2222… of one event, in two batches: one run', async () => {
    const event = { version: '0', id: 'e4a1b2c3-d4e5-f6a7-b8c9-d0e1f2a3b4c5', 'detail-type': 'OrderPlaced', source: 'com.example.checkout', account: '123456789012', time: '2025-03-14T09:41:07Z', region: 'eu-west-1', resources: [], detail: { orderId: 'o-7007' } };
    const runs: unknown[] = [];
    const main = idempotent(runs);
    expect(await main({ Records: [sqsRecord('11111111-1111-4111-8111-111111111111', event)] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await main({ Records: [sqsRecord('22222222-2222-4222-8222-222222222222', event)] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(runs).toHaveLength(1);
  });
});
