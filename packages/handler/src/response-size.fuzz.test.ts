/**
 * The size check's fast path: `jsonBytesBound(res)` must never be below the bytes of the JSON
 * a provider actually sends for the rendered response — the OpenWhisk web result (5xx under
 * `error`) and each Lambda HTTP answer shape — whatever the body (control characters, lone
 * surrogates, bytes, JSON text that does or does not re-serialise) and media type. Below the
 * bound the adapters skip the exact count, so a bound too low would let an oversized response
 * through unchecked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpResult, jsonBytesBound, renderResult } from './response.js';
import { isOpenWhiskStatus, toOpenWhiskWebResult } from './providers/openwhisk.js';
import { formatHttp } from './providers/lambda-http.js';

// Long enough that the body, not the fixed overhead, decides: control characters take 6 bytes in JSON.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('\0', '\x01', '\n', '"', '\\', '\u2028', '\ud800', '\udfff', 'é', '€', '😀'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))), maxLength: 400, size: 'max' });
const body = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 400, size: 'max' }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('{"a":1}', '{ "a": 1 }', '1e400', '12345678901234567890', '[]', 'not json'),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/problem+json', 'text/plain; charset=utf-8', 'text/html', 'application/octet-stream', 'image/png', 'text/javascript', 'application/x-ndjson');
const fieldValue = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', ';', '=', 'é', 'ÿ', '"'), maxLength: 20 });
const response = fc
  .record({
    status: fc.constantFrom(200, 201, 204, 302, 400, 404, 500, 503),
    type: contentType,
    headers: fc.dictionary(fc.constantFrom('x-a', 'X-B', 'link', 'cache-control'), fc.oneof(fieldValue, fc.array(fieldValue, { minLength: 1, maxLength: 3 }))),
    cookies: fc.array(fieldValue.filter((c) => c.trim() !== ''), { maxLength: 3 }),
    body,
  })
  .map(({ status, type, headers, cookies, body: b }) => renderResult(httpResult({ status, headers: type === undefined ? headers : { ...headers, 'content-type': type }, cookies, body: b })));

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('jsonBytesBound', () => {
  it('is never below what OpenWhisk or any Lambda HTTP shape is sent for the response', () => {
    fc.assert(
      fc.property(response, (res) => {
        const bound = jsonBytesBound(res);
        if (isOpenWhiskStatus(res.status)) {
          const web = toOpenWhiskWebResult(res);
          expect(bound).toBeGreaterThanOrEqual(bytes(res.status >= 500 ? { error: web } : web));
        }
        for (const [kind, event] of [['apigw-v1', {}], ['apigw-v2', {}], ['function-url', {}], ['alb', {}], ['alb', { multiValueHeaders: {} }], ['apigw-websocket', {}]] as const) {
          expect(bound).toBeGreaterThanOrEqual(bytes(formatHttp(kind, event, res)));
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('holds for the worst body: control characters only, as text and as JSON that does not parse (sent as base64)', () => {
    for (const type of ['text/plain', 'application/json', 'image/png']) {
      const res = renderResult(httpResult({ headers: { 'content-type': type }, body: '\x01'.repeat(1_000) }));
      const web = toOpenWhiskWebResult(res);
      expect(jsonBytesBound(res)).toBeGreaterThanOrEqual(bytes(web));
      expect(jsonBytesBound(res)).toBeGreaterThanOrEqual(bytes(formatHttp('apigw-v2', {}, res)));
    }
  });

  it('is within a small factor of the real size for a plain text body, so the fast path is taken', () => {
    const res = renderResult('a'.repeat(100_000));
    expect(jsonBytesBound(res)).toBeLessThan(6 * 100_000 + 1_000);
    expect(jsonBytesBound(res)).toBeGreaterThanOrEqual(bytes(toOpenWhiskWebResult(res)));
  });
});
