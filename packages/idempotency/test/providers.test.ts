/**
 * One idempotent function, four providers: each provider's redelivery of the same message
 * or event has one effect. Events are built by hand in the documented shapes the handler's
 * adapters read; the Azure context is the real `InvocationContext` from @azure/functions.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InvocationContext, trigger } from '@azure/functions';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { idempotency, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, counting, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

const Order = z.object({ orderId: z.string() });


function pubsubEvent(messageId: string, body: unknown, attempt: number): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: messageId,
    source: '//pubsub.googleapis.com/projects/demo/topics/orders',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    datacontenttype: 'application/json',
    time: '2026-01-01T00:00:00.000Z',
    data: {
      message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId, message_id: messageId, publishTime: '2026-01-01T00:00:00.000Z', attributes: {} },
      subscription: 'projects/demo/subscriptions/orders-sub',
      deliveryAttempt: attempt,
    },
  };
}

function azureQueueContext(id: string, dequeueCount: number): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'orders',
    options: { trigger: { ...trigger.storageQueue({ queueName: 'orders', connection: 'AzureWebJobsStorage' }), name: 'item', direction: 'in' } as never },
    triggerMetadata: {
      id,
      dequeueCount,
      popReceipt: `pr-${randomUUID()}`,
      insertionTime: '2026-01-01T00:00:00+00:00',
      expirationTime: '2026-01-08T00:00:00+00:00',
      nextVisibleTime: '2026-01-01T00:10:00+00:00',
    },
    logHandler: () => undefined,
  });
}

function azureServiceBusBatchContext(messageIds: string[], deliveryCount: number): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: 'orders',
    options: { trigger: { ...trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus', cardinality: 'many' }), name: 'items', direction: 'in' } as never },
    triggerMetadata: {
      messageIdArray: messageIds,
      deliveryCountArray: messageIds.map(() => deliveryCount),
      applicationPropertiesArray: messageIds.map(() => ({})),
    },
    logHandler: () => undefined,
  });
}

/** Runs `params` as OpenWhisk would: a fresh activation id for every activation. */
async function openwhisk(main: { openwhisk(p: unknown): Promise<unknown> }, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const saved = { id: process.env.__OW_ACTIVATION_ID, name: process.env.__OW_ACTION_NAME };
  process.env.__OW_ACTIVATION_ID = randomUUID().replace(/-/g, '');
  process.env.__OW_ACTION_NAME = '/guest/orders';
  try {
    return (await main.openwhisk(params)) as Record<string, unknown>;
  } finally {
    if (saved.id === undefined) delete process.env.__OW_ACTIVATION_ID;
    else process.env.__OW_ACTIVATION_ID = saved.id;
    if (saved.name === undefined) delete process.env.__OW_ACTION_NAME;
    else process.env.__OW_ACTION_NAME = saved.name;
  }
}

