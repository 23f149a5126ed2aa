/**
 * Review finding: the blob trigger's `ctx.deliveryId` is `container/name@<ETag>`, the ETag read
 * from the trigger metadata's `Properties`. With the Storage extension 5.x (Azure.Storage.Blobs,
 * what every extension bundle since v3 loads) `Properties` is `BlobProperties`, which the host
 * serialises with Json.NET — and its `ETag` is an `Azure.ETag` struct with no public member, so
 * it arrives as `{}` (test/fixtures/samples/azure/host-blob-properties-v5.json, a payload the host
 * sent, unchanged; source in SOURCES.md). Every version of a blob then had the same delivery id
 * `container/name@`, so the idempotency plugin took an overwritten blob — which the host runs
 * again, its blob receipt being per ETag — for a duplicate of the first version and skipped it.
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts): `Properties` as the `json` TypedData the host sends.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const PROPERTIES = readFileSync(new URL('./fixtures/samples/azure/host-blob-properties-v5.json', import.meta.url), 'utf8');

async function registered(name: string): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  app.storageBlob(name, { path: 'myblob/{name}', connection: 'AzureWebJobsStorage', handler: main as never });
  return seen;
}

/** The host's RPC trigger metadata for `myblob/output-metadata.json` with these `Properties`. */
function metadata(properties: string): Record<string, unknown> {
  return {
    BlobTrigger: { string: 'myblob/output-metadata.json' },
    Uri: { string: 'https://testeinput.blob.core.windows.net/myblob/output-metadata.json' },
    Properties: { json: properties },
    Metadata: { json: '{}' },
    name: { string: 'output-metadata.json' },
  };
}

const content = { bytes: Buffer.from('{"version":3}') };

describe('Azure blob trigger, Storage extension 5.x: Properties.ETag arrives as {}', () => {
  it('keys each version of the blob apart (the last-modified time and content MD5 stand in for the ETag), and a rerun of one version alike', async () => {
    const seen = await registered('blob-etag-v5');
    // A version overwritten a second later, with other content (another MD5).
    const next = PROPERTIES.replace('"2023-05-31T13:28:51+00:00"', '"2023-05-31T13:28:52+00:00"').replace('SK/c+G9WfXJNIQ3lT17FkA==', 'eCccQ+cRr78B979+7PwDNg==');
    expect(next).not.toBe(PROPERTIES);
    await worker.invoke('blob-etag-v5', 'inv-b1', metadata(PROPERTIES), content);
    await worker.invoke('blob-etag-v5', 'inv-b2', metadata(PROPERTIES), content); // the host runs the same version again (a retry)
    await worker.invoke('blob-etag-v5', 'inv-b3', metadata(next), content);
    const ids = seen.map((c) => c.deliveryId);
    expect(ids).toHaveLength(3);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    for (const id of ids) expect(id).toMatch(/^myblob\/output-metadata\.json@.+/);
  });

  it('with no content MD5 (a block upload), the size keys two writes of one second apart; with versioning on, the version id names the version', async () => {
    const seen = await registered('blob-no-md5-v5');
    const noHash = PROPERTIES.replace('"SK/c+G9WfXJNIQ3lT17FkA=="', 'null');
    expect(noHash).not.toBe(PROPERTIES);
    const grown = noHash.replace('"ContentLength": 377', '"ContentLength": 378');
    expect(grown).not.toBe(noHash);
    const versioned = PROPERTIES.replace('"VersionId": null', '"VersionId": "2023-05-31T13:28:51.1234567Z"');
    expect(versioned).not.toBe(PROPERTIES);
    for (const [i, props] of [noHash, noHash, grown, versioned].entries()) await worker.invoke('blob-no-md5-v5', `inv-n${i}`, metadata(props), content);
    const ids = seen.map((c) => c.deliveryId);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[3]).toBe('myblob/output-metadata.json@2023-05-31T13:28:51.1234567Z');
  });

  it('reads the rest of the 5.x properties: size, type and time, and leaves etag out rather than an object', async () => {
    const seen = await registered('blob-props-v5');
    await worker.invoke('blob-props-v5', 'inv-b4', metadata(PROPERTIES), content);
    expect(seen[0]!.trigger).toEqual(
      expect.objectContaining({ kind: 'storage', source: 'azure-blob', op: 'created', bucket: 'myblob', key: 'output-metadata.json', size: 377, contentType: 'application/json' }),
    );
    expect(seen[0]!.trigger).not.toHaveProperty('etag');
  });
});
