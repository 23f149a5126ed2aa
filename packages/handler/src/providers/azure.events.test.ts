/**
 * The Azure adapter with the Blob, Event Grid, Event Hubs and Cosmos DB triggers, driven with
 * the real `@azure/functions` v4 objects (test mode): `InvocationContext` built as the worker
 * builds it, trigger options from the library's own `trigger.*` builders, and trigger
 * metadata with the keys the worker hands over (camel-cased binding data).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvocationContext, trigger, type FunctionTrigger } from '@azure/functions';
import { invocationContext } from '../../test/support/azure.js';
import { z } from 'zod';
import { handler, TerminalError, type Context } from '../index.js';
import { expectPublicError } from '../../test/support/fuzz.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/azure/${name}`, import.meta.url), 'utf8')) as Json;

function recorder(result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => (seen.push({ input, ctx }), result(input, ctx)) };
}

/** The uploaded photo every Blob fixture is about. */
const photo = { op: 'created', bucket: 'photos', key: '2025/summer photo (1).jpg', size: 48213, etag: '"0x8DD62E4A1B2C3D4"', contentType: 'image/jpeg' };

describe('Blob trigger', () => {
  it('gives the object as input and the host-read content in ctx.trigger.content', async () => {
    const f = fixture('blob-trigger.json');
    const content = Buffer.from(f.content, 'base64');
    const { seen, fn } = recorder();
    await handler({}, fn)(content, invocationContext(f.context, trigger.storageBlob({ path: 'photos/{name}', connection: 'AzureWebJobsStorage' })));
    expect(seen[0]!.input).toEqual({ ...photo, time: '2025-03-14T10:02:11+00:00' });
    const t = seen[0]!.ctx.trigger;
    expect(t).toMatchObject({ kind: 'storage', source: 'azure-blob', op: 'created', eventType: 'BlobTrigger', bucket: 'photos' });
    expect(t.kind === 'storage' && t.content?.equals(content)).toBe(true);
    expect(seen[0]!.ctx.deliveryId).toBe('photos/2025/summer photo (1).jpg@"0x8DD62E4A1B2C3D4"');
  });
});

describe('Event Grid trigger', () => {
  it('reads a BlobCreated event (Event Grid schema) as a storage trigger, container and name from data.url', async () => {
    const f = fixture('event-grid-blob-created.json');
    const { seen, fn } = recorder();
    await handler({}, fn)(structuredClone(f.event), invocationContext(f.context, trigger.eventGrid({})));
    expect(seen[0]!.input).toEqual({ ...photo, time: '2025-03-14T10:02:11.2048113Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'azure-event-grid', eventType: 'Microsoft.Storage.BlobCreated' });
    expect(seen[0]!.ctx.deliveryId).toBe('831e1650-001e-001b-66ab-eeb76e069631');
  });

  it('reads the container from an emulator URL by the Azure SDKs\' path-style rule (an IP, localhost, or a path-style port such as Azurite\'s 10000 under any host name)', async () => {
    const f = fixture('event-grid-blob-created.json');
    const urls: Array<[string, string]> = [
      ['http://127.0.0.1:10000/devstoreaccount1/photos/2025/summer%20photo%20(1).jpg', 'photos'],
      ['http://azurite:10000/devstoreaccount1/photos/2025/summer%20photo%20(1).jpg', 'photos'],
      ['http://localhost:10000/devstoreaccount1/photos/2025/summer%20photo%20(1).jpg', 'photos'],
      ['http://[::1]:10000/devstoreaccount1/photos/2025/summer%20photo%20(1).jpg', 'photos'],
      ['https://myaccount.blob.core.windows.net/photos/2025/summer%20photo%20(1).jpg', 'photos'],
    ];
    for (const [url, bucket] of urls) {
      const event = structuredClone(f.event);
      (Array.isArray(event) ? event[0] : event).data.url = url;
      const { seen, fn } = recorder();
      await handler({}, fn)(event, invocationContext(f.context, trigger.eventGrid({})));
      expect(seen[0]!.input, url).toMatchObject({ bucket, key: '2025/summer photo (1).jpg' });
    }
  });

  it('reads a BlobDeleted event in the CloudEvents schema, percent-decoding the name', async () => {
    const f = fixture('event-grid-cloudevent-blob-deleted.json');
    const { seen, fn } = recorder();
    await handler({}, fn)(structuredClone(f.event), invocationContext(f.context, trigger.eventGrid({})));
    expect(seen[0]!.input).toMatchObject({ op: 'deleted', bucket: 'photos', key: '2025/old report+1.pdf', contentType: 'application/pdf' });
  });

  it('runs any other event as a notification with its data as input', async () => {
    const f = fixture('event-grid-custom.json');
    const { seen, fn } = recorder();
    await handler({ input: z.object({ orderId: z.string() }) }, fn)(structuredClone(f.event), invocationContext(f.context, trigger.eventGrid({})));
    expect(seen[0]!.input).toEqual({ orderId: 'o-7001' });
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'notification',
      source: 'event-grid',
      topic: f.event.topic,
      messageId: '9b7e3f10-5c2d-4e8a-b1f0-3d6c9a2e7b41',
      type: 'Contoso.Orders.Shipped',
      subject: 'orders/o-7001',
      time: '2025-03-14T12:00:00.000Z',
      attributes: {},
      batchIndex: 0,
      batchSize: 1,
    });
  });

  it('throws a failure so Event Grid retries the delivery', async () => {
    const f = fixture('event-grid-custom.json');
    const thrown = await handler({}, () => {
      throw new Error('down');
    })(structuredClone(f.event), invocationContext(f.context, trigger.eventGrid({}))).catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['INTERNAL']) });
  });
});

