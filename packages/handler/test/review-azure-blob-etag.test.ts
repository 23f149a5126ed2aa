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
import { afterAll, describe, expect, it, vi } from 'vitest';
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

/**
 * Follow-up review: the two edge cases the ids above still got wrong, and the version a run is
 * for. Without blob versioning (`VersionId: null`) and without a content MD5 (a `Put Block List`
 * upload), two writes within one second of one size had one id, so the idempotency plugin
 * skipped the second as a duplicate: a SHA-256 of the content the host hands over stands in for
 * the MD5 now. With versioning on, `input.versionId` names the version (the S3 and Cloud Storage
 * triggers give theirs), and is absent — not `null` — without.
 */
describe('Azure blob trigger, Storage extension 5.x: versions without an ETag, MD5 or version id', () => {
  const noHash = PROPERTIES.replace('"SK/c+G9WfXJNIQ3lT17FkA=="', 'null');

  it('two writes within one second of one size and no MD5 but other bytes are two ids; the same bytes run again are one', async () => {
    const seen = await registered('blob-no-md5-same-second');
    const first = { bytes: Buffer.from('{"version":3}') };
    const second = { bytes: Buffer.from('{"version":4}') };
    expect(second.bytes.length).toBe(first.bytes.length);
    await worker.invoke('blob-no-md5-same-second', 'inv-s1', metadata(noHash), first);
    await worker.invoke('blob-no-md5-same-second', 'inv-s2', metadata(noHash), second);
    await worker.invoke('blob-no-md5-same-second', 'inv-s3', metadata(noHash), second); // the host runs the second write again
    const ids = seen.map((c) => c.deliveryId);
    expect(ids[1]).not.toBe(ids[0]);
    expect(ids[2]).toBe(ids[1]);
  });

  it('a stored content MD5 still names the version (the content is not hashed then)', async () => {
    const seen = await registered('blob-md5-kept');
    await worker.invoke('blob-md5-kept', 'inv-m1', metadata(PROPERTIES), content);
    expect(seen[0]!.deliveryId).toBe('myblob/output-metadata.json@2023-05-31T13:28:51+00:00/377/SK/c+G9WfXJNIQ3lT17FkA==');
  });

  it('the content is hashed only when the delivery id is read: a run that never reads it (no idempotency, no log) hashes nothing', async () => {
    const seen = await registered('blob-lazy-hash');
    const crypto = (process as unknown as { getBuiltinModule(id: string): typeof import('node:crypto') }).getBuiltinModule('node:crypto');
    const hashing = vi.spyOn(crypto, 'createHash');
    try {
      await worker.invoke('blob-lazy-hash', 'inv-l1', metadata(noHash), content);
      expect(seen).toHaveLength(1);
      const sha256 = () => hashing.mock.calls.filter(([algorithm]) => algorithm === 'sha256').length;
      expect(sha256()).toBe(0);
      // Read, it is the content's hash, worked out once.
      const id = seen[0]!.deliveryId;
      expect(id).toMatch(/^myblob\/output-metadata\.json@2023-05-31T13:28:51\+00:00\/377\/sha256:/);
      expect(seen[0]!.deliveryId).toBe(id);
      expect(sha256()).toBe(1);
    } finally {
      hashing.mockRestore();
    }
  });

  it('input.versionId is the version on an account with versioning, and absent without', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const inputs: unknown[] = [];
    app.storageBlob('blob-version-input', { path: 'myblob/{name}', connection: 'AzureWebJobsStorage', handler: handler({ logSink: () => undefined }, (input) => void inputs.push(input)) as never });
    const versioned = PROPERTIES.replace('"VersionId": null', '"VersionId": "2023-05-31T13:28:51.1234567Z"');
    await worker.invoke('blob-version-input', 'inv-v1', metadata(versioned), content);
    await worker.invoke('blob-version-input', 'inv-v2', metadata(PROPERTIES), content);
    expect(inputs[0]).toMatchObject({ bucket: 'myblob', key: 'output-metadata.json', versionId: '2023-05-31T13:28:51.1234567Z' });
    expect(inputs[1]).not.toHaveProperty('versionId');
  });

  it('(control) a name with spaces and parentheses is the name the host gives in BlobTrigger, not the percent-encoded Uri', async () => {
    const seen = await registered('blob-encoded-name');
    const meta = {
      ...metadata(PROPERTIES),
      BlobTrigger: { string: 'myblob/2025/summer photo (1)+%.jpg' },
      Uri: { string: 'https://testeinput.blob.core.windows.net/myblob/2025/summer%20photo%20(1)%2B%25.jpg' },
    };
    await worker.invoke('blob-encoded-name', 'inv-e1', meta, content);
    expect(seen[0]!.trigger).toMatchObject({ bucket: 'myblob', key: '2025/summer photo (1)+%.jpg' });
    expect(seen[0]!.deliveryId).toMatch(/^myblob\/2025\/summer photo \(1\)\+%\.jpg@/);
  });
});
