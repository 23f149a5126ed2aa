/**
 * Byte-exact Service Bus and storage queue ids and message bodies through the real
 * `@azure/functions` programming model, run the worker's way (test/support/azure-worker.ts):
 * the library's own conversion parses "9007199254740993" into a number.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '../index.js';
import { installAzureWorker } from '../../test/support/azure-worker.js';
import { rawTriggerBodies } from '../events/azure-host-metadata.js';
import { takeRawInvocation } from './azure-raw.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

/** Runs one invocation the way the worker does, with the host's trigger metadata and input. */
async function invoke(name: string, invocationId: string, triggerMetadata: Record<string, unknown>, input: Record<string, unknown>): Promise<void> {
  await worker.invoke(name, invocationId, triggerMetadata, input);
}

describe('ids the worker would turn into numbers', () => {
  it('keeps Service Bus MessageId "9007199254740993" and "1e3" byte-exact (the library alone gives 9007199254740992 and 1000)', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    app.serviceBusQueue('payments', { connection: 'ServiceBusConnection', queueName: 'payments', handler: main });
    for (const [i, id] of ['9007199254740993', '1e3'].entries()) {
      await invoke('payments', `inv-${i}`, { MessageId: { string: id }, DeliveryCount: { int: 1 }, SequenceNumber: { int: 5101 } }, { string: '{"n":1}' });
    }
    expect(seen.map((c) => c.trigger.kind === 'queue' && c.trigger.messageId)).toEqual(['9007199254740993', '1e3']);
    // What the library itself hands the function: the parsed numbers.
    expect(seen.map((c) => ((c.raw as { context: { triggerMetadata: Record<string, unknown> } }).context.triggerMetadata.messageId))).toEqual([9007199254740992, 1000]);
  });

  it('keeps a storage queue message id byte-exact', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    app.storageQueue('orders', { connection: 'AzureWebJobsStorage', queueName: 'orders', handler: main });
    await invoke('orders', 'inv-q', { Id: { string: '00012345678901234567890' }, DequeueCount: { int: 1 }, PopReceipt: { string: 'AgAAAAMAAAA' } }, { string: 'hello' });
    expect(seen[0]!.deliveryId).toBe('00012345678901234567890');
  });
});

/**
 * Application properties as the host sends them (Service Bus `ApplicationProperties`, Event
 * Hubs `Properties`): a .NET dictionary serialised by Newtonsoft.Json into `TypedData.json`.
 * The library then parses it (a long past 2^53 rounds) and camel-cases every key inside it
 * (`Diagnostic-Id` → `diagnostic-Id`); the wrapper reads the host's text instead.
 */
describe('application properties: names as sent, numbers as their exact text', () => {
  const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const props = `{"Diagnostic-Id":"${TP}","Tenant":"acme","amount":12345678901234567890,"price":1.50,"urgent":true,"sentAt":"2025-03-02T12:00:00Z","ratio":1E-7}`;
  const expected = { 'Diagnostic-Id': TP, Tenant: 'acme', amount: '12345678901234567890', price: '1.50', urgent: 'true', sentAt: '2025-03-02T12:00:00Z', ratio: '1E-7' };

  it('Service Bus, one message and a batch', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    app.serviceBusQueue('bus-one', { connection: 'ServiceBusConnection', queueName: 'bus-one', handler: main });
    app.serviceBusQueue('bus-many', { connection: 'ServiceBusConnection', queueName: 'bus-many', cardinality: 'many', handler: main });
    await invoke('bus-one', 'inv-p1', { MessageId: { string: 'm-1' }, DeliveryCount: { int: 1 }, ApplicationProperties: { json: props } }, { string: '{"n":1}' });
    await invoke(
      'bus-many',
      'inv-p2',
      { MessageIdArray: { json: '["m-2","m-3"]' }, DeliveryCountArray: { json: '[1,2]' }, ApplicationPropertiesArray: { json: `[${props},{"n":7}]` } },
      { json: '[{"n":2},{"n":3}]' },
    );
    expect(seen.map((c) => c.trigger.kind === 'queue' && c.trigger.attributes)).toEqual([expected, expected, { n: '7' }]);
    // The Azure SDKs' trace property is found under its real name.
    expect(seen[0]!.traceparent).toBe(TP);
    // What the library alone hands over: names camel-cased, the long rounded.
    const libraryView = (seen[0]!.raw as { context: { triggerMetadata: Record<string, Record<string, unknown>> } }).context.triggerMetadata.applicationProperties!;
    expect(libraryView['diagnostic-Id']).toBe(TP);
    expect(libraryView.amount).toBe(12345678901234567000);
  });

  it('Event Hubs batch', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    app.eventHub('hub-many', { connection: 'EventHubConnection', eventHubName: 'readings', cardinality: 'many', handler: main });
    await invoke(
      'hub-many',
      'inv-h1',
      {
        PartitionContext: { json: '{"EventHubName":"readings","ConsumerGroup":"$Default","PartitionId":"3"}' },
        SequenceNumberArray: { json: '[1207,1208]' },
        OffsetArray: { json: '["4294967296","4294967800"]' },
        PropertiesArray: { json: `[${props},{}]` },
      },
      { json: '[{"n":1},{"n":2}]' },
    );
    expect(seen.map((c) => c.trigger.kind === 'stream' && c.trigger.attributes)).toEqual([
      { ...expected, 'x-opt-offset': '4294967296' },
      { 'x-opt-offset': '4294967800' },
    ]);
  });
});