describe.each(BACKENDS)('one idempotent function on four providers, %s store', (name) => {
  const backend = useBackend(name);
  afterEach(() => {
    effects.clear();
  });

  const effects = new Map<string, number>();
  const make = (store = backend.store, extra: Partial<IdempotencyOptions> = {}) =>
    handler({ name: 'orders', input: Order, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, ...extra })] }, (input) => {
      effects.set(input.orderId, (effects.get(input.orderId) ?? 0) + 1);
      return { shipped: input.orderId };
    });

  it('AWS: a redelivered SQS message has one effect; each batch costs one claim and one complete round trip', async () => {
    const store = counting(backend.store);
    const main = make(store, { localCache: false });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const first = await main.aws({ Records: ids.map((id, i) => sqsRecord(id, { orderId: `sqs-${i}` })) }, lambdaContext());
    expect(first).toEqual({ batchItemFailures: [] });
    expect(store.calls).toEqual({ claimMany: 1, completeMany: 1 });
    // The visibility timeout ran out before the delete: messages 1 and 2 come back with a new one.
    const fresh = randomUUID();
    const again = await main.aws({ Records: [sqsRecord(ids[1]!, { orderId: 'sqs-1' }, { receiveCount: 2 }), sqsRecord(ids[2]!, { orderId: 'sqs-2' }, { receiveCount: 2 }), sqsRecord(fresh, { orderId: 'sqs-3' })] }, lambdaContext());
    expect(again).toEqual({ batchItemFailures: [] });
    // Only the fresh message is left to complete: still one round trip, as a single complete.
    expect(store.calls).toEqual({ claimMany: 2, completeMany: 1, complete: 1 });
    expect(Object.fromEntries(effects)).toEqual({ 'sqs-0': 1, 'sqs-1': 1, 'sqs-2': 1, 'sqs-3': 1 });
  });

  it('AWS: with the local cache a redelivered batch of done messages makes no store call', async () => {
    const store = counting(backend.store);
    const main = make(store);
    const records = [sqsRecord(randomUUID(), { orderId: 'w-0' }), sqsRecord(randomUUID(), { orderId: 'w-1' })];
    await main.aws({ Records: records }, lambdaContext());
    const calls = store.total();
    expect(await main.aws({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(store.total()).toBe(calls);
    expect(Object.fromEntries(effects)).toEqual({ 'w-0': 1, 'w-1': 1 });
  });

  it('GCP: a repeated Pub/Sub CloudEvent has one effect', async () => {
    const main = make(backend.store, { localCache: false });
    const messageId = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
    await main.gcpEvent(pubsubEvent(messageId, { orderId: 'ps-1' }, 1));
    await main.gcpEvent(pubsubEvent(messageId, { orderId: 'ps-1' }, 2));
    expect(Object.fromEntries(effects)).toEqual({ 'ps-1': 1 });
  });

  it('Azure: a repeated storage queue item has one effect; a redelivered Service Bus batch too', async () => {
    const main = make(backend.store, { localCache: false });
    const id = randomUUID();
    await expect(main.azure({ orderId: 'az-1' }, azureQueueContext(id, 1))).resolves.toEqual({ shipped: 'az-1' });
    await expect(main.azure({ orderId: 'az-1' }, azureQueueContext(id, 2))).resolves.toEqual({ shipped: 'az-1' });
    const ids = [randomUUID(), randomUUID()];
    const bodies = [{ orderId: 'sb-1' }, { orderId: 'sb-2' }];
    await main.azure(bodies, azureServiceBusBatchContext(ids, 1));
    await main.azure(bodies, azureServiceBusBatchContext(ids, 2));
    expect(Object.fromEntries(effects)).toEqual({ 'az-1': 1, 'sb-1': 1, 'sb-2': 1 });
  });

  it('OpenWhisk: a repeated activation with the same key has one effect (web action header, key function, Kafka feed)', async () => {
    const main = make(backend.store, { localCache: false });
    const key = randomUUID();
    const web = (orderId: string) => ({ __ow_method: 'post', __ow_headers: { 'content-type': 'application/json', 'idempotency-key': key }, __ow_path: '', orderId });
    const a = await openwhisk(main, web('ow-1'));
    const b = await openwhisk(main, web('ow-1'));
    expect(a).toMatchObject({ statusCode: 200 });
    expect(b).toMatchObject({ statusCode: 200, headers: { 'Idempotency-Replayed': 'true' } });
    expect(b.body).toEqual(a.body);

    const byOrder = make(backend.store, { localCache: false, key: (ctx) => (ctx.input as { orderId: string }).orderId });
    const orderId = `ow-${randomUUID()}`;
    expect(await openwhisk(byOrder, { orderId })).toEqual({ shipped: orderId });
    expect(await openwhisk(byOrder, { orderId })).toEqual({ shipped: orderId });

    const offset = Date.now();
    const kafka = { messages: [0, 1].map((i) => ({ topic: 'orders', partition: 0, offset: offset + i, key: null, value: JSON.stringify({ orderId: `kf-${i}` }) })) };
    expect(await openwhisk(main, kafka)).toMatchObject({ processed: 2 });
    expect(await openwhisk(main, kafka)).toMatchObject({ processed: 2 });
    expect(Object.fromEntries(effects)).toEqual({ 'ow-1': 1, [orderId]: 1, 'kf-0': 1, 'kf-1': 1 });
  });

  it('a message that failed is released in the batch settle, so its redelivery runs again', async () => {
    const store = counting(backend.store);
    let failOnce = true;
    const main = handler({ name: 'orders', input: Order, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      if (input.orderId === 'bad' && failOnce) {
        failOnce = false;
        throw new Error('downstream hiccup');
      }
      effects.set(input.orderId, (effects.get(input.orderId) ?? 0) + 1);
      return {};
    });
    const records = [sqsRecord(randomUUID(), { orderId: 'good' }), sqsRecord(randomUUID(), { orderId: 'bad' })];
    const first = (await main.aws({ Records: records }, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(store.calls).toEqual({ claimMany: 1, completeMany: 1 });
    expect(await main.aws({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(Object.fromEntries(effects)).toEqual({ good: 1, bad: 1 });
  });
});
