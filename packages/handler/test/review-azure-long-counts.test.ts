/**
 * Review finding: `TypedData.int` is a protobuf int64, and Node.js worker 3.16 hands int64
 * values to the programming model as Long-like `{ low, high, unsigned }` objects
 * (Azure/azure-functions-nodejs-worker#844). The delivery counts the host sends that way —
 * Service Bus `DeliveryCount` / `DeliveryCountArray`, storage queue `DequeueCount` — were then
 * unread, so `ctx.trigger.attempt` was left out (a redelivered message looked like a first
 * delivery). Run through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts), and through the v4 model's `triggerMetadata` as the worker
 * hands it over.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { installAzureWorker } from './support/azure-worker.js';
import { invocationContext } from './support/azure.js';
import { published } from './support/published.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const long = (n: number) => ({ low: n, high: 0, unsigned: false });
const attempts = (seen: Context[]) => seen.map((c) => (c.trigger.kind === 'queue' ? c.trigger.attempt : 'not a queue'));

async function main(seen: Context[]) {
  const { handler } = await import('../src/index.js');
  return handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
}

describe('Azure delivery counts as protobuf Longs', () => {
  it('Service Bus DeliveryCount { int: Long } and a batch collectionSint64', async () => {
    const { app } = await import('@azure/functions');
    const seen: Context[] = [];
    const fn = await main(seen);
    app.serviceBusQueue('long-one', { connection: 'ServiceBusConnection', queueName: 'long-one', handler: fn as never });
    app.serviceBusQueue('long-many', { connection: 'ServiceBusConnection', queueName: 'long-many', cardinality: 'many', handler: fn as never });
    await worker.invoke('long-one', 'inv-l1', { MessageId: { string: 'm-1' }, DeliveryCount: { int: long(3) } }, { string: '{"n":1}' });
    await worker.invoke('long-many', 'inv-l2', { MessageIdArray: { json: '["m-2","m-3"]' }, DeliveryCountArray: { collectionSint64: { sint64: [long(1), long(4)] } } }, { json: '[{"n":2},{"n":3}]' });
    expect(attempts(seen)).toEqual([3, 1, 4]);
  });

  it('storage queue DequeueCount as a Long in the v4 model metadata', async () => {
    const seen: Context[] = [];
    const fn = await main(seen);
    const f = published('azure', 'storage-queue.json');
    const meta = { ...f.context.triggerMetadata, dequeueCount: long(2) };
    await fn(f.message, invocationContext({ ...f.context, triggerMetadata: meta }, trigger.storageQueue({ queueName: 'orders', connection: 'AzureWebJobsStorage' })));
    expect(attempts(seen)).toEqual([2]);
  });
});
