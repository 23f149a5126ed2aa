/**
 * Review finding (s51 HIGH): a Service Bus delivery was keyed by its `MessageId`, which the
 * sender chooses. It is optional in AMQP and unique only when the entity has duplicate detection
 * on ("MessageID isn't guaranteed to be unique", dapr/components-contrib#1892; all-zero ids,
 * dotnet-architecture/eShopOnContainers#508). `@steadyfn/idempotency` keyed by it with no payload
 * fingerprint, so a second message reusing an id was acknowledged without running; in a batch the
 * second one failed `IDEMPOTENCY_IN_PROGRESS` and, redelivered, replayed the first one's result;
 * and a message without a `MessageId` was thrown to the host as `MALFORMED_EVENT` even under
 * `terminalErrors: 'ack'` (redelivered up to `MaxDeliveryCount` and dead-lettered, never run).
 *
 * The key is now the broker-assigned `SequenceNumber` (unique per queue or subscription) scoped
 * by the entity: `<queue>#<sequenceNumber>`, `<topic>/<subscription>#<sequenceNumber>`. Run with
 * the real `@azure/functions` `InvocationContext` and the real idempotency plugin.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { idempotency, memoryStore } from '@steadyfn/idempotency';
import { handler, type Context } from '../src/index.js';
import { invocationContext } from './support/azure.js';

const orders = trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus' });
const ordersMany = trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus', cardinality: 'many' });

function idempotent(runs: unknown[], terminalErrors: 'fail' | 'ack' = 'fail') {
  const use = [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })];
  return handler({ use, terminalErrors, logSink: () => undefined }, (input: unknown) => {
    runs.push(input);
    return { ran: input };
  });
}

const one = (invocationId: string, meta: Record<string, unknown>) => invocationContext({ invocationId, functionName: 'onOrder', triggerMetadata: { deliveryCount: 1, ...meta } }, orders);

describe('Service Bus: the delivery is the broker-assigned SequenceNumber, not the sender-chosen MessageId', () => {
  it('(a) two messages reusing MessageId o-42 (sequence 101, 102) both run', async () => {
    const runs: unknown[] = [];
    const main = idempotent(runs);
    await main({ type: 'OrderPlaced' }, one('inv-a1', { messageId: 'o-42', sequenceNumber: 101 }));
    await main({ type: 'OrderShipped' }, one('inv-a2', { messageId: 'o-42', sequenceNumber: 102 }));
    expect(runs).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }]);
    // A redelivery of sequence 101 (same broker id) is still recognised: not run again.
    await main({ type: 'OrderPlaced' }, one('inv-a3', { messageId: 'o-42', sequenceNumber: 101, deliveryCount: 2 }));
    expect(runs).toHaveLength(2);
  });

  it('(b) a batch with messageIdArray [o-42, o-42] and sequenceNumberArray [201, 202] runs both, and a redelivery replays each its own', async () => {
    const runs: unknown[] = [];
    const main = idempotent(runs);
    const context = (invocationId: string, delivery: number) =>
      invocationContext({ invocationId, functionName: 'onOrder', triggerMetadata: { messageIdArray: ['o-42', 'o-42'], sequenceNumberArray: [201, 202], deliveryCountArray: [delivery, delivery] } }, ordersMany);
    await main([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }], context('inv-b1', 1));
    expect(runs).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }]);
    await main([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }], context('inv-b2', 2));
    expect(runs).toHaveLength(2);
  });

  it('the key is <entity>#<sequenceNumber>; MessageId stays on the trigger; a topic subscription names both', async () => {
    const seen: Context[] = [];
    const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    await main({}, one('inv-k1', { messageId: 'o-42', sequenceNumber: 101 }));
    const topic = trigger.serviceBusTopic({ topicName: 'shop', subscriptionName: 'billing', connection: 'ServiceBus' });
    await main({}, invocationContext({ invocationId: 'inv-k2', functionName: 'onOrder', triggerMetadata: { messageId: 'o-42', sequenceNumber: 101 } }, topic));
    expect(seen.map((c) => c.deliveryId)).toEqual(['orders#101', 'shop/billing#101']);
    expect(seen.map((c) => c.trigger.kind === 'queue' && c.trigger.messageId)).toEqual(['o-42', 'o-42']);
  });

  it('(c) a message with sequenceNumber 7 and no MessageId runs, keyed by its sequence number', async () => {
    const seen: Context[] = [];
    const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    await main({ type: 'OrderPlaced' }, one('inv-c1', { sequenceNumber: 7 }));
    expect(seen.map((c) => [c.deliveryId, c.trigger.kind === 'queue' && c.trigger.messageId])).toEqual([['orders#7', '']]);
  });

  it('without a SequenceNumber (a hand-built context) the MessageId is the key, as before', async () => {
    const seen: Context[] = [];
    const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    await main({}, one('inv-m1', { messageId: 'm-1' }));
    expect(seen[0]!.deliveryId).toBe('m-1');
  });

  it('a message with neither id: MALFORMED_EVENT thrown under terminalErrors "fail", acknowledged under "ack"', async () => {
    const runs: unknown[] = [];
    await expect(idempotent(runs, 'fail')({}, one('inv-n1', {}))).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    await expect(idempotent(runs, 'ack')({}, one('inv-n2', {}))).resolves.toBeUndefined();
    expect(runs).toEqual([]);
  });
});
