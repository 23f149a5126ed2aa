import { describe, expect, it } from 'vitest';
import { contentCodings, declaredCharset, decodeStrict, formFieldsIn, stillContentCoded } from './http-body.js';

describe('declaredCharset / decodeStrict', () => {
  it('names the WHATWG encoding, undefined for a label it does not know, nothing without a charset', () => {
    expect(declaredCharset('text/plain; charset=ISO-8859-1')).toEqual({ encoding: 'windows-1252' });
    expect(declaredCharset('text/plain; charset="Shift_JIS"')).toEqual({ encoding: 'shift_jis' });
    expect(declaredCharset('text/plain; charset=x-unknown')).toEqual({ encoding: undefined });
    expect(declaredCharset('text/plain; charset=csiso2022kr')).toEqual({ encoding: undefined }); // "replacement"
    expect(declaredCharset('text/plain')).toBeUndefined();
  });

  it('is strict: invalid bytes are undefined, never U+FFFD; a BOM is kept', () => {
    expect(decodeStrict(Buffer.from([0x82]), 'shift_jis')).toBeUndefined();
    expect(decodeStrict(Buffer.from([0xef, 0xbb, 0xbf, 0x61]), 'utf-8')).toBe('\ufeffa');
  });
});

describe('formFieldsIn', () => {
  it('percent-decodes in the charset; UTF-16 forms percent-decode as UTF-8 (the output encoding)', () => {
    expect(formFieldsIn('a=%E9', 'windows-1252')).toEqual({ a: 'é' });
    expect(formFieldsIn('a=%C3%A9', 'utf-16le')).toEqual({ a: 'é' });
    expect(formFieldsIn('a=%E9')).toBeUndefined();
    expect(formFieldsIn('&&a&b=&=c')).toEqual({ a: '', b: '', '': 'c' });
  });

  it('parses valid UTF-8 forms as URLSearchParams does', () => {
    for (const text of ['a=1&a=2&b=x+y', 'q=%F0%9F%98%80&r=%zz&s=%2', 'x=%41%42%43+%2B', '=&==&a==b']) {
      const expected: Record<string, string | string[]> = {};
      for (const [k, v] of new URLSearchParams(text)) {
        const prev = expected[k];
        expected[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      expect([text, formFieldsIn(text)]).toEqual([text, expected]);
    }
  });
});

describe('stillContentCoded', () => {
  it('decides by the coding applied last and its signature; identity or no header is no coding', () => {
    const gz = Buffer.from([0x1f, 0x8b, 0x08]);
    expect(contentCodings(' Deflate , identity, GZIP ')).toEqual(['deflate', 'gzip']);
    expect(stillContentCoded('gzip', gz)).toBe(true);
    expect(stillContentCoded('gzip', Buffer.from('hi'))).toBe(false);
    expect(stillContentCoded('x-gzip', gz)).toBe(true);
    expect(stillContentCoded('deflate', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]))).toBe(true); // zlib's empty stream
    expect(stillContentCoded('deflate', Buffer.from('hi'))).toBe(false);
    expect(stillContentCoded('br', Buffer.from('hi'))).toBe(true);
    expect(stillContentCoded('gzip, br', gz)).toBe(true);
    expect(stillContentCoded('identity', gz)).toBe(false);
    expect(stillContentCoded(undefined, gz)).toBe(false);
    expect(stillContentCoded('', gz)).toBe(false);
  });
});

describe('formFieldsIn: one byte sequence per name and value (review F1)', () => {
  it('decodes a double-byte character whose second byte is an unescaped ASCII letter', () => {
    expect(formFieldsIn('q=%83A', 'shift_jis')).toEqual({ q: 'ア' });
    expect(formFieldsIn('q=%81A', 'gbk')).toEqual({ q: new TextDecoder('gbk').decode(Buffer.from([0x81, 0x41])) });
    expect(formFieldsIn('q=%A4A', 'big5')).toEqual({ q: new TextDecoder('big5').decode(Buffer.from([0xa4, 0x41])) });
    expect(formFieldsIn('%83A=%83A%83C', 'shift_jis')).toEqual({ 'ア': 'アイ' });
  });

  it('decodes ISO-2022-JP escape sequences mixed with ASCII letters', () => {
    // ア in ISO-2022-JP: ESC $ B, 25 22, ESC ( B — a browser escapes all but the letter B.
    expect(formFieldsIn('q=%1B%24B%25%22%1B%28B', 'iso-2022-jp')).toEqual({ q: 'ア' });
  });

  it('keeps a stray % and characters a provider already decoded; invalid bytes are still undefined', () => {
    expect(formFieldsIn('a=100%&b=%zz%E9', 'windows-1252')).toEqual({ a: '100%', b: '%zzé' });
    expect(formFieldsIn('a=caf%E9+é', 'windows-1252')).toEqual({ a: 'café é' });
    expect(formFieldsIn('a=%83', 'shift_jis')).toBeUndefined();
    expect(formFieldsIn('a=100%25&b=%C3', 'utf-8')).toBeUndefined();
    expect(formFieldsIn('a=100%&b=%C3%A9', 'utf-8')).toEqual({ a: '100%', b: 'é' });
  });
});

