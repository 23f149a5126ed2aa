import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SteadyError } from './errors.js';
import { httpInput, normaliseHeaders, parseQueryString, toHttpResponse } from './http.js';

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

  it('any returned JSON value makes a response with a status and string body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const res = toHttpResponse({ ok: true, value });
        expect(res.status === 200 || res.status === 204).toBe(true);
        expect(typeof res.body).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});
