/** Fuzz: the lossless JSON parse, the depth bounds and strict base64 on arbitrary input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from './base64.js';
import { isLosslessNumber, jsonExactNumbers, jsonTextTooDeep, parseJsonLossless, valueTooDeep } from './json.js';

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

  // Number literals of any length, a decimal point anywhere in them, any exponent.
  const literal = fc
    .tuple(fc.boolean(), fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,24}$/)), fc.option(fc.stringMatching(/^[0-9]{1,24}$/)), fc.option(fc.integer({ min: -400, max: 400 })))
    .map(([negative, whole, fraction, exponent]) => `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `e${exponent}`}`);

  it('parses a number literal without the content type exactly when it keeps its value', () => {
    fc.assert(
      fc.property(literal, (text) => {
        expect(parseJsonLossless(`[${text}]`) !== undefined, text).toBe(isLosslessNumber(text, Number(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('tells two numbers apart (one digit changed), by plain value or by exact form', () => {
    fc.assert(
      fc.property(literal, (text) => {
        const other = text.replace(/(\d)((?:e-?\d+)?)$/, (_all, digit: string, exponent: string) => `${(Number(digit) + 1) % 10}${exponent}`);
        const seen = (t: string) => JSON.stringify(jsonExactNumbers(`[${t}]`) ?? JSON.parse(`[${t}]`));
        if (Number(text) === 0 && Number(other) === 0) return; // 0 and -0 (or 0.0) are one JSON value
        expect(seen(text), `${text} vs ${other}`).not.toBe(seen(other));
      }),
      { numRuns: 2000 },
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
