/**
 * Review finding: `ctx.deliveryId` is stable across redeliveries, never the per-attempt request
 * id. A blob trigger with `dataType: 'string'` whose text held U+FFFD (bytes the host could not
 * decode as UTF-8), with no ETag (Storage extension 5.x sends `{}`), version id or content MD5
 * (a block upload), had the invocation id as its delivery id. The host retries a failed blob
 * invocation (up to 5 times) under a new invocation id, so every retry was a new delivery:
 * `@steadyfn/idempotency` ran the function again and `@steadyfn/outbox` wrote again. The version
 * is again a SHA-256 of the text the host handed over, for text with and without U+FFFD; the
 * price is documented (two writes of one blob within one second, of one size, whose bytes the
 * host decodes to the same text are one id).
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

/** The 5.x `Properties` the host sent (`ETag: {}`, `VersionId: null`), without a content MD5 (a block upload). */
const NO_MD5 = readFileSync(new URL('./fixtures/samples/azure/host-blob-properties-v5.json', import.meta.url), 'utf8').replace('"SK/c+G9WfXJNIQ3lT17FkA=="', 'null');

async function registered(name: string): Promise<Context[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Context[] = [];
  const options = { path: 'myblob/{name}', connection: 'AzureWebJobsStorage', handler: handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx)) as never };
  // `dataType` is a binding property the host reads (function metadata), not in @azure/functions' option type.
  app.storageBlob(name, { ...options, dataType: 'string' } as typeof options);
  return seen;
}

const metadata = (): Record<string, unknown> => ({
  BlobTrigger: { string: 'myblob/prices.csv' },
  Uri: { string: 'https://testeinput.blob.core.windows.net/myblob/prices.csv' },
  Properties: { json: NO_MD5 },
  Metadata: { json: '{}' },
  name: { string: 'prices.csv' },
});

/**
 * What the host sends for these bytes under `dataType: 'string'`: the Storage extension reads
 * the blob with .NET's `new StreamReader(stream)`, UTF-8 unless a byte order mark names another
 * encoding (the mark dropped, a UTF-8 one too), invalid sequences U+FFFD. UTF-32 marks are not
 * modelled (TextDecoder has no UTF-32).
 */
function asHostText(bytes: Buffer): { string: string } {
  const [b0, b1, b2, b3] = bytes;
  if ((b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) || (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff)) throw new Error('UTF-32 byte order mark: not modelled');
  const label = b0 === 0xfe && b1 === 0xff ? 'utf-16be' : b0 === 0xff && b1 === 0xfe ? 'utf-16le' : 'utf-8';
  return { string: new TextDecoder(label).decode(bytes) };
}

describe('Azure blob trigger, dataType: string, no ETag, version id or MD5', () => {
  it.each([
    ['text holding U+FFFD', 'caf\uFFFD'],
    ['UTF-8 text', 'café;1\n'],
  ])('a host retry of the same blob (new invocation id) keeps the delivery id: %s', async (label, text) => {
    const name = `blob-retry-${label.replace(/\W+/g, '-')}`;
    const seen = await registered(name);
    await worker.invoke(name, 'attempt-1', metadata(), { string: text });
    await worker.invoke(name, 'attempt-2', metadata(), { string: text });
    const ids = seen.map((c) => c.deliveryId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^myblob\/prices\.csv@2023-05-31T13:28:51\+00:00\/377\/sha256:/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('(documented limit) two writes whose bytes decode to the same text are one id; other text is another', async () => {
    const seen = await registered('blob-retry-limit');
    const cafeAcute = asHostText(Buffer.from('caf\xe9;1\n', 'latin1'));
    const cafeGrave = asHostText(Buffer.from('caf\xe8;1\n', 'latin1'));
    expect(cafeAcute).toEqual(cafeGrave);
    await worker.invoke('blob-retry-limit', 'inv-1', metadata(), cafeAcute);
    await worker.invoke('blob-retry-limit', 'inv-2', metadata(), cafeGrave);
    await worker.invoke('blob-retry-limit', 'inv-3', metadata(), asHostText(Buffer.from('cafe;12\n', 'latin1')));
    const ids = seen.map((c) => c.deliveryId);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('a UTF-8 blob with a byte order mark arrives without it (the host drops it); UTF-16 with a mark arrives as its text in UTF-8', async () => {
    const seen = await registered('blob-bom');
    await worker.invoke('blob-bom', 'inv-b1', metadata(), asHostText(Buffer.from('\uFEFFcafé', 'utf8')));
    await worker.invoke('blob-bom', 'inv-b2', metadata(), asHostText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('café', 'utf16le')])));
    expect(seen.map((c) => (c.trigger.kind === 'storage' ? c.trigger.content?.toString('hex') : undefined))).toEqual([Buffer.from('café').toString('hex'), Buffer.from('café').toString('hex')]);
  });
});
