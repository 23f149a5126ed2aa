/**
 * Review finding: a message from a session-enabled Service Bus queue or subscription
 * (`isSessionsEnabled: true`) is ordered within its session — Service Bus's FIFO group, as an
 * SQS `MessageGroupId` or a Pub/Sub `orderingKey` is — but `ctx.trigger.groupId` was left out,
 * although the host sends the session id with every message: `SessionId` for one message,
 * `SessionIdArray` for `cardinality: 'many'` (WebJobs Service Bus extension
 * `ServiceBusTriggerBindingStrategy`: every binding-data member, with `Array` appended for a
 * batch; Azure docs "Azure Service Bus trigger", message metadata `SessionId`).
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts): the library camel-cases the names and parses every string it
 * can as JSON, so a numeric session id arrives rounded unless the host's text is kept.
 *
 * Second finding: ordering was decided by a SessionId on any message, but a sender may set one
 * on a queue without sessions; the binding's `isSessionsEnabled` decides when the context has
 * trigger options.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context, Plugin } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

async function registered(name: string, cardinality: 'one' | 'many'): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  app.serviceBusQueue(name, { connection: 'ServiceBusConnection', queueName: name, isSessionsEnabled: true, cardinality, handler: main as never });
  return seen;
}

describe('Azure Service Bus sessions: the session id is the message group', () => {
  it('one message: SessionId as groupId, byte-exact even when it looks like a number', async () => {
    const seen = await registered('sessions-one', 'one');
    await worker.invoke('sessions-one', 'inv-s1', { MessageId: { string: 'm-1' }, DeliveryCount: { json: '1' }, SessionId: { string: 'order-42' } }, { string: '{"n":1}' });
    await worker.invoke('sessions-one', 'inv-s2', { MessageId: { string: 'm-2' }, DeliveryCount: { json: '1' }, SessionId: { string: '12345678901234567890' } }, { string: '{"n":2}' });
    expect(seen.map((c) => c.trigger)).toEqual([
      expect.objectContaining({ kind: 'queue', source: 'azure-service-bus', messageId: 'm-1', groupId: 'order-42' }),
      expect.objectContaining({ kind: 'queue', source: 'azure-service-bus', messageId: 'm-2', groupId: '12345678901234567890' }),
    ]);
  });

  it('a batch: each message its own SessionIdArray entry', async () => {
    const seen = await registered('sessions-many', 'many');
    await worker.invoke(
      'sessions-many',
      'inv-s3',
      { MessageIdArray: { json: '["m-3","m-4"]' }, DeliveryCountArray: { json: '[1,2]' }, SessionIdArray: { json: '["cart-7","cart-7"]' } },
      { json: '[{"n":3},{"n":4}]' },
    );
    expect(seen.map((c) => c.trigger.kind === 'queue' && c.trigger.groupId)).toEqual(['cart-7', 'cart-7']);
  });

  it('a queue without sessions (no SessionId, or null ones in a batch): no groupId', async () => {
    const seen = await registered('no-sessions', 'many');
    await worker.invoke('no-sessions', 'inv-s4', { MessageIdArray: { json: '["m-5"]' }, SessionIdArray: { json: '[null]' } }, { json: '[{"n":5}]' });
    const one = await registered('no-sessions-one', 'one');
    await worker.invoke('no-sessions-one', 'inv-s5', { MessageId: { string: 'm-6' } }, { string: 'x' });
    for (const c of [...seen, ...one]) expect(c.trigger).not.toHaveProperty('groupId');
  });

  it('a session batch runs in order and stops at the first failure (FIFO, as a FIFO SQS batch)', async () => {
    const { app } = await import('@azure/functions');
    const { handler, RetryableError } = await import('../src/index.js');
    const events: string[] = [];
    const main = handler({ logSink: () => undefined }, async (input: unknown, ctx) => {
      const id = ctx.trigger.kind === 'queue' ? ctx.trigger.messageId : '?';
      events.push(`start ${id}`);
      // Yield: a message run side by side with this one would start before this one ends.
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`end ${id}`);
      if ((input as { n: number }).n === 8) throw new RetryableError('DOWNSTREAM_BUSY', 'busy');
    });
    app.serviceBusQueue('sessions-order', { connection: 'ServiceBusConnection', queueName: 'sessions-order', isSessionsEnabled: true, cardinality: 'many', handler: main as never });
    await expect(
      worker.invoke(
        'sessions-order',
        'inv-s6',
        { MessageIdArray: { json: '["m-7","m-8","m-9"]' }, SessionIdArray: { json: '["cart-9","cart-9","cart-9"]' } },
        { json: '[{"n":7},{"n":8},{"n":9}]' },
      ),
    ).rejects.toMatchObject({ code: 'DOWNSTREAM_BUSY' });
    // m-9 is not run after m-8 failed: the host redelivers the whole batch, in order.
    expect(events).toEqual(['start m-7', 'end m-7', 'start m-8', 'end m-8']);
  });

  it('a SessionId on a queue without sessions (isSessionsEnabled false): the batch runs side by side, batchOrder applies', async () => {
    const { app } = await import('@azure/functions');
    const { handler, RetryableError } = await import('../src/index.js');
    const events: string[] = [];
    const ordering: Plugin = { name: 'aggregate', batchOrder: (ctx) => (ctx.trigger.kind === 'queue' && ctx.trigger.messageId.startsWith('o-') ? { group: 'g', seq: -Number(ctx.trigger.messageId.slice(2)) } : undefined) };
    const main = handler({ use: [ordering], logSink: () => undefined }, async (input: unknown, ctx) => {
      const id = ctx.trigger.kind === 'queue' ? ctx.trigger.messageId : '?';
      events.push(`start ${id}`);
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`end ${id}`);
      if ((input as { n: number }).n === 11) throw new RetryableError('DOWNSTREAM_BUSY', 'busy');
    });
    // A sender may set SessionId (also a partition key) on a queue without sessions; Azure delivers it.
    app.serviceBusQueue('no-sessions-id', { connection: 'ServiceBusConnection', queueName: 'no-sessions-id', isSessionsEnabled: false, cardinality: 'many', handler: main as never });
    await expect(
      worker.invoke(
        'no-sessions-id',
        'inv-s7',
        { MessageIdArray: { json: '["m-10","m-11","m-12"]' }, SessionIdArray: { json: '["cart-1","cart-1","cart-1"]' } },
        { json: '[{"n":10},{"n":11},{"n":12}]' },
      ),
    ).rejects.toMatchObject({ code: 'DOWNSTREAM_BUSY' });
    // Side by side, as before sessions were ordered: m-12 ran although m-11 failed.
    expect(events.slice(0, 3).sort()).toEqual(['start m-10', 'start m-11', 'start m-12']);
    events.length = 0;
    await worker.invoke('no-sessions-id', 'inv-s8', { MessageIdArray: { json: '["o-1","o-2","o-3"]' }, SessionIdArray: { json: '["cart-2","cart-2","cart-2"]' } }, { json: '[{"n":1},{"n":2},{"n":3}]' });
    // batchOrder's descending seq, one after another: not ignored as in a session batch.
    expect(events).toEqual(['start o-3', 'end o-3', 'start o-2', 'end o-2', 'start o-1', 'end o-1']);
  });
});
