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
 * the real `@azure/functions` `InvocationContext`; the idempotency plugin's view of it is in
 * packages/idempotency/test/review-delivery-keys.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { handler, type Context } from '../src/index.js';
import { invocationContext } from './support/azure.js';

const orders = trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus' });
const ordersMany = trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus', cardinality: 'many' });

/** The delivery ids the function sees for each run, in order. */
function keys() {
  const seen: Context[] = [];
  const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  return { seen, main, ids: () => seen.map((c) => c.deliveryId) };
}

const one = (invocationId: string, meta: Record<string, unknown>) => invocationContext({ invocationId, functionName: 'onOrder', triggerMetadata: { deliveryCount: 1, ...meta } }, orders);

describe('Service Bus: the delivery is the broker-assigned SequenceNumber, not the sender-chosen MessageId', () => {
  it('(a) two messages reusing MessageId o-42 (sequence 101, 102) are two deliveries; a redelivery of 101 keeps its key', async () => {
    const { main, ids } = keys();
    await main({ type: 'OrderPlaced' }, one('inv-a1', { messageId: 'o-42', sequenceNumber: 101 }));
    await main({ type: 'OrderShipped' }, one('inv-a2', { messageId: 'o-42', sequenceNumber: 102 }));
    await main({ type: 'OrderPlaced' }, one('inv-a3', { messageId: 'o-42', sequenceNumber: 101, deliveryCount: 2 }));
    expect(ids()).toEqual(['orders#101', 'orders#102', 'orders#101']);
  });

  it('(b) a batch with messageIdArray [o-42, o-42] and sequenceNumberArray [201, 202]: two deliveries, two request ids', async () => {
    const { main, seen, ids } = keys();
    await main([{ type: 'OrderPlaced' }, { type: 'OrderShipped' }], invocationContext({ invocationId: 'inv-b1', functionName: 'onOrder', triggerMetadata: { messageIdArray: ['o-42', 'o-42'], sequenceNumberArray: [201, 202], deliveryCountArray: [1, 1] } }, ordersMany));
    expect(ids().sort()).toEqual(['orders#201', 'orders#202']);
    expect(seen.map((c) => c.requestId).sort()).toEqual(['inv-b1:201', 'inv-b1:202']);
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
    let runs = 0;
    for (const terminalErrors of ['fail', 'ack'] as const) {
      const main = handler({ terminalErrors, logSink: () => undefined }, () => void runs++);
      const result = main({}, one(`inv-n-${terminalErrors}`, {}));
      if (terminalErrors === 'fail') await expect(result).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
      else await expect(result).resolves.toBeUndefined();
    }
    expect(runs).toBe(0);
  });
});
