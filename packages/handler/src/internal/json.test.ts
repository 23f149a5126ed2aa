import { describe, expect, it } from 'vitest';
import { isLosslessNumber, jsonExactNumbers, jsonTextTooDeep, parseJsonLossless, valueTooDeep } from './json.js';
import { decodeBase64Strict } from './base64.js';

describe('parseJsonLossless', () => {
  it('keeps text whose numbers would change', () => {
    expect(parseJsonLossless('89e7073266')).toBeUndefined();
    expect(parseJsonLossless('12345678901234567890')).toBeUndefined();
    expect(parseJsonLossless('{"id": 9007199254740993}')).toBeUndefined();
  });

  it('parses JSON whose numbers keep their value, whatever their spelling', () => {
    expect(parseJsonLossless('{"a": 1.50, "b": 1e3, "c": -0.25, "d": 9007199254740991}')).toEqual({ value: { a: 1.5, b: 1000, c: -0.25, d: 9007199254740991 } });
    expect(parseJsonLossless('"x"')).toEqual({ value: 'x' });
    expect(parseJsonLossless('not json')).toBeUndefined();
  });

  it('compares decimal values, not spellings', () => {
    expect(isLosslessNumber('1.50', 1.5)).toBe(true);
    expect(isLosslessNumber('15e-1', 1.5)).toBe(true);
    expect(isLosslessNumber('0.1', 0.1)).toBe(true);
    expect(isLosslessNumber('0.10000000000000001', 0.1)).toBe(false);
    expect(isLosslessNumber('1e400', Infinity)).toBe(false);
  });
});

describe('jsonExactNumbers', () => {
  it('gives the exact value of every number a plain parse rounds, and nothing when none is rounded', () => {
    expect(jsonExactNumbers('{"id": 12345678901234567891, "n": 1}')).toEqual({ id: { exactNumber: '12345678901234567891e0' }, n: 1 });
    expect(jsonExactNumbers('[-12345678901234567891]')).toEqual([{ exactNumber: '-12345678901234567891e0' }]);
    expect(jsonExactNumbers('{"r": 0.10000000000000000001}')).toEqual({ r: { exactNumber: '10000000000000000001e-20' } });
    expect(jsonExactNumbers('{"r": -1e400}')).toEqual({ r: { exactNumber: '-1e400' } });
    expect(jsonExactNumbers('{"id": 9007199254740991, "e": 1e3}')).toBeUndefined();
    expect(jsonExactNumbers('12345678901234567891 junk')).toBeUndefined();
  });

  it('gives one value one form, however it is written (a client retrying with another JSON writer)', () => {
    const same = ['12345678901234567891', '12345678901234567891.0', '1.2345678901234567891e19', '123456789012345678910e-1', '1234567890123456789.1E+1'];
    for (const text of same) expect(jsonExactNumbers(`[${text}]`), text).toEqual([{ exactNumber: '12345678901234567891e0' }]);
    expect(jsonExactNumbers('[-1e999]')).toEqual([{ exactNumber: '-1e999' }]);
    expect(jsonExactNumbers('[-10e998]')).toEqual([{ exactNumber: '-1e999' }]);
  });

  it('sees a number rounded across its decimal point (15 digits, a point, 8 more) as rounded', () => {
    expect(parseJsonLossless('[123456789012345.67890123]')).toBeUndefined();
    expect(jsonExactNumbers('[123456789012345.67890123]')).toEqual([{ exactNumber: '12345678901234567890123e-8' }]);
    expect(jsonExactNumbers('[123456789012345.67890123]')).not.toEqual(jsonExactNumbers('[123456789012345.67890124]'));
    expect(parseJsonLossless('[123456789012345.6]')).toEqual({ value: [123456789012345.6] });
  });

  it('keeps exponents past 2^53 exact: two exponents are two values, and the form stays well-formed', () => {
    expect(jsonExactNumbers('[1e9007199254740993]')).not.toEqual(jsonExactNumbers('[1e9007199254740992]'));
    expect(jsonExactNumbers('[1e9007199254740993]')).toEqual([{ exactNumber: '1e9007199254740993' }]);
    expect(jsonExactNumbers('[1.5e9007199254740993]')).toEqual([{ exactNumber: '15e9007199254740992' }]);
    expect(jsonExactNumbers('[1e1000000000000000000000000]')).toEqual([{ exactNumber: '1e1000000000000000000000000' }]);
    expect(jsonExactNumbers('[-2.50e-1000000000000000000000000]')).toEqual([{ exactNumber: '-25e-1000000000000000000000001' }]);
  });
});

describe('depth bounds', () => {
  it('finds text nested deeper than the bound, ignoring brackets inside strings', () => {
    expect(jsonTextTooDeep('['.repeat(513) + ']'.repeat(513))).toBe(true);
    expect(jsonTextTooDeep('['.repeat(512) + ']'.repeat(512))).toBe(false);
    expect(jsonTextTooDeep(`["${'['.repeat(2000)}"]`)).toBe(false);
  });

  it('finds parsed values nested deeper than the bound without recursion', () => {
    expect(valueTooDeep(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toBe(true);
    expect(valueTooDeep({ a: [{ b: 1 }] })).toBe(false);
  });
});

describe('decodeBase64Strict', () => {
  it('decodes standard, URL-safe and wrapped base64', () => {
    expect(decodeBase64Strict('//4AgA==')).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(decodeBase64Strict('__4AgA')).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(decodeBase64Strict('aGVs\nbG8=')).toEqual(Buffer.from('hello'));
  });

  it('refuses junk, misplaced padding and impossible lengths', () => {
    for (const bad of ['aGVs*bG8=', 'a', 'aGVsbG8=x', '=aGVs', 'aGV=sbG8']) expect(decodeBase64Strict(bad)).toBeUndefined();
  });
});