describe('stillContentCoded: raw deflate (review F6)', () => {
  it('a deflate body without a zlib header that inflates completely is still coded; text is not', async () => {
    const { deflateRawSync } = await import('node:zlib');
    expect(stillContentCoded('deflate', deflateRawSync(Buffer.from('café au lait, café au lait')))).toBe(true);
    expect(stillContentCoded('deflate', Buffer.from('café au lait'))).toBe(false);
    expect(stillContentCoded('deflate', Buffer.from('hi'))).toBe(false);
    expect(stillContentCoded('deflate', Buffer.concat([deflateRawSync(Buffer.from('abc')), Buffer.from('trailing text')]))).toBe(false);
  });
});

describe('stillContentCoded: a zlib stream is whole (review rvp)', () => {
  it('text whose first two bytes make a zlib header (`x = 1`, `x y`) is not coded; a zlib stream, with or without more after it, is judged whole', async () => {
    const { deflateSync } = await import('node:zlib');
    expect(stillContentCoded('deflate', Buffer.from('x = 1'))).toBe(false);
    expect(stillContentCoded('deflate', Buffer.from('x y'))).toBe(false);
    expect(stillContentCoded('deflate', deflateSync('x = 1'))).toBe(true);
    expect(stillContentCoded('deflate', deflateSync(Buffer.alloc(0)))).toBe(true);
    expect(stillContentCoded('deflate', Buffer.concat([deflateSync('abc'), Buffer.from('trailing text')]))).toBe(true); // reaches a stream's end (review s54)
  });
});

describe('stillContentCoded: a zlib stream with bytes after it, or cut short (review s54)', () => {
  it('is still coded: a trailing CRLF, two streams, a truncated stream; a bare header, FDICT and stray text are not', async () => {
    const { deflateSync } = await import('node:zlib');
    const z = deflateSync('hello hello hello hello world');
    expect(stillContentCoded('deflate', Buffer.concat([z, Buffer.from('\r\n')]))).toBe(true);
    expect(stillContentCoded('deflate', Buffer.concat([z, z]))).toBe(true);
    expect(stillContentCoded('deflate', z.subarray(0, z.length - 6))).toBe(true); // inflates cleanly to its end
    expect(stillContentCoded('deflate', z.subarray(0, 2))).toBe(false); // a header, nothing inflated
    expect(stillContentCoded('deflate', Buffer.from('x^ab'))).toBe(false); // header-like text, nothing inflated
    expect(stillContentCoded('deflate', Buffer.from('x^hello world'))).toBe(false); // a data error
    expect(stillContentCoded('deflate', Buffer.concat([z.subarray(0, z.length - 1), Buffer.from([z[z.length - 1]! ^ 1])]))).toBe(false); // bad check value
    expect(stillContentCoded('deflate', Buffer.from('x = 1'))).toBe(false); // FDICT set: left as text
  });
});

describe('stillContentCoded: printable text that inflates a few bytes cleanly is not a cut-short stream (review rvm4)', () => {
  it('reads x^2+1, HKSAR, (Skip)… as text; a cut-short stream that is not UTF-8, or holds a control byte, stays coded', async () => {
    const { deflateSync } = await import('node:zlib');
    // Each starts with a zlib header without FDICT and inflates at least one byte cleanly to its end.
    for (const text of ['x^2+1', 'x^2+y^2=r^2', 'x^3-1', 'HKSAR', 'HKJC', '(Skip)', 'x^2+1\r\n\tnext line']) {
      expect(stillContentCoded('deflate', Buffer.from(text)), text).toBe(false);
    }
    const z = deflateSync('hello hello hello hello world');
    expect(stillContentCoded('deflate', z.subarray(0, z.length - 6))).toBe(true); // cut short, not UTF-8
    expect(stillContentCoded('deflate', Buffer.from('x^ZT!\u0011'))).toBe(true); // cut short, UTF-8 with a control byte (0x11)
    expect(stillContentCoded('deflate', Buffer.concat([z, Buffer.from('\r\n')]))).toBe(true); // a whole stream, bytes after it
  });
});

describe('formFieldsIn: the encoding a _charset_ field names, without a charset', () => {
  it('reads the other fields in it, strictly; an escaped name counts; a given encoding wins', () => {
    expect(formFieldsIn('_charset_=windows-1252&a=%E9')).toEqual({ _charset_: 'windows-1252', a: 'é' });
    expect(formFieldsIn('%5Fcharset%5F=Shift%5FJIS&a=%83A')).toEqual({ _charset_: 'Shift_JIS', a: 'ア' });
    expect(formFieldsIn('_charset_=shift_jis&a=%83')).toBeUndefined();
    expect(formFieldsIn('_charset_=windows-1252&a=%C3%A9', 'utf-8')).toEqual({ _charset_: 'windows-1252', a: 'é' });
    expect(formFieldsIn('_charset_&a=%C3%A9')).toEqual({ _charset_: '', a: 'é' });
    expect(formFieldsIn('_charset_=utf-16le&a=%C3%A9')).toEqual({ _charset_: 'utf-16le', a: 'é' });
  });
});
