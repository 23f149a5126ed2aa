/**
 * Review finding (rvp): the Functions Framework's body parsers (body-parser) undo a request's
 * `Content-Encoding` — gzip, deflate, br — before the function runs: `req.rawBody` and
 * `req.body` hold the decoded bytes, but the header stays. The adapter judged those bytes by the
 * header: `br` always counted as still coded, and `deflate` as soon as the first two bytes
 * looked like a zlib header (`x = 1`, `x y` do), so the function got a Buffer of plain bytes
 * and the README's "inflate it yourself" threw. A body a parser read is now known to be decoded;
 * only one no parser read (no Content-Type), taken from the stream by the adapter, still is.
 * Driven through the framework's own test server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(() => closeServers());

async function inputOf(encoding: string, type: string | undefined, body: Buffer): Promise<unknown> {
  const { handler } = await import('../src/index.js');
  const seen: unknown[] = [];
  const url = await serve('http', handler({ logSink: () => undefined }, (input) => void seen.push(input)));
  // fetch sends the bytes as they are (supertest serialises a Buffer under a form type).
  const headers: Record<string, string> = { 'content-encoding': encoding };
  if (type !== undefined) headers['content-type'] = type;
  const res = await fetch(url, { method: 'POST', headers, body });
  expect(res.status).toBe(204);
  expect(seen).toHaveLength(1);
  return seen[0];
}

describe('Cloud Functions: a body the framework already decoded is read as usual', () => {
  it.each([
    ['br', 'text/plain', brotliCompressSync('hello'), 'hello'],
    ['br', 'application/x-www-form-urlencoded', brotliCompressSync('a=1&b=2'), { a: '1', b: '2' }],
    ['deflate', 'text/plain', deflateSync('x = 1'), 'x = 1'],
    ['deflate', 'text/plain', deflateSync('x y'), 'x y'],
    ['gzip', 'text/plain', gzipSync('hello'), 'hello'],
  ])('%s, %s', async (encoding, type, body, expected) => {
    expect(await inputOf(encoding, type, body)).toEqual(expected);
  });

  it('a body no parser read (no Content-Type) is still coded: its exact bytes', async () => {
    const coded = brotliCompressSync('hello');
    const input = await inputOf('br', undefined, coded);
    expect(Buffer.isBuffer(input) && input.equals(coded)).toBe(true);
  });
});
