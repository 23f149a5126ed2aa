/**
 * Every Blob Storage / Data Lake Storage Gen2 event type Microsoft documents ("Azure Blob Storage
 * as an Event Grid source", https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage),
 * in the Event Grid schema and the CloudEvents schema: each is either a `storage` item whose key is
 * the blob the event is about, or a `notification` item that keeps the subject — never a storage
 * item with a wrong key. Payloads follow the documented samples (ids, accounts and sequencers
 * shortened); only the fields the parser reads matter.
 */
import { describe, expect, it } from 'vitest';
import { eventGridItems } from '../src/events/event-grid.js';

type Json = Record<string, unknown>;
const TOPIC = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account';

/** The documented events, as [eventType, subject, data]. */
const DOCUMENTED: [string, string, Json][] = [
  ['Microsoft.Storage.BlobCreated', '/blobServices/default/containers/test-container/blobs/new-file.txt', { api: 'PutBlockList', contentType: 'text/plain', contentLength: 524288, blobType: 'BlockBlob', url: 'https://my-storage-account.blob.core.windows.net/test-container/new-file.txt' }],
  ['Microsoft.Storage.BlobCreated', '/blobServices/default/containers/my-file-system/blobs/new-file.txt', { api: 'FlushWithClose', contentType: 'text/plain', contentLength: 0, blobType: 'BlockBlob', url: 'https://my-storage-account.dfs.core.windows.net/my-file-system/new-file.txt' }],
  ['Microsoft.Storage.BlobDeleted', '/blobServices/default/containers/testcontainer/blobs/file-to-delete.txt', { api: 'DeleteBlob', contentType: 'text/plain', blobType: 'BlockBlob', url: 'https://my-storage-account.blob.core.windows.net/testcontainer/file-to-delete.txt' }],
  ['Microsoft.Storage.BlobDeleted', '/blobServices/default/containers/my-file-system/blobs/new-file.txt', { api: 'DeleteFile', contentType: 'text/plain', blobType: 'BlockBlob', url: 'https://my-storage-account.dfs.core.windows.net/my-file-system/new-file.txt', recursive: 'false' }],
  ['Microsoft.Storage.BlobTierChanged', '/blobServices/default/containers/testcontainer/blobs/Auto.jpg', { api: 'SetBlobTier', contentType: 'image/jpeg', contentLength: 105891, blobType: 'BlockBlob', url: 'https://my-storage-account.blob.core.windows.net/testcontainer/Auto.jpg' }],
  ['Microsoft.Storage.AsyncOperationInitiated', '/blobServices/default/containers/testcontainer/blobs/00000.avro', { api: 'SetBlobTier', contentType: 'image/jpeg', contentLength: 105891, blobType: 'BlockBlob', url: 'https://my-storage-account.blob.core.windows.net/testcontainer/00000.avro' }],
  ['Microsoft.Storage.BlobRenamed', '/blobServices/default/containers/my-file-system/blobs/my-renamed-file.txt', { api: 'RenameFile', sourceUrl: 'https://my-storage-account.dfs.core.windows.net/my-file-system/my-original-file.txt', destinationUrl: 'https://my-storage-account.dfs.core.windows.net/my-file-system/my-renamed-file.txt' }],
  ['Microsoft.Storage.DirectoryCreated', '/blobServices/default/containers/my-file-system/blobs/my-new-directory', { api: 'CreateDirectory', url: 'https://my-storage-account.dfs.core.windows.net/my-file-system/my-new-directory' }],
  ['Microsoft.Storage.DirectoryRenamed', '/blobServices/default/containers/my-file-system/blobs/my-renamed-directory', { api: 'RenameDirectory', sourceUrl: 'https://my-storage-account.dfs.core.windows.net/my-file-system/my-original-directory', destinationUrl: 'https://my-storage-account.dfs.core.windows.net/my-file-system/my-renamed-directory' }],
  ['Microsoft.Storage.DirectoryDeleted', '/blobServices/default/containers/my-file-system/blobs/directory-to-delete', { api: 'DeleteDirectory', url: 'https://my-storage-account.dfs.core.windows.net/my-file-system/directory-to-delete', recursive: 'false' }],
  ['Microsoft.Storage.BlobInventoryPolicyCompleted', 'BlobDataManagement/BlobInventory', { scheduleDateTime: '2021-05-28T03:50:27Z', accountName: 'testaccount', ruleName: 'Rule_1', policyRunStatus: 'Succeeded', manifestBlobUrl: 'https://testaccount.blob.core.windows.net/inventory-destination-container/2021/05/26/13-25-36/Rule_1/Rule_1.csv' }],
  ['Microsoft.Storage.LifecyclePolicyCompleted', '/blobServices/default/containers/some-container/blobs/some-blob', { scheduleTime: '2022/05/24 22:57:29.3260160', deleteSummary: { totalObjectsCount: 16, successCount: 14, errorList: '' } }],
];

/** What each type must become: the blob's op, or a notification. */
const STORAGE_OP: Record<string, string> = {
  'Microsoft.Storage.BlobCreated': 'created',
  'Microsoft.Storage.BlobDeleted': 'deleted',
  'Microsoft.Storage.BlobTierChanged': 'updated',
};

function gridSchema([eventType, subject, data]: [string, string, Json]): Json {
  return { topic: TOPIC, subject, eventType, id: 'e-1', data, dataVersion: '', metadataVersion: '1', eventTime: '2021-05-04T15:00:00.8350154Z' };
}
function cloudEvent([eventType, subject, data]: [string, string, Json]): Json {
  return { source: TOPIC, subject, type: eventType, id: 'e-1', data, specversion: '1.0', time: '2021-05-04T15:00:00.8350154Z' };
}

describe.each([
  ['Event Grid schema', gridSchema],
  ['CloudEvents schema', cloudEvent],
])('documented blob event types, %s', (_schema, shape) => {
  it.each(DOCUMENTED.map((d) => [d[0], d[1], d] as const))('%s %s', (eventType, subject, documented) => {
    const [item] = eventGridItems(shape(documented), { body: 'auto' });
    const t = item!.trigger as unknown as Json;
    const op = STORAGE_OP[eventType];
    if (op) {
      const m = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject)!;
      expect(t).toMatchObject({ kind: 'storage', source: 'azure-event-grid', op, eventType, bucket: m[1], key: m[2] });
    } else {
      expect(t).toMatchObject({ kind: 'notification', source: 'event-grid', type: eventType, subject });
      expect(t).not.toHaveProperty('key');
    }
  });
});
