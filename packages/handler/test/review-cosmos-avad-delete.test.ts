/**
 * A Cosmos DB trigger in all-versions-and-deletes mode (`changeFeedMode: 'AllVersionsAndDeletes'`,
 * `@azure/functions` `CosmosDBv4ChangeFeedItem`). The entries follow the shapes Microsoft
 * documents ("Change feed modes in Azure Cosmos DB", All versions and deletes mode, "Parse the
 * response object"; MicrosoftDocs/azure-databases-docs `articles/cosmos-db/change-feed-modes.md`):
 * a create and a replace carry `current` and `metadata`; a delete carries only `metadata`, with
 * the deleted item's `id` and `partitionKey` there — no `current`, no `previous` ("Receiving the
 * previous version of items that were deleted or updated isn't currently available"). The
 * library's own type allows `current: null` as well.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { invocationContext } from './support/azure.js';
import { handler } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { recorder } from './support/published.js';

const context = { invocationId: '5b3c2a10-7e4d-4c1b-9a8f-1d2e3f4a5b6c', functionName: 'onOrderChange', triggerMetadata: {} };
const options = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'shop', containerName: 'orders', createLeaseContainerIfNotExists: true, changeFeedMode: 'AllVersionsAndDeletes' } as Parameters<typeof trigger.cosmosDB>[0]);

const changes = [
  { current: { id: 'o-1', customerId: 'c-7', status: 'placed', _rid: 'AAAA', _etag: '"0b00-1"', _ts: 1735689500 }, metadata: { operationType: 'create', lsn: 15, crts: 1735689500 } },
  { current: { id: 'o-1', customerId: 'c-7', status: 'shipped', _rid: 'AAAA', _etag: '"0b00-2"', _ts: 1735689550 }, metadata: { operationType: 'replace', lsn: 16, crts: 1735689550, previousImageLSN: 15 } },
  { metadata: { operationType: 'delete', lsn: 17, crts: 1735689600, previousImageLSN: 16, timeToLiveExpired: false, id: 'o-1', partitionKey: { customerId: 'c-7' } } },
];

describe('Cosmos DB all-versions-and-deletes: a delete carries its id only in metadata', () => {
  it.each(['root', 'azure'] as const)('%s entry: create, replace and delete each run, the delete keyed by metadata.id (delivery id: its partition key and id)', async (entry) => {
    const { seen, fn } = recorder();
    const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : azureHandler({ logSink: () => undefined }, fn);
    await main(structuredClone(changes), invocationContext(context, options));
    expect(seen.map((s) => s.ctx.trigger)).toMatchObject([
      { kind: 'change', source: 'cosmosdb', collection: 'orders', op: 'insert', key: 'o-1', sequence: '15' },
      { kind: 'change', source: 'cosmosdb', collection: 'orders', op: 'update', key: 'o-1', sequence: '16' },
      { kind: 'change', source: 'cosmosdb', collection: 'orders', op: 'delete', key: 'o-1', sequence: '17' },
    ]);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['CosmosDB/shop/orders/AAAA@15', 'CosmosDB/shop/orders/AAAA@16', 'CosmosDB/shop/orders/[{"customerId":"c-7"},"o-1"]@17']);
    // What is known of the deleted item: its id and partition key.
    expect(seen[2]!.input).toEqual({ id: 'o-1', customerId: 'c-7' });
    expect(seen[2]!.ctx.trigger).not.toHaveProperty('before');
  });

  // `current: null` is what the library's type allows; `current: {}` is what the Cosmos DB Java
  // SDK's own full-fidelity test reads for a delete (azure-sdk-for-java: `get("current")` isEmpty).
  it.each([null, {}])('a delete whose current is %j is a delete too, keyed by metadata.id', async (current) => {
    const { seen, fn } = recorder();
    const entry = { current, metadata: { operationType: 'delete', lsn: 17, crts: 1735689600, previousImageLSN: 16, timeToLiveExpired: true, id: 'o-2', partitionKey: { customerId: 'c-8' } } };
    await handler({ logSink: () => undefined }, fn)([entry], invocationContext(context, options));
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', op: 'delete', key: 'o-2', sequence: '17', time: '2025-01-01T00:00:00.000Z' });
    expect(seen[0]!.input).toEqual({ id: 'o-2', customerId: 'c-8' });
  });
});