describe('Event Hubs trigger (cardinality many)', () => {
  const eventHub = (): FunctionTrigger => trigger.eventHub({ eventHubName: 'readings', connection: 'EventHubConnection', cardinality: 'many' });

  it('runs each event in order with partition, sequence number, key and properties; beforeBatch once', async () => {
    const f = fixture('event-hubs-batch.json');
    const { seen, fn } = recorder();
    let batches = 0;
    await handler({ use: [{ name: 'b', beforeBatch: () => void batches++ }] }, fn)(structuredClone(f.events), invocationContext(f.context, eventHub()));
    expect(batches).toBe(1);
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-42', quantity: 2 }, 'plain text reading', { orderId: 'o-44', quantity: 1 }]);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'stream',
      source: 'azure-event-hubs',
      stream: 'readings',
      partition: '3',
      sequence: '1207',
      key: 'o-42',
      time: '2025-03-14T10:02:11.204Z',
      attributes: { source: 'sensor-a', 'x-opt-offset': '4294967296' },
      batchIndex: 0,
      batchSize: 3,
    });
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['steadydemo.servicebus.windows.net/readings/3/1207', 'steadydemo.servicebus.windows.net/readings/3/1208', 'steadydemo.servicebus.windows.net/readings/3/1209']);
    expect(seen[0]!.ctx.requestId).toBe(`${f.context.invocationId}:steadydemo.servicebus.windows.net/readings/3/1207`);
  });

  it('stops at the first failure and throws it, so the host retries the batch (with a retry policy)', async () => {
    const f = fixture('event-hubs-batch.json');
    const { seen, fn } = recorder((input) => {
      if (input === 'plain text reading') throw new TerminalError('BAD_READING', 'Not a reading');
    });
    const thrown = await handler({}, fn)(structuredClone(f.events), invocationContext(f.context, eventHub())).catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['BAD_READING']) });
    expect(seen).toHaveLength(2);
  });

  it('gives a binary event (dataType binary) as a Buffer', async () => {
    const f = fixture('event-hubs-batch.json');
    const { seen, fn } = recorder();
    const events = [Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('{"a":1}'), Buffer.from('12345678901234567890')];
    await handler({}, fn)(events, invocationContext(f.context, eventHub()));
    expect(seen.map((s) => s.input)).toEqual([Buffer.from([0xff, 0xfe, 0x00, 0x80]), { a: 1 }, '12345678901234567890']);
  });
});

