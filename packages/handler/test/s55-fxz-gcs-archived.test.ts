/**
 * s55-fxz (review rve): a Cloud Storage `archived` event was reported as a plain `deleted`. Per
 * Google (Cloud Storage "Pub/Sub notifications", event types; Eventarc
 * `google.cloud.storage.object.v1.archived`), `archived` means a live generation became
 * noncurrent in a versioned bucket — the object was deleted OR overwritten — so the key may
 * still have a live generation; `deleted` means a generation was permanently deleted, which in a
 * bucket without versioning also fires for the old generation of an overwritten object. A
 * portable function that drops its index on `op: 'deleted'` had nothing to tell them by. Now
 * `archived` keeps `op: 'deleted'` (no breaking change) with `noncurrent: true` on the input and
 * the trigger, and `versionId` is the generation also when an event carries it as a number.
 *
 * The google-cloudevents samples (`examples/binary/storage/StorageObjectData-simple.json`,
 * `-complex.json`: test/fixtures/samples/gcp, see SOURCES.md there) sent as Eventarc pushes
 * them (binary content mode) to the Functions Framework's own server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { storageObject } from '../src/schemas.js';
import { closeServers, serve } from './support/gcp-server.js';
import { sample } from './support/published.js';

afterAll(closeServers);

const SOURCE = '//storage.googleapis.com/projects/_/buckets/sample-bucket';

/** The sample pushed as a CloudEvent of `type`; what the function (with `input: storageObject()`) saw. */
async function push(type: string, data: unknown): Promise<{ status: number; seen: Array<{ input: unknown; ctx: Context }> }> {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  const main = handler({ input: storageObject(), logSink: () => undefined }, (input, ctx) => void seen.push({ input, ctx }));
  const url = await serve('cloudEvent', main);
  const headers = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': type, 'ce-source': SOURCE, 'ce-id': `gcs-${type}`, 'ce-time': '2021-02-05T04:06:14.109Z', 'ce-subject': 'objects/folder/Test.cs' };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(data) });
  await res.arrayBuffer();
  return { status: res.status, seen };
}

describe('Cloud Storage archived: a noncurrent generation, not a deleted key', () => {
  it('StorageObjectData-simple.json as archived: op deleted, noncurrent, the generation as versionId', async () => {
    const { status, seen } = await push('google.cloud.storage.object.v1.archived', sample('gcp', 'storage-object-simple.json'));
    expect(status).toBe(204);
    expect(seen[0]!.input).toEqual({
      op: 'deleted',
      noncurrent: true,
      bucket: 'sample-bucket',
      key: 'folder/Test.cs',
      size: 352,
      etag: 'CNHZkbuF/ugCEAE=',
      contentType: 'text/plain',
      versionId: '1587627537231057',
      time: '2021-02-05T04:06:14.109Z',
    });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'deleted', noncurrent: true, eventType: 'google.cloud.storage.object.v1.archived' });
  });

  it('the same object as deleted or finalized: no noncurrent', async () => {
    for (const [type, op] of [['google.cloud.storage.object.v1.deleted', 'deleted'], ['google.cloud.storage.object.v1.finalized', 'created']] as const) {
      const { seen } = await push(type, sample('gcp', 'storage-object-simple.json'));
      expect(seen[0]!.input).toMatchObject({ op, versionId: '1587627537231057' });
      expect(seen[0]!.input).not.toHaveProperty('noncurrent');
      expect(seen[0]!.ctx.trigger).not.toHaveProperty('noncurrent');
    }
  });

  it('StorageObjectData-complex.json (numbers where the schema has strings) as archived: the numeric generation is the versionId', async () => {
    const { seen } = await push('google.cloud.storage.object.v1.archived', sample('gcp', 'storage-object-complex.json'));
    expect(seen[0]!.input).toMatchObject({ op: 'deleted', noncurrent: true, key: 'MyFile', versionId: '96883251' });
  });
});
