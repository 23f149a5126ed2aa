/**
 * Review finding: the Service Bus `SequenceNumber` (trigger metadata `SequenceNumber` for one
 * message, `SequenceNumberArray` for `cardinality: 'many'`; Azure docs "Azure Service Bus
 * trigger", message metadata) was not surfaced: `ctx.trigger.sequenceNumber` — where an SQS
 * FIFO message carries its `SequenceNumber` — was left out. It is a 64-bit integer (on a
 * partitioned entity the top 16 bits are the partition), so it is kept as decimal text.
 *
 * Shapes covered: the `@azure/functions` v4 model's `triggerMetadata` (numbers; and the
 * Long-like `{ low, high, unsigned }` objects Node.js worker 3.16 hands over for int64 —
 * Azure/azure-functions-nodejs-worker#844), and through the worker's way
 * (test/support/azure-worker.ts) the host's RPC `TypedData`: `{ int }`, `{ json }` (text past
 * 2^53 kept exact), `{ collectionSint64 }` and a JSON list.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { installAzureWorker } from './support/azure-worker.js';
import { invocationContext } from './support/azure.js';
import { published } from './support/published.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const long = (n: bigint) => ({ low: Number(BigInt.asIntN(32, n)), high: Number(BigInt.asIntN(32, n >> 32n)), unsigned: false });

async function main(seen: Context[]) {
  const { handler } = await import('../src/index.js');
  return handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
}

async function registered(name: string, cardinality: 'one' | 'many'): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const seen: Context[] = [];
  app.serviceBusQueue(name, { connection: 'ServiceBusConnection', queueName: name, cardinality, handler: (await main(seen)) as never });
  return seen;
}

const sequences = (seen: Context[]) => seen.map((c) => (c.trigger.kind === 'queue' ? c.trigger.sequenceNumber : 'not a queue'));

describe('Azure Service Bus: SequenceNumber as trigger.sequenceNumber', () => {
  it('v4 model, one message: a number, and a Long-like object past 2^53', async () => {
    const seen: Context[] = [];
    const fn = await main(seen);
    const f = published('azure', 'service-bus-one.json');
    for (const sequenceNumber of [42, long(0x0003_0000_0000_0001n)]) {
      await fn(structuredClone(f.message), invocationContext({ ...f.context, triggerMetadata: { ...f.context.triggerMetadata, sequenceNumber } }, trigger.serviceBusQueue({ queueName: 'orders', connection: 'ServiceBus' })));
    }
    expect(sequences(seen)).toEqual(['42', String(0x0003_0000_0000_0001n)]);
  });

  it('v4 model, a batch: sequenceNumberArray by index', async () => {
    const seen: Context[] = [];
    const fn = await main(seen);
    const f = published('azure', '../service-bus-batch.json');
    await fn(structuredClone(f.messages), invocationContext(f.context, trigger.serviceBusQueue({ queueName: 'payments', connection: 'ServiceBus', cardinality: 'many' })));
    expect(sequences(seen)).toEqual(['5101', '5102', '5103']);
  });

  it('the host RPC data, one message: { int }, { json } past 2^53 exact, and the published sample', async () => {
    const seen = await registered('seq-one', 'one');
    await worker.invoke('seq-one', 'inv-q1', { MessageId: { string: 'm-1' }, DeliveryCount: { int: 1 }, SequenceNumber: { int: 5101 } }, { string: '{"n":1}' });
    await worker.invoke('seq-one', 'inv-q2', { MessageId: { string: 'm-2' }, DeliveryCount: { int: 1 }, SequenceNumber: { json: '9007199254740993' } }, { string: '{"n":2}' });
    await worker.invoke('seq-one', 'inv-q3', { MessageId: { string: 'm-3' }, DeliveryCount: { int: 1 }, SequenceNumber: { int: long(9007199254740993n) } }, { string: '{"n":3}' });
    const f = published('azure', 'rpc-service-bus-one.json');
    await worker.invoke('seq-one', 'inv-q4', f.triggerMetadata, f.triggerData);
    expect(sequences(seen)).toEqual(['5101', '9007199254740993', '9007199254740993', '42']);
  });

  it('the host RPC data, a batch: collectionSint64 and a JSON list', async () => {
    const seen = await registered('seq-many', 'many');
    await worker.invoke('seq-many', 'inv-b1', { MessageIdArray: { json: '["m-4","m-5"]' }, SequenceNumberArray: { collectionSint64: { sint64: [7, long(9007199254740993n)] } } }, { json: '[{"n":4},{"n":5}]' });
    await worker.invoke('seq-many', 'inv-b2', { MessageIdArray: { json: '["m-6","m-7"]' }, SequenceNumberArray: { json: '[9007199254740995,8]' } }, { json: '[{"n":6},{"n":7}]' });
    expect(sequences(seen)).toEqual(['7', '9007199254740993', '9007199254740995', '8']);
  });

  it('no SequenceNumber (a hand-built context): left out', async () => {
    const seen = await registered('seq-none', 'one');
    await worker.invoke('seq-none', 'inv-n', { MessageId: { string: 'm-8' } }, { string: 'x' });
    expect(seen[0]!.trigger).not.toHaveProperty('sequenceNumber');
  });
});

/**
 * The same Long-like list for Event Hubs: the events ran only because the sequence number was
 * found again in `systemPropertiesArray`; without it each event failed "no sequence number".
 */
describe('Azure Event Hubs: Long-like sequence numbers (Node.js worker 3.16)', () => {
  it('a batch whose sequenceNumberArray holds { low, high, unsigned } runs each event with its sequence, not only through systemProperties', async () => {
    const seen: Context[] = [];
    const fn = await main(seen);
    const f = published('azure', '../event-hubs-batch.json');
    const meta = structuredClone(f.context.triggerMetadata);
    const expected = (meta.sequenceNumberArray as number[]).map(String);
    meta.sequenceNumberArray = (meta.sequenceNumberArray as number[]).map((n) => long(BigInt(n)));
    for (const system of meta.systemPropertiesArray as Array<Record<string, unknown>>) for (const name of ['sequenceNumber', 'x-opt-sequence-number']) delete system[name];
    await fn(structuredClone(f.events ?? f.messages), invocationContext({ ...f.context, triggerMetadata: meta }, trigger.eventHub({ eventHubName: 'readings', connection: 'EventHub', cardinality: 'many' })));
    expect(seen.map((c) => (c.trigger.kind === 'stream' ? c.trigger.sequence : undefined))).toEqual(expected);
  });
});
