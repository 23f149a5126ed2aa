/**
 * Review finding (hb, Azure blob trigger size fallback): with no size in the trigger metadata's
 * `Properties` (no `contentLength` / `length`), the normalised object's `size` is the byte length
 * of the content the host handed over. A blob whose text is JSON was the exception: the host
 * sends it as RPC `string`, `@azure/functions` hands the function the value it parses from it,
 * and the size (and `trigger.content`) came out absent although the content was there. Now the
 * host's own content stands in. With neither a size nor content, `size` is absent — never 0
 * or NaN.
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

interface Seen {
  input: Record<string, unknown>;
  ctx: Context;
}

async function registered(name: string): Promise<Seen[]> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Seen[] = [];
  const main = handler({ logSink: () => undefined }, (input, ctx) => void seen.push({ input: input as Record<string, unknown>, ctx }));
  app.storageBlob(name, { path: 'myblob/{name}', connection: 'AzureWebJobsStorage', handler: main as never });
  return seen;
}

function metadata(properties: Record<string, unknown>): Record<string, unknown> {
  return {
    BlobTrigger: { string: 'myblob/a.json' },
    Uri: { string: 'https://acct.blob.core.windows.net/myblob/a.json' },
    Properties: { json: JSON.stringify({ lastModified: '2026-12-06T05:00:00+00:00', ...properties }) },
    Metadata: { json: '{}' },
    name: { string: 'a.json' },
  };
}

function sizes(s: Seen): [unknown, unknown] {
  const trigger = s.ctx.trigger as { size?: unknown };
  return [s.input.size, trigger.size];
}

describe('Azure blob trigger: size without one in the properties', () => {
  it('a blob whose text is JSON (the library parses it): the byte length of the content the host sent', async () => {
    const seen = await registered('blob-size-json');
    await worker.invoke('blob-size-json', 'inv-s1', metadata({}), { string: '{"a": "é"}' });
    expect(seen).toHaveLength(1);
    expect(sizes(seen[0]!)).toEqual([11, 11]);
    const trigger = seen[0]!.ctx.trigger as { content?: Buffer };
    expect(trigger.content?.toString('utf8')).toBe('{"a": "é"}');
  });

  it('bytes and non-JSON text: their byte length; garbage sizes in the properties are ignored', async () => {
    const seen = await registered('blob-size-bytes');
    await worker.invoke('blob-size-bytes', 'inv-s2', metadata({}), { bytes: Buffer.from([1, 2, 3]) });
    await worker.invoke('blob-size-bytes', 'inv-s3', metadata({ contentLength: 'NaN', length: -1 }), { string: 'héllo' });
    expect(seen.map(sizes)).toEqual([[3, 3], [6, 6]]);
  });

  it('(control) the properties size wins over the content length', async () => {
    const seen = await registered('blob-size-props');
    await worker.invoke('blob-size-props', 'inv-s4', metadata({ contentLength: 377 }), { bytes: Buffer.from([1, 2, 3]) });
    expect(sizes(seen[0]!)).toEqual([377, 377]);
  });

  it('no size and no content: size absent, never 0 or NaN', async () => {
    const seen = await registered('blob-size-none');
    await worker.invoke('blob-size-none', 'inv-s5', metadata({}), {});
    expect(seen).toHaveLength(1);
    expect('size' in seen[0]!.input).toBe(false);
    expect('size' in seen[0]!.ctx.trigger).toBe(false);
  });
});
