/**
 * Microsoft's published Blob Storage events ("Azure Blob Storage as an Event Grid source",
 * MicrosoftDocs/azure-docs `articles/event-grid/event-schema-blob-storage.md`; files in
 * test/fixtures/samples/azure, sources in SOURCES.md), data unchanged, in the Event Grid schema
 * and the CloudEvents schema, through the root entry and `@steadyfn/handler/azure` with the real
 * `@azure/functions` `InvocationContext` of an Event Grid trigger (`trigger.eventGrid`). The
 * Event Grid trigger hands the function one event; the docs show each in the array Event Grid
 * posts, so each test takes the array's one element.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { azureBoth } from './support/azure.js';
import { failWhenAsked, sample, type Json } from './support/published.js';

/** Runs one Event Grid event through both entries; they must agree. */
function eventGrid(event: unknown, result: (input: unknown) => unknown = () => undefined) {
  return azureBoth(event, { invocationId: 'f1d2c3b4-0000-4000-8000-000000000001', functionName: 'blobs', triggerMetadata: {} }, trigger.eventGrid({}), result);
}

const only = (name: string): Json => (sample('azure', name) as unknown as Json[])[0]!;
const ACCOUNT = '/subscriptions/{subscription-id}/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account';

describe('Azure Event Grid: the published Blob Storage events', () => {
  it('Event Grid schema BlobCreated: container and name from the subject, the quoted ETag and size kept, keyed by the event id; a failure is thrown for Event Grid to retry', async () => {
    const event = only('docs-eventgrid-blob-created.json');
    const { seen, outcome } = await eventGrid(event);
    expect(outcome).toEqual({ value: undefined });
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'test-container', key: 'new-file.txt', size: 524288, etag: '"0x8D4BCC2E4835CD0"', contentType: 'text/plain', time: '2017-06-26T18:41:00.9584103Z' });
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'storage', source: 'azure-event-grid', op: 'created', eventType: 'Microsoft.Storage.BlobCreated', bucket: 'test-container', key: 'new-file.txt', size: 524288, etag: '"0x8D4BCC2E4835CD0"', contentType: 'text/plain', batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('831e1650-001e-001b-66ab-eeb76e069631');
    const failed = await eventGrid(event, () => failWhenAsked({ fail: true }));
    expect(failed.outcome).toEqual({ error: 'INTERNAL' });
  });

  it('Event Grid schema BlobDeleted: a deletion of the blob the subject names, without size or ETag', async () => {
    const { seen } = await eventGrid(only('docs-eventgrid-blob-deleted.json'));
    expect(seen[0]!.input).toEqual({ op: 'deleted', bucket: 'testcontainer', key: 'file-to-delete.txt', contentType: 'text/plain', time: '2017-11-07T20:09:22.5674003Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', op: 'deleted', eventType: 'Microsoft.Storage.BlobDeleted', bucket: 'testcontainer', key: 'file-to-delete.txt' });
    expect(seen[0]!.ctx.deliveryId).toBe('4c2359fe-001e-00ba-0e04-58586806d298');
  });

  it('CloudEvents schema BlobCreated on Data Lake Storage Gen2 (CreateFile, zero length): the file in its file system', async () => {
    const { seen } = await eventGrid(only('docs-cloudevent-dls-blob-created.json'));
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'my-file-system', key: 'new-file.txt', size: 0, etag: '"0x8D4BCC2E4835CD0"', contentType: 'text/plain', time: '2017-06-26T18:41:00.9584103Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'azure-event-grid', op: 'created', bucket: 'my-file-system', key: 'new-file.txt', size: 0 });
    expect(seen[0]!.ctx.deliveryId).toBe('831e1650-001e-001b-66ab-eeb76e069631');
  });

  it.each([
    ['docs-cloudevent-dls-blob-renamed.json', 'Microsoft.Storage.BlobRenamed', '/blobServices/default/containers/my-file-system/blobs/my-renamed-file.txt'],
    ['docs-cloudevent-dls-directory-deleted.json', 'Microsoft.Storage.DirectoryDeleted', '/blobServices/default/containers/my-file-system/blobs/directory-to-delete'],
  ])('CloudEvents schema %s: not one blob created or deleted, so a notification with its data unchanged and the subject kept', async (file, type, subject) => {
    const event = only(file);
    const { seen } = await eventGrid(event);
    expect(seen[0]!.input).toEqual(event.data);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'notification', source: 'event-grid', topic: ACCOUNT, messageId: '831e1650-001e-001b-66ab-eeb76e069631', type, subject, time: '2017-06-26T18:41:00.9584103Z', attributes: {}, batchIndex: 0, batchSize: 1 });
  });
});
