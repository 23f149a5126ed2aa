/**
 * dougmoscrop/serverless-http#194 ("Sending compressed body to serverless-http through API
 * Gateway") and aws/chalice#1659 ("receiving gzip compressed JSON")
 * https://github.com/dougmoscrop/serverless-http/issues/194 · https://github.com/aws/chalice/issues/1659
 *
 * A client sent `Content-Encoding: gzip` bodies. Where API Gateway had already inflated the
 * body it left the header in place, and Express' body parser, inflating again, failed every
 * request ("incorrect header check"); where the gzip bytes came through as they were, the JSON
 * parser failed with a bare "Error Parsing JSON".
 *
 * steadyfn reads the body it is given: an inflated JSON body is parsed whatever
 * `Content-Encoding` still says. Bytes that are not text are never taken for text: under
 * `body: 'auto'` a body with a `Content-Encoding` other than `identity` reaches the function as
 * its exact bytes, to inflate itself, whatever its type — except JSON, which must be UTF-8
 * (RFC 8259 §8.1): gzip bytes under a JSON type are a `400 MALFORMED_EVENT` naming `body`.
 *
 * The replay found a defect: under the default `body: 'auto'`, a body declared text
 * (`text/plain`, `text/csv`, a form, XML…) — or sent without a content type — whose bytes are
 * not UTF-8 was decoded anyway, and the function got a string with U+FFFD where the bytes had
 * been, answered 200: the upload silently corrupted. Fixed in @steadyfn/handler (`httpInput`):
 * such a body is its exact bytes (a first fix refused it with a 400 — also binary uploads that
 * name a charset and the gzip bodies a function inflated itself; see
 * packages/handler/test/review-hx-auto-body-bytes.test.ts).
 */
import { gzipSync } from 'node:zlib';
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext, type Json } from './support.js';

/** An HTTP API (v2) POST as API Gateway delivers it; `bytes` base64 unless `text` is given. */
function post(headers: Record<string, string>, body: { text: string } | { bytes: Buffer }): Json {
  return {
    version: '2.0',
    routeKey: 'POST /ingest',
    rawPath: '/ingest',
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'user-agent': 'curl/7.74.0', ...headers },
    requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', http: { method: 'POST', path: '/ingest', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/7.74.0' }, requestId: 'r-194', routeKey: 'POST /ingest', stage: '$default', time: '27/Jan/2021:10:00:00 +0000', timeEpoch: 1611741600000 },
    body: 'text' in body ? body.text : body.bytes.toString('base64'),
    isBase64Encoded: !('text' in body),
  };
}

type Answer = { statusCode: number; body: string };
const DATA = '{ "mydummy" : "json", "rows": ["été", "東京"] }\n';

describe('serverless-http#194 / chalice#1659: gzip-encoded request bodies', () => {
  const ran: unknown[] = [];
  const main = handler({ logSink: () => undefined }, (input) => {
    ran.push(input);
    return { got: Buffer.isBuffer(input) ? 'bytes' : typeof input };
  });

  it('a body API Gateway already inflated, Content-Encoding: gzip still set: parsed, 200', async () => {
    ran.length = 0;
    const answer = (await main.aws(post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, { text: DATA }), lambdaContext())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(ran).toEqual([{ mydummy: 'json', rows: ['été', '東京'] }]);
  });

  it.each(['application/json', 'application/problem+json'])('gzip bytes declared %s: 400 MALFORMED_EVENT naming body; the function does not run (JSON is UTF-8)', async (type) => {
    ran.length = 0;
    const answer = (await main.aws(post({ 'content-type': type, 'content-encoding': 'gzip' }, { bytes: gzipSync(DATA) }), lambdaContext())) as Answer;
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'UTF-8 text' }] });
    expect(ran).toEqual([]);
  });

  it.each(['text/plain', 'text/plain; charset=utf-8', 'text/csv; charset=iso-8859-1', 'application/xml', 'application/x-www-form-urlencoded'])(
    'gzip bytes declared %s: the function gets the exact bytes (never U+FFFD text, never Latin-1 mojibake)',
    async (type) => {
      ran.length = 0;
      const gz = gzipSync(DATA);
      const answer = (await main.aws(post({ 'content-type': type, 'content-encoding': 'gzip' }, { bytes: gz }), lambdaContext())) as Answer;
      expect(answer.statusCode).toBe(200);
      expect(ran).toHaveLength(1);
      expect(Buffer.isBuffer(ran[0]) && (ran[0] as Buffer).equals(gz)).toBe(true);
    },
  );

  it('gzip bytes without a content type: the function gets the exact bytes and can inflate them', async () => {
    const seen: unknown[] = [];
    const inflate = handler({ logSink: () => undefined }, async (input) => {
      seen.push(input);
      const { gunzipSync } = await import('node:zlib');
      return JSON.parse(gunzipSync(input as Buffer).toString('utf8'));
    });
    const gz = gzipSync(DATA);
    const answer = (await inflate.aws(post({ 'content-encoding': 'gzip' }, { bytes: gz }), lambdaContext())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(Buffer.isBuffer(seen[0]) && (seen[0] as Buffer).equals(gz)).toBe(true);
    expect(JSON.parse(answer.body)).toEqual({ mydummy: 'json', rows: ['été', '東京'] });
  });

  it('text in another declared charset is still decoded with it (not refused)', async () => {
    ran.length = 0;
    const latin1 = Buffer.from('caf\xe9;2\n', 'latin1');
    const answer = (await main.aws(post({ 'content-type': 'text/csv; charset=iso-8859-1' }, { bytes: latin1 }), lambdaContext())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(ran).toEqual(['café;2\n']);
  });
});
