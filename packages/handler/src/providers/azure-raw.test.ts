/**
 * Byte-exact Service Bus and storage queue ids through the real `@azure/functions` programming
 * model: the worker's `@azure/functions-core` module (the only part of the worker, which is not
 * published, that the model talks to) is served here as the worker serves it, and each
 * invocation goes the worker's way: `getInvocationModel(coreCtx)` with the host's RPC message,
 * `getArguments()` (the library's own conversion, which parses "9007199254740993" into a
 * number), then `invokeFunction`.
 */
import Module from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '../index.js';

interface Registered {
  metadata: { name: string; bindings: Record<string, { type: string; direction: string }> };
  callback: (...args: unknown[]) => unknown;
}
interface Model {
  getInvocationModel(coreCtx: unknown): {
    getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
    invokeFunction(context: unknown, inputs: unknown[], handler: unknown): Promise<unknown>;
  };
}

const registered: Registered[] = [];
let model: Model | undefined;
const core = {
  setProgrammingModel: (m: Model) => void (model = m),
  getProgrammingModel: () => model,
  registerFunction: (metadata: Registered['metadata'], callback: Registered['callback']) => (registered.push({ metadata, callback }), { dispose: () => undefined }),
  registerHook: () => ({ dispose: () => undefined }),
  log: () => undefined,
};
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleWithLoad = Module as unknown as { _load: Load };
const originalLoad = moduleWithLoad._load;
moduleWithLoad._load = function load(request: string, parent: unknown, isMain: boolean) {
  return request === '@azure/functions-core' ? core : originalLoad.call(this, request, parent, isMain);
};
process.env.FUNCTIONS_WORKER_RUNTIME = 'node';

afterAll(() => {
  moduleWithLoad._load = originalLoad;
  delete process.env.FUNCTIONS_WORKER_RUNTIME;
});

/** Runs one invocation the way the worker does, with the host's trigger metadata and input. */
async function invoke(name: string, invocationId: string, triggerMetadata: Record<string, unknown>, input: Record<string, unknown>): Promise<void> {
  const fn = registered.find((r) => r.metadata.name === name)!;
  const bindingName = Object.entries(fn.metadata.bindings).find(([, b]) => b.direction === 'in')![0];
  const coreCtx = {
    invocationId,
    request: { invocationId, triggerMetadata, inputData: [{ name: bindingName, data: input }] },
    metadata: { name, bindings: fn.metadata.bindings },
  };
  const invocation = model!.getInvocationModel(coreCtx);
  const { context, inputs } = await invocation.getArguments();
  await invocation.invokeFunction(context, inputs, fn.callback);
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
    expect(seen.map((c) => c.deliveryId)).toEqual(['9007199254740993', '1e3']);
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
