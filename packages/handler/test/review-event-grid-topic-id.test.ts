/**
 * An Event Grid event's `id` is chosen by whoever publishes it ("Unique identifier for the
 * event", set by the publisher of a custom topic; the `topic` is stamped by Event Grid and "isn't
 * writeable"; in the CloudEvents schema "the combination of id and source must be unique for each
 * distinct event", @azure/eventgrid `SendCloudEventInput`). One function subscribed to two topics
 * whose publishers both number their events from 1 got one `ctx.deliveryId` for two events, so
 * `@steadyfn/idempotency` (key `'auto'`) answered the second with the first's result. The key is
 * now `<topic>#<id>` (CloudEvents schema: `<source>#<id>`), escaped as for a Cloud Functions
 * CloudEvent; a redelivery keeps it. Run with the real `@azure/functions` `InvocationContext`
 * through both entries.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { azureBoth } from './support/azure.js';

const context = { invocationId: 'f1d2c3b4-0000-4000-8000-000000000002', functionName: 'onOrder', triggerMetadata: {} };
const topicOf = (name: string): string => `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shop/providers/Microsoft.EventGrid/topics/${name}`;

function gridEvent(topic: string, id: string) {
  return { id, topic, subject: 'orders/o-1', eventType: 'Shop.Order.Placed', eventTime: '2025-03-14T12:00:00.000Z', data: { order: id }, dataVersion: '1.0', metadataVersion: '1' };
}

function cloudEvent(source: string, id: string) {
  return { specversion: '1.0', id, source, type: 'Shop.Order.Placed', time: '2025-03-14T12:00:00.000Z', datacontenttype: 'application/json', data: { order: id } };
}

async function keyOf(event: unknown): Promise<string | undefined> {
  const { seen } = await azureBoth(event, context, trigger.eventGrid({}));
  return seen[0]!.ctx.deliveryId;
}

describe('Event Grid: one delivery per (topic, id), not per id', () => {
  it('Event Grid schema: event 1 of two topics has two keys, <topic>#<id>; a redelivery keeps its key', async () => {
    const a = await keyOf(gridEvent(topicOf('eu-orders'), '1'));
    const b = await keyOf(gridEvent(topicOf('us-orders'), '1'));
    expect(a).toBe(`${topicOf('eu-orders')}#1`);
    expect(b).toBe(`${topicOf('us-orders')}#1`);
    expect(await keyOf(gridEvent(topicOf('eu-orders'), '1'))).toBe(a);
  });

  it('CloudEvents schema: <source>#<id>, and a # in the source or the id does not join two pairs into one key', async () => {
    const keys = await Promise.all([
      keyOf(cloudEvent('/shop/orders#eu', '7')),
      keyOf(cloudEvent('/shop/orders', 'eu#7')),
      keyOf(cloudEvent('/shop/orders', 'eu%237')),
      keyOf(cloudEvent('/shop/refunds', 'eu#7')),
    ]);
    expect(keys).toEqual(['/shop/orders#eu#7', '/shop/orders#eu%237', '/shop/orders#eu%25237', '/shop/refunds#eu%237']);
  });

  it('a Blob Storage event keeps the id Azure Storage generated', async () => {
    const event = { ...gridEvent(topicOf('acct'), '831e1650-001e-001b-66ab-eeb76e069631'), eventType: 'Microsoft.Storage.BlobCreated', subject: '/blobServices/default/containers/c/blobs/b.txt', data: { url: 'https://acct.blob.core.windows.net/c/b.txt' } };
    expect(await keyOf(event)).toBe('831e1650-001e-001b-66ab-eeb76e069631');
  });
});
