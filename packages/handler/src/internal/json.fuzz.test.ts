/** Fuzz: the lossless JSON parse, the depth bounds and strict base64 on arbitrary input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from './base64.js';
import { jsonExactNumbers, jsonTextTooDeep, parseJsonLossless, valueTooDeep } from './json.js';

describe('json and base64 helpers under arbitrary input', () => {
  it('parses every serialised JSON value back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(parseJsonLossless(text)?.value).toEqual(JSON.parse(text));
      }),
    );
  });

  it('never throws on arbitrary text, and a parse it returns is what JSON.parse gives', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const parsed = parseJsonLossless(text);
        if (parsed) expect(parsed.value).toEqual(JSON.parse(text));
      }),
    );
  });

  it('finds a rounded number exactly when the lossless parse refuses valid JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.bigInt().map((n) => `{"n":${n}}`)), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const rounded = valid && !jsonTextTooDeep(text) && parseJsonLossless(text) === undefined;
        expect(jsonExactNumbers(text) !== undefined).toBe(rounded);
      }),
    );
  });

  it('agrees between the text and the value depth bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1200 }), (depth) => {
        const text = '['.repeat(depth) + ']'.repeat(depth);
        expect(jsonTextTooDeep(text)).toBe(depth > 512);
        expect(valueTooDeep(JSON.parse(text === '' ? 'null' : text))).toBe(depth > 512);
      }),
      { numRuns: 60 },
    );
  });

  it('round-trips bytes through base64 and never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(decodeBase64Strict(Buffer.from(bytes).toString('base64'))).toEqual(Buffer.from(bytes));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const bytes = decodeBase64Strict(text);
        if (bytes) expect(/^[A-Za-z0-9+/\-_=\s]*$/.test(text)).toBe(true);
      }),
    );
  });
});
