/** Our RFC 9110 checks against Node's own (which the handler no longer loads), and rendering any value. */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFieldName, isFieldValue } from './internal/http-grammar.js';
import { httpResult, InvalidHttpResultError, renderResult } from './response.js';

const nodeAccepts = (check: () => void): boolean => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

// Strings biased towards the edges: controls, DEL, Latin-1 and beyond.
const edgy = fc.string({ unit: fc.oneof(fc.constantFrom('\t', '\n', '\r', '\0', '\x7f', '\xff', 'é', 'ü', '€', ' ', ':', '"', '(', '@'), fc.integer({ min: 0, max: 0x17f }).map((c) => String.fromCharCode(c)), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });

describe('HTTP field checks', () => {
  it('accept exactly the names and values Node accepts', () => {
    fc.assert(
      fc.property(edgy, (text) => {
        expect(isFieldName(text)).toBe(nodeAccepts(() => validateHeaderName(text)));
        expect(isFieldValue(text)).toBe(nodeAccepts(() => validateHeaderValue('x', text)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('renderResult on any value', () => {
  it('renders any JSON value as a 200/204 with a string body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const res = renderResult(value);
        expect(res.status === 200 || res.status === 204).toBe(true);
        expect(typeof res.body).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('either renders headers every server can send or refuses with INVALID_HTTP_RESULT', () => {
    fc.assert(
      fc.property(fc.dictionary(edgy, fc.oneof(edgy, fc.array(edgy, { maxLength: 3 }))), fc.array(edgy, { maxLength: 3 }), (headers, cookies) => {
        let res;
        try {
          res = renderResult(httpResult({ headers, cookies }));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidHttpResultError);
          return;
        }
        for (const [name, value] of Object.entries(res.headers)) {
          expect(nodeAccepts(() => validateHeaderName(name))).toBe(true);
          for (const v of typeof value === 'string' ? [value] : value) expect(nodeAccepts(() => validateHeaderValue(name, v))).toBe(true);
        }
        for (const cookie of res.cookies) expect(nodeAccepts(() => validateHeaderValue('set-cookie', cookie))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