/**
 * Message bodies as the host sends them (azure-functions-host `RpcMessageConversionExtensions.ToRpc`):
 * a trigger without `dataType` binds one message as `string` (RPC `TypedData.string`, the
 * body's text) and a `cardinality: 'many'` batch as `object[]` (each body parsed by Json.NET,
 * the batch re-serialised into `TypedData.json`); with `dataType: 'string'` / `'binary'` a batch
 * is `collectionString` / `collectionBytes`. The library then `JSON.parse`s the text.
 */
describe('message bodies: ctx.trigger.rawBody is what the host sent, not the library\'s parse', () => {
  const A = '{"id":9007199254740993}';
  const B = '{"id":9007199254740992}';
  const rawBodies = (seen: Context[]): unknown[] => seen.map((c) => (c.trigger.kind === 'queue' || c.trigger.kind === 'stream' ? c.trigger.rawBody : 'none'));

  it('Service Bus, storage queue and Event Hubs, one message each: the exact text', async () => {
    const seen: Context[] = [];
    const inputs: unknown[] = [];
    const main = handler({}, (input, ctx) => void (seen.push(ctx), inputs.push(input)));
    const { app } = await import('@azure/functions');
    app.serviceBusQueue('body-bus', { connection: 'ServiceBusConnection', queueName: 'body-bus', handler: main });
    app.storageQueue('body-queue', { connection: 'AzureWebJobsStorage', queueName: 'body-queue', handler: main });
    app.eventHub('body-hub', { connection: 'EventHubConnection', eventHubName: 'readings', cardinality: 'one', handler: main });
    await invoke('body-bus', 'inv-b1', { MessageId: { string: 'm-a' }, DeliveryCount: { int: 1 } }, { string: A });
    await invoke('body-queue', 'inv-b2', { Id: { string: 'q-b' }, DequeueCount: { int: 1 }, PopReceipt: { string: 'AgAAAAMAAAA' } }, { string: B });
    await invoke(
      'body-hub',
      'inv-b3',
      { PartitionContext: { json: '{"EventHubName":"readings","ConsumerGroup":"$Default","PartitionId":"0"}' }, SequenceNumber: { int: 7 }, Offset: { string: '4096' } },
      { string: ` ${A}\n` },
    );
    expect(rawBodies(seen)).toEqual([A, B, ` ${A}\n`]);
    // What the library hands the function: the rounded number, three times.
    expect(inputs).toEqual([{ id: 9007199254740992 }, { id: 9007199254740992 }, { id: 9007199254740992 }]);
  });

  it('a batch without dataType: each element of the host\'s JSON, every digit kept (the host re-serialised it: 1.50 reads 1.5)', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    app.serviceBusQueue('body-bus-many', { connection: 'ServiceBusConnection', queueName: 'body-bus-many', cardinality: 'many', handler: main });
    app.eventHub('body-hub-many', { connection: 'EventHubConnection', eventHubName: 'readings', cardinality: 'many', handler: main });
    await invoke(
      'body-bus-many',
      'inv-b4',
      { MessageIdArray: { json: '["m-1","m-2","m-3","m-4"]' }, DeliveryCountArray: { json: '[1,1,1,1]' } },
      { json: `[${A},${B},{"s":"a,]}\\"[","n":[1,{"x":1.5}]},"text"]` },
    );
    await invoke(
      'body-hub-many',
      'inv-b5',
      { PartitionContext: { json: '{"EventHubName":"readings","ConsumerGroup":"$Default","PartitionId":"1"}' }, SequenceNumberArray: { json: '[1,2]' } },
      { json: `[\n  ${A},\n  ${B}\n]` },
    );
    expect(rawBodies(seen)).toEqual([A, B, '{"s":"a,]}\\"[","n":[1,{"x":1.5}]}', '"text"', A, B]);
  });

  it('a batch with dataType string or binary: one exact text or byte string per message', async () => {
    const seen: Context[] = [];
    const main = handler({}, (_input, ctx) => void seen.push(ctx));
    const { app } = await import('@azure/functions');
    const options = { connection: 'EventHubConnection', eventHubName: 'readings', cardinality: 'many' as const, handler: main };
    app.eventHub('body-hub-text', { ...options, dataType: 'string' } as typeof options);
    app.eventHub('body-hub-bytes', { ...options, dataType: 'binary' } as typeof options);
    const meta = { PartitionContext: { json: '{"EventHubName":"readings","ConsumerGroup":"$Default","PartitionId":"2"}' }, SequenceNumberArray: { json: '[10,11]' } };
    await invoke('body-hub-text', 'inv-b6', meta, { collectionString: { string: [A, B] } });
    await invoke('body-hub-bytes', 'inv-b7', meta, { collectionBytes: { bytes: [Buffer.from(A), Buffer.from([0xff, 0x00])] } });
    expect(rawBodies(seen)).toEqual([A, B, Buffer.from(A), Buffer.from([0xff, 0x00])]);
  });

  it('host data that does not line up with the messages is not used', () => {
    // Two messages, but the host data holds one (or none, or not a list): no raw bodies from it.
    expect(rawTriggerBodies({ json: `[${A}]` }, true, 2)).toBeUndefined();
    expect(rawTriggerBodies({ json: A }, true, 1)).toBeUndefined();
    expect(rawTriggerBodies({ json: '[1,' }, true, 1)).toBeUndefined();
    expect(rawTriggerBodies({ collectionString: { string: [A, 7] } }, true, 2)).toBeUndefined();
    expect(rawTriggerBodies({ string: A }, false, 2)).toBeUndefined();
    expect(rawTriggerBodies(undefined, false, 1)).toBeUndefined();
    // Empty elements and nesting are split where the JSON splits them.
    expect(rawTriggerBodies({ json: '[ [] , {} ,"" ,[[1],[2]] ]' }, true, 4)).toEqual(['[]', '{}', '""', '[[1],[2]]']);
    expect(rawTriggerBodies({ json: '[]' }, true, 0)).toEqual([]);
  });
});

describe('what is kept does not outlive the invocation', () => {
  it('a function of the app that is not wrapped leaves nothing behind once it has run', async () => {
    const { app } = await import('@azure/functions');
    let ran = 0;
    app.storageQueue('plain-queue', { connection: 'AzureWebJobsStorage', queueName: 'plain', handler: async () => void ran++ });
    // Registered after a wrapper was built, so the worker's model is the wrapped one.
    handler({}, () => undefined);
    await invoke('plain-queue', 'inv-plain', { Id: { string: 'q-1' }, DequeueCount: { int: 1 }, PopReceipt: { string: 'AgAAAAMAAAA' } }, { string: 'x'.repeat(1024) });
    expect(ran).toBe(1);
    expect(takeRawInvocation('inv-plain')).toBeUndefined();
  });
});
