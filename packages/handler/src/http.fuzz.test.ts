import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SteadyError } from './errors.js';
import { hasSeveralMediaTypes } from './internal/media-type.js';
import { decodeBody, httpInput, isTextualContentType } from './http.js';
import { normaliseHeaders } from './http-headers.js';
import { parseQueryString } from './http-query.js';

describe('http parsing (fuzz)', () => {
  it('httpInput either parses or throws a typed 400, for any body and content type', () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), fc.constantFrom('', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/vnd.x+json'), (body, type) => {
        try {
          httpInput({ method: 'POST', path: '/', headers: type ? { 'content-type': type } : {}, query: {}, multiQuery: {}, rawBody: body });
        } catch (e) {
          expect(e).toBeInstanceOf(SteadyError);
          expect((e as SteadyError).status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any bytes, sent base64 under a binary type, reach the function as those exact bytes', () => {
    const binaryType = fc.constantFrom('application/octet-stream', 'image/png', 'application/pdf', 'application/x-protobuf', 'multipart/form-data; boundary=b');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), binaryType, (bytes, type) => {
        const { rawBody, rawBytes } = decodeBody(Buffer.from(bytes).toString('base64'), true);
        const input = httpInput({ method: 'POST', path: '/', headers: { 'content-type': type }, query: {}, multiQuery: {}, rawBody, rawBytes });
        expect(Buffer.isBuffer(input)).toBe(true);
        expect([...(input as Buffer)]).toEqual([...bytes]);
      }),
      { numRuns: 300 },
    );
  });

  it('any content type and any bytes give text, bytes, parsed input or a typed 400, as the type says', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('image/png', 'text/plain; charset=latin1', 'application/ld+json', 'Application/Octet-Stream')), fc.uint8Array({ maxLength: 64 }), (type, bytes) => {
        const { rawBody, rawBytes } = decodeBody(Buffer.from(bytes).toString('base64'), true);
        let input: unknown;
        try {
          input = httpInput({ method: 'POST', path: '/', headers: { 'content-type': type }, query: {}, multiQuery: {}, rawBody, rawBytes });
        } catch (e) {
          expect(e).toBeInstanceOf(SteadyError);
          expect((e as SteadyError).status).toBe(400);
          // Under 'auto' only JSON (UTF-8 by RFC 8259) or two media types are refused, never a body for its bytes.
          expect(type.split(';')[0]!.toLowerCase().includes('json') || hasSeveralMediaTypes(type.toLowerCase())).toBe(true);
          return;
        }
        if (rawBytes === undefined) expect(input).toEqual({});
        else if (Buffer.isBuffer(input)) {
          // A binary type, or bytes that are not UTF-8 (no text to give: never U+FFFD text).
          expect(!isTextualContentType(type) || !isUtf8(rawBytes)).toBe(true);
          expect(input.equals(rawBytes)).toBe(true);
        } else expect(isTextualContentType(type)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('header and query helpers never throw on hostile input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.string(), (headers, qs) => {
        const h = normaliseHeaders(headers);
        for (const [k, v] of Object.entries(h)) {
          expect(k).toBe(k.toLowerCase());
          expect(typeof v).toBe('string');
        }
        parseQueryString(qs);
      }),
      { numRuns: 500 },
    );
  });
});
