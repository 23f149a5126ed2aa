/**
 * Review finding (hx, HTTP bodies refused for their encoding): under the default `body: 'auto'`
 * a body whose type was text to `isTextualContentType` and whose bytes were not UTF-8 became a
 * `400 MALFORMED_EVENT` naming `body`, and the function never ran — also bodies that are not
 * text at all and that ran before:
 * - binary types with a `charset` parameter: `multipart/form-data; boundary=…; charset=UTF-8`
 *   with a PNG part (Apache HttpClient's `MultipartEntityBuilder.setCharset` sends that),
 *   `application/pdf; charset=binary` (`file -bi`'s output), `application/octet-stream;
 *   charset=utf-8`, `application/zip; charset=utf-8`;
 * - text whose encoding is said inside it (RFC 7303 §3.2: an XML declaration or a BOM decides):
 *   Latin-1 XML with `<?xml … encoding="ISO-8859-1"?>`, UTF-16 with a BOM, HTML with a meta charset;
 * - `Content-Encoding: gzip` bodies (the function could gunzip `rawBytes` itself before).
 * Right: under 'auto' a body that cannot be read as text is never garbled nor refused — it is
 * its exact bytes (a Buffer), whatever its type; a coded body is always bytes; multipart and
 * `charset=binary` are bytes. JSON stays UTF-8 only (RFC 8259 §8.1, a 400), and `body: 'text'`
 * keeps its refusals. API Gateway HTTP API (v2) events as Lambda receives them.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { handler, type BodyMode } from '../src/index.js';

type Json = Record<string, any>;
const lambdaContext = { awsRequestId: 'req-hx', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

/** An HTTP API (v2) POST with `bytes` as its base64 body. */
function post(headers: Record<string, string>, bytes: Buffer): Json {
  return {
    version: '2.0',
    routeKey: 'POST /upload',
    rawPath: '/upload',
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...headers },
    requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', http: { method: 'POST', path: '/upload', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'x' }, requestId: 'r-hx', routeKey: 'POST /upload', stage: '$default', time: '06/Dec/2026:02:00:00 +0000', timeEpoch: 1796522400000 },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}

/** What the function got (undefined when it did not run) and the status answered. */
async function send(headers: Record<string, string>, bytes: Buffer, body: BodyMode = 'auto'): Promise<{ status: number; input: unknown; answer: Json }> {
  const seen: unknown[] = [];
  const answer = (await handler({ body, logSink: () => undefined }, (input) => {
    seen.push(input);
    return { ok: true };
  }).aws(post(headers, bytes), lambdaContext)) as Json;
  return { status: answer.statusCode as number, input: seen[0], answer };
}

/** The exact bytes sent, as a Buffer. */
function expectBytes(input: unknown, bytes: Buffer): void {
  expect(Buffer.isBuffer(input)).toBe(true);
  expect((input as Buffer).equals(bytes)).toBe(true);
}

// The 8-byte PNG signature and an IHDR chunk start: not UTF-8 (0x89 leads nothing).
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xd8]);
const multipart = Buffer.concat([
  Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="title"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nété\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
  PNG,
  Buffer.from('\r\n--XyZ--\r\n'),
]);
// A PDF with a binary comment line, as every PDF writer puts one on line 2.
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n1 0 obj\n<<>>\nendobj\n%%EOF\n')]);
// A zip's local file header with a CRC and sizes that are not UTF-8.
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xb7, 0x9c, 0x86, 0x59, 0xf3, 0xa1, 0xc4, 0x9e, 0x05, 0x00, 0x00, 0x00]);
const TEXT = 'caf\u00e9 \u6771\u4eac;2\n';

describe("body: 'auto' — binary bodies with a charset parameter reach the function as their bytes", () => {
  it.each([
    ['multipart/form-data; boundary=XyZ; charset=UTF-8', multipart],
    ['application/pdf; charset=binary', PDF],
    ['application/octet-stream; charset=utf-8', ZIP],
    ['application/zip; charset=utf-8', ZIP],
    ['text/plain; charset=binary', PDF],
  ])('%s: 200, the exact bytes', async (type, bytes) => {
    const { status, input } = await send({ 'content-type': type }, bytes);
    expect(status).toBe(200);
    expectBytes(input, bytes);
  });

  it('multipart is never read as text, even when every part is UTF-8 text', async () => {
    const text = Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nété\r\n--XyZ--\r\n');
    expectBytes((await send({ 'content-type': 'multipart/form-data; boundary=XyZ; charset=UTF-8' }, text)).input, text);
  });
});

