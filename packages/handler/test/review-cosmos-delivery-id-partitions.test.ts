/**
 * Review finding (rvh): a Cosmos DB document `id` is unique only per partition key value, and
 * `_lsn` counts per physical partition, so the delivery id `<account>/<db>/<container>/<id>@<_lsn>`
 * gave two tenants' documents `id: 'settings'` changed at `_lsn: 42` one delivery id — and
 * idempotency (keyed by `ctx.deliveryId`) replayed the second change as a duplicate of the
 * first: a lost change. The delivery id is now scoped by the document's `_rid` (unique per
 * document in the container; Azure docs "Azure Cosmos DB trigger", system properties `_rid`,
 * `_etag`, `_ts`, `_lsn` as in test/fixtures/azure/published/cosmos-latest.json), and an
 * all-versions-and-deletes delete, which carries no document, by its partition key and id.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { azureBoth } from './support/azure.js';

const context = { invocationId: '0f6c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5', functionName: 'onSettings', triggerMetadata: {} };
const latest = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'shop', containerName: 'settings' });
const avad = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'shop', containerName: 'settings', changeFeedMode: 'AllVersionsAndDeletes' } as Parameters<typeof trigger.cosmosDB>[0]);

const tenantA = { id: 'settings', tenantId: 'a', _rid: 'Jm0hAJ3Ep7YBAAAAAAAAAA==', _ts: 1735689500, _lsn: 42 };
const tenantB = { id: 'settings', tenantId: 'b', _rid: 'Jm0hAJ3Ep7YCAAAAAAAAAA==', _ts: 1735689501, _lsn: 42 };

describe('Cosmos DB delivery id: one id in two partitions is two documents', () => {
  it('two tenants\u2019 documents with one id at one _lsn, in two calls, get two delivery ids (by _rid)', async () => {
    const first = await azureBoth([tenantA], context, latest);
    const second = await azureBoth([tenantB], { ...context, invocationId: '1a7d2e3f-4b5c-4d6e-9f00-b1c2d3e4f5a6' }, latest);
    const ids = [first.seen[0]!.ctx.deliveryId, second.seen[0]!.ctx.deliveryId];
    expect(ids).toEqual(['CosmosDB/shop/settings/Jm0hAJ3Ep7YBAAAAAAAAAA==@42', 'CosmosDB/shop/settings/Jm0hAJ3Ep7YCAAAAAAAAAA==@42']);
    // The key stays the document id; the partition key is in the document.
    expect([first.seen[0]!.ctx.trigger, second.seen[0]!.ctx.trigger]).toMatchObject([{ key: 'settings' }, { key: 'settings' }]);
    expect(second.seen[0]!.input).toMatchObject({ tenantId: 'b' });
  });

  it('all versions and deletes: current._rid, previous._rid without current, and [partitionKey, id] for a delete with no document', async () => {
    const entries = [
      { current: tenantA, metadata: { operationType: 'replace', lsn: 42, crts: 1735689500 } },
      { current: null, previous: tenantB, metadata: { operationType: 'delete', lsn: 43, crts: 1735689502, id: 'settings', partitionKey: { tenantId: 'b' } } },
      { metadata: { operationType: 'delete', lsn: 44, crts: 1735689503, id: 'settings', partitionKey: { tenantId: 'a' } } },
      { metadata: { operationType: 'delete', lsn: 44, crts: 1735689503, id: 'settings', partitionKey: { tenantId: 'b' } } },
    ];
    const { seen } = await azureBoth(entries, context, avad);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual([
      'CosmosDB/shop/settings/Jm0hAJ3Ep7YBAAAAAAAAAA==@42',
      'CosmosDB/shop/settings/Jm0hAJ3Ep7YCAAAAAAAAAA==@43',
      'CosmosDB/shop/settings/[{"tenantId":"a"},"settings"]@44',
      'CosmosDB/shop/settings/[{"tenantId":"b"},"settings"]@44',
    ]);
  });

  it('a hierarchical partition key is read in one canonical order, whatever order its values came in', async () => {
    const del = (partitionKey: Record<string, unknown>) => [{ metadata: { operationType: 'delete', lsn: 7, crts: 1735689503, id: 's', partitionKey } }];
    const one = await azureBoth(del({ tenantId: 'a', region: 'eu' }), context, avad);
    const two = await azureBoth(del({ region: 'eu', tenantId: 'a' }), context, avad);
    expect(one.seen[0]!.ctx.deliveryId).toBe('CosmosDB/shop/settings/[{"region":"eu","tenantId":"a"},"s"]@7');
    expect(two.seen[0]!.ctx.deliveryId).toBe(one.seen[0]!.ctx.deliveryId);
  });
});
