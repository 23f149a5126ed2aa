/**
 * Review finding: a blob trigger with `dataType: 'string'` gets the blob as text the host decoded
 * as UTF-8, every invalid byte sequence replaced by U+FFFD. Without an ETag (Storage extension
 * 5.x sends `{}`), version id or content MD5 (a block upload), the delivery id's version was a
 * SHA-256 of that text: two Latin-1 files of one size written within one second (`café` and
 * `cafè`: `E9` and `E8` both decode to U+FFFD) had one id, and `@steadyfn/idempotency` skipped
 * the second as a duplicate. Text holding U+FFFD does not name the bytes: the delivery id is the
 * invocation's id then (each run its own delivery, as a timer run on startup is) — a version run
 * again runs again rather than two versions taken for one. Text without U+FFFD is the blob's
 * bytes decoded exactly and is still hashed.
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts), the content as the `string` TypedData the host sends.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

/** The 5.x `Properties` the host sent, without a content MD5 (a block upload). */
const NO_MD5 = readFileSync(new URL('./fixtures/samples/azure/host-blob-properties-v5.json', import.meta.url), 'utf8').replace('"SK/c+G9WfXJNIQ3lT17FkA=="', 'null');

async function registered(name: string): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  // `dataType` is a host binding setting (function.json / `trigger.generic`): here the host's `string` TypedData stands for it.
  app.storageBlob(name, { path: 'myblob/{name}', connection: 'AzureWebJobsStorage', handler: handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)) as never });
  return seen;
}

const metadata = (): Record<string, unknown> => ({
  BlobTrigger: { string: 'myblob/prices.csv' },
  Uri: { string: 'https://testeinput.blob.core.windows.net/myblob/prices.csv' },
  Properties: { json: NO_MD5 },
  Metadata: { json: '{}' },
  name: { string: 'prices.csv' },
});

/** What the host sends for these bytes under `dataType: 'string'` (.NET's UTF-8 decode). */
const asHostText = (bytes: Buffer): { string: string } => ({ string: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) });

describe('Azure blob trigger, dataType: string, no ETag, version id or MD5', () => {
  it('two blobs whose text lost bytes to U+FFFD are two deliveries, not one', async () => {
    const seen = await registered('blob-string-lossy');
    const cafeAcute = Buffer.from('caf\xe9;1\n', 'latin1');
    const cafeGrave = Buffer.from('caf\xe8;1\n', 'latin1');
    expect(asHostText(cafeAcute)).toEqual(asHostText(cafeGrave));
    await worker.invoke('blob-string-lossy', 'inv-l1', metadata(), asHostText(cafeAcute));
    await worker.invoke('blob-string-lossy', 'inv-l2', metadata(), asHostText(cafeGrave));
    expect(seen.map((c) => c.deliveryId)).toEqual(['inv-l1', 'inv-l2']);
  });

  it('(control) UTF-8 text names its bytes: still hashed, one id for the same version run again, two for other text', async () => {
    const seen = await registered('blob-string-utf8');
    await worker.invoke('blob-string-utf8', 'inv-u1', metadata(), { string: 'café;1\n' });
    await worker.invoke('blob-string-utf8', 'inv-u2', metadata(), { string: 'café;1\n' });
    await worker.invoke('blob-string-utf8', 'inv-u3', metadata(), { string: 'cafe;12\n' });
    const ids = seen.map((c) => c.deliveryId);
    expect(ids[0]).toMatch(/^myblob\/prices\.csv@2023-05-31T13:28:51\+00:00\/377\/sha256:/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});