describe('Cosmos DB trigger', () => {
  it('runs each changed document in order as an upsert keyed by id, delivery id from _rid and _lsn', async () => {
    const f = fixture('cosmosdb-batch.json');
    const { seen, fn } = recorder();
    const cosmos = trigger.cosmosDB({ connection: 'CosmosDBConnection', databaseName: 'shop', containerName: 'orders', createLeaseContainerIfNotExists: true });
    await handler({}, fn)(structuredClone(f.documents), invocationContext(f.context, cosmos));
    // Scoped by account (no endpoint in the app settings here: the connection setting's name), database and container.
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['CosmosDBConnection/shop/orders/q1YdAJ2lR5oBAAAAAAAAAA==@219', 'CosmosDBConnection/shop/orders/q1YdAJ2lR5oCAAAAAAAAAA==@220']);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'change',
      source: 'cosmosdb',
      collection: 'orders',
      op: 'upsert',
      key: 'o-42',
      sequence: '219',
      time: '2025-03-14T10:02:11.000Z',
      batchIndex: 0,
      batchSize: 2,
    });
    expect(seen[0]!.input).toMatchObject({ id: 'o-42', status: 'shipped', total: 19.99 });
  });

  it('names the account by its endpoint host from the connection app setting (identity-based or a connection string, whose key is never read into the id)', async () => {
    const f = fixture('cosmosdb-batch.json');
    const cosmos = (connection: string) => trigger.cosmosDB({ connection, databaseName: 'shop', containerName: 'orders' });
    const secret = 'c2VjcmV0LWtleS1uZXZlci1pbi1hbi1pZA==';
    const env = {
      CosmosA__accountEndpoint: 'https://acct-a.documents.azure.com:443/',
      CosmosB: `AccountEndpoint=https://acct-b.documents.azure.com:443/;AccountKey=${secret};`,
      // The key first, user info and a query in the endpoint: only the host is read.
      CosmosC: `AccountKey=${secret};AccountEndpoint=https://reader:${secret}@acct-c.documents.azure.com:443/?sig=${secret};`,
      // No endpoint at all (a key alone): the setting's name, never its value.
      CosmosD: `AccountKey=${secret};`,
    };
    const ids: Array<string | undefined> = [];
    const saved = { ...process.env };
    try {
      Object.assign(process.env, env);
      for (const connection of ['CosmosA', 'CosmosB', 'CosmosC', 'CosmosD']) {
        const { seen, fn } = recorder();
        await handler({}, fn)(structuredClone(f.documents), invocationContext(f.context, cosmos(connection)));
        ids.push(seen[0]!.ctx.deliveryId);
      }
    } finally {
      for (const name of Object.keys(env)) if (!(name in saved)) delete process.env[name];
    }
    // The same document and _lsn in two accounts: two deliveries.
    expect(ids).toEqual([
      'acct-a.documents.azure.com/shop/orders/q1YdAJ2lR5oBAAAAAAAAAA==@219',
      'acct-b.documents.azure.com/shop/orders/q1YdAJ2lR5oBAAAAAAAAAA==@219',
      'acct-c.documents.azure.com/shop/orders/q1YdAJ2lR5oBAAAAAAAAAA==@219',
      'CosmosD/shop/orders/q1YdAJ2lR5oBAAAAAAAAAA==@219',
    ]);
    expect(ids.join()).not.toContain(secret);
  });

  it('reads the all-versions-and-deletes shape with exact operations and before images', async () => {
    const f = fixture('cosmosdb-batch.json');
    const { seen, fn } = recorder();
    const doc = f.documents[0];
    const changes = [
      { current: doc, previous: { ...doc, status: 'placed' }, metadata: { operationType: 'replace', lsn: 219, crts: 1741946531 } },
      { previous: doc, metadata: { operationType: 'delete', lsn: 230, crts: 1741946600 } },
    ];
    await handler({}, fn)(changes, invocationContext(f.context, trigger.cosmosDB({ connection: 'c', databaseName: 'shop', containerName: 'orders' })));
    expect(seen.map((s) => (s.ctx.trigger.kind === 'change' ? s.ctx.trigger.op : ''))).toEqual(['update', 'delete']);
    expect(seen[0]!.ctx.trigger.kind === 'change' && seen[0]!.ctx.trigger.before).toMatchObject({ status: 'placed' });
    expect(seen[1]!.input).toMatchObject({ id: 'o-42', status: 'shipped' });
  });
});

describe('unrecognised Azure triggers', () => {
  it('run as direct, naming the declared trigger type', async () => {
    const { seen, fn } = recorder();
    const sql = new InvocationContext({ invocationId: 'i-9', functionName: 'f', options: { trigger: { type: 'sqlTrigger', name: 'changes', direction: 'in' } as FunctionTrigger }, logHandler: () => undefined });
    await handler({}, fn)([{ Operation: 0, Item: {} }], sql);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'azure', unrecognised: 'trigger type sqlTrigger' });
  });
});
