/**
 * Review finding: a function whose HTTP result is a stream, a `Blob`, a fetch `Response`, a
 * `Map`/`Set`, a promise left un-awaited inside `httpResult({ body })`, or raw bytes that are not
 * a `Uint8Array` (an `ArrayBuffer`, a `DataView`, an `Int16Array`) was answered `200
 * application/json` with whatever `JSON.stringify` made of it: `{}` — the data silently lost —
 * or, for a Node stream, the stream's internal state (`_readableState`, its buffered chunks
 * included: payload in the response). Raw bytes of any view are now sent as the bytes they
 * are; the rest cannot be carried by a response the core renders whole, and are the
 * invocation's error `500 INVALID_HTTP_RESULT` (field `body`), as the README says for a body
 * JSON cannot encode. Checked on the Lambda HTTP API shape and through the Functions
 * Framework's test server.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { handler, httpResult } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

type Json = Record<string, any>;
const event = JSON.parse(readFileSync(new URL('./fixtures/aws/apigw-v2-post.json', import.meta.url), 'utf8')) as Json;
const lambdaContext = () => ({ awsRequestId: 'req-body', functionName: 'f', getRemainingTimeInMillis: () => 10_000 });

const unsendable: Array<[string, () => unknown]> = [
  ['a Node stream', () => Readable.from(['secret-chunk'])],
  ['a web ReadableStream', () => new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('hi')), c.close()) })],
  ['a Blob', () => new Blob(['hello'])],
  ['a fetch Response', () => new Response('hello')],
  ['a Map', () => new Map([['a', 1]])],
  ['a Set', () => new Set([1])],
  ['a promise inside httpResult', () => httpResult({ body: Promise.resolve({ late: true }) })],
  ['a Node stream inside httpResult', () => httpResult({ headers: { 'content-type': 'text/csv' }, body: Readable.from(['a,b\n']) })],
];

describe('HTTP results no response can carry whole', () => {
  it.each(unsendable)('%s: 500 INVALID_HTTP_RESULT on Lambda, never a 200 with {} or the object’s insides', async (_label, make) => {
    const res = (await handler({ logSink: () => undefined }, make).aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    expect(res.body).not.toContain('secret-chunk');
  });

  it('a Node stream through the Functions Framework: 500 INVALID_HTTP_RESULT', async () => {
    const url = await serve('http', handler({ provider: 'gcp', logSink: () => undefined }, () => Readable.from(['secret-chunk'])));
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    expect(text).not.toContain('secret-chunk');
  });
});

describe('raw bytes in any view are sent as those bytes', () => {
  const bytes = [0, 1, 2, 250, 255];
  it.each([
    ['an ArrayBuffer', () => new Uint8Array(bytes).buffer],
    ['a DataView', () => new DataView(new Uint8Array(bytes).buffer)],
    ['a view on part of a buffer', () => new Uint16Array(new Uint8Array([9, 9, ...bytes, 7]).buffer, 2, 2)],
  ])('%s: binary, application/octet-stream', async (label, make) => {
    const res = (await handler({ logSink: () => undefined }, make).aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(true);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    // Bytes 2–5 of [9, 9, 0, 1, 2, 250, 255, 7]: the view's two 16-bit elements.
    const expected = label === 'a view on part of a buffer' ? [0, 1, 2, 250] : bytes;
    expect([...Buffer.from(res.body, 'base64')]).toEqual(expected);
  });
});