describe("body: 'auto' — text whose encoding is not a charset parameter reaches the function as its bytes", () => {
  const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  it.each([
    ['application/xml', Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\n<city>Z\u00fcrich</city>\n', 'latin1')],
    ['text/xml', utf16('<?xml version="1.0" encoding="UTF-16"?><city>Z\u00fcrich</city>')],
    ['text/plain', utf16(TEXT)],
    ['text/html', Buffer.from('<html><head><meta charset="windows-1252"></head><body>caf\u00e9</body></html>', 'latin1')],
    ['text/csv', Buffer.from('caf\u00e9;2\n', 'latin1')],
    ['application/x-www-form-urlencoded', Buffer.from('city=Z\u00fcrich', 'latin1')],
    ['text/plain; charset=x-unknown-label', Buffer.from('caf\u00e9', 'latin1')],
  ])('%s, not UTF-8, no charset that decodes it: 200, the exact bytes (never U+FFFD text, never a 400)', async (type, bytes) => {
    const { status, input } = await send({ 'content-type': type }, bytes);
    expect(status).toBe(200);
    expectBytes(input, bytes);
  });

  it('UTF-8 text and text in a declared charset are still read as text', async () => {
    expect((await send({ 'content-type': 'text/plain' }, Buffer.from(TEXT))).input).toBe(TEXT);
    expect((await send({ 'content-type': 'text/csv; charset=iso-8859-1' }, Buffer.from('caf\u00e9;2\n', 'latin1'))).input).toBe('caf\u00e9;2\n');
    expect((await send({ 'content-type': 'application/octet-stream; charset=utf-8' }, Buffer.from(TEXT))).input).toBe(TEXT);
    expect((await send({ 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from('a=1&a=2'))).input).toEqual({ a: ['1', '2'] });
  });
});

describe("body: 'auto' — a body with a Content-Encoding is its bytes", () => {
  const gz = gzipSync(TEXT);
  it.each(['text/plain', 'text/plain; charset=utf-8', 'text/csv; charset=iso-8859-1', 'application/xml', 'application/x-www-form-urlencoded', 'application/octet-stream'])(
    'gzip bytes declared %s: 200, the exact bytes the function can gunzip',
    async (type) => {
      const { status, input } = await send({ 'content-type': type, 'content-encoding': 'gzip' }, gz);
      expect(status).toBe(200);
      expectBytes(input, gz);
    },
  );

  it('bytes that happen to read as text (a brotli body, a chain of codings) are not taken for text', async () => {
    const looksLikeText = Buffer.from('\u000b\u0002\u0080hi\u0003');
    expectBytes((await send({ 'content-type': 'text/plain', 'content-encoding': 'br' }, looksLikeText)).input, looksLikeText);
    expectBytes((await send({ 'content-type': 'text/plain', 'content-encoding': 'deflate, gzip' }, gz)).input, gz);
    // identity is no coding.
    expect((await send({ 'content-type': 'text/plain', 'content-encoding': 'identity' }, Buffer.from(TEXT))).input).toBe(TEXT);
  });

  it('a body a gateway already inflated, the header left on (API Gateway with compression on), is read as usual: text, fields, its charset', async () => {
    expect((await send({ 'content-type': 'text/plain', 'content-encoding': 'gzip' }, Buffer.from(TEXT))).input).toBe(TEXT);
    expect((await send({ 'content-type': 'text/csv; charset=iso-8859-1', 'content-encoding': 'gzip' }, Buffer.from('caf\u00e9;1', 'latin1'))).input).toBe('caf\u00e9;1');
    expect((await send({ 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'deflate' }, Buffer.from('name=Jos%C3%A9&n=1'))).input).toEqual({ name: 'Jos\u00e9', n: '1' });
    // Still deflated (a zlib header): its bytes.
    const deflated = deflateSync(TEXT);
    expectBytes((await send({ 'content-type': 'text/plain', 'content-encoding': 'deflate' }, deflated)).input, deflated);
  });

  it('inflated text whose first two bytes make a zlib header (`x = 1`, `x y`) is read as text, not taken for a deflate stream (review rvp)', async () => {
    for (const text of ['x = 1', 'x y']) {
      expect((await send({ 'content-type': 'text/plain', 'content-encoding': 'deflate' }, Buffer.from(text))).input).toBe(text);
    }
  });

  it('inflated text that reads as a cut-short zlib stream (`x^2+1`, `HKSAR`, `(Skip)`) is read as text (review rvm4)', async () => {
    for (const text of ['x^2+1', 'x^2+y^2=r^2', 'HKSAR', '(Skip)']) {
      expect((await send({ 'content-type': 'text/plain', 'content-encoding': 'deflate' }, Buffer.from(text))).input).toBe(text);
    }
  });
});

describe('what stays refused', () => {
  it('JSON that is not UTF-8 (gzip bytes too) is a 400 naming body; the function does not run', async () => {
    const cases: Array<Record<string, string>> = [{ 'content-type': 'application/json' }, { 'content-type': 'application/vnd.api+json', 'content-encoding': 'gzip' }];
    for (const headers of cases) {
      const { status, input, answer } = await send(headers, gzipSync('{"a":1}'));
      expect(status).toBe(400);
      expect(input).toBeUndefined();
      expect(JSON.parse(answer.body as string)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'UTF-8 text' }] });
    }
  });

  it("body: 'text' still refuses bytes that are not UTF-8 text in no charset that decodes them", async () => {
    for (const [headers, bytes] of [
      [{ 'content-type': 'text/plain' }, Buffer.from('caf\u00e9', 'latin1')],
      [{ 'content-type': 'text/plain', 'content-encoding': 'gzip' }, gzipSync(TEXT)],
    ] as const) {
      const { status, input } = await send(headers, bytes, 'text');
      expect(status).toBe(400);
      expect(input).toBeUndefined();
    }
  });
});
