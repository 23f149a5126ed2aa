import { describe, expect, it } from 'vitest';
import { decodeBody, httpInput, isTextualContentType } from './http.js';
import { normaliseHeaders } from './http-headers.js';
import { parseQueryString, queryFromObject } from './http-query.js';
import { binaryBody } from '../test/support/bytes.js';
import type { HttpRequest } from './types.js';

const request = (over: Partial<HttpRequest>): HttpRequest => ({ method: 'POST', path: '/', headers: {}, query: {}, multiQuery: {}, rawBody: undefined, ...over });

describe('httpInput', () => {
  it('parses JSON bodies, forms and falls back to the query without a body', () => {
    expect(httpInput(request({ headers: { 'content-type': 'application/json' }, rawBody: '{"a":1}' }))).toEqual({ a: 1 });
    expect(httpInput(request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: 'a=1&b=x+y' }))).toEqual({ a: '1', b: 'x y' });
    expect(httpInput(request({ method: 'GET', query: { q: 'z' } }))).toEqual({ q: 'z' });
    expect(httpInput(request({ headers: { 'content-type': 'text/plain' }, rawBody: 'hello' }))).toBe('hello');
  });

  it('rejects invalid JSON with a typed 400 naming the body', () => {
    let caught: unknown;
    try {
      httpInput(request({ headers: { 'content-type': 'application/json' }, rawBody: '{oops' }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'MALFORMED_EVENT', status: 400, issues: [{ field: 'body' }] });
  });
});

describe('binary bodies', () => {
  it('classifies content types as text or binary', () => {
    const textual = [
      'text/plain', 'TEXT/CSV', 'text/x-anything', 'application/json', 'application/problem+json', 'application/x-ndjson',
      'application/xml', 'application/atom+xml', 'image/svg+xml', 'application/xml-dtd', 'application/x-www-form-urlencoded',
      'application/javascript', 'text/javascript', 'application/ecmascript', 'application/graphql', 'application/x-yaml',
      'application/octet-stream; charset=utf-8', 'image/png;CHARSET="latin1"', '', undefined,
    ];
    const binary = [
      'application/octet-stream', 'image/png', 'application/pdf', 'application/x-protobuf', 'application/grpc', 'audio/mpeg',
      'multipart/form-data; boundary=xyz', 'application/zip', 'font/woff2', 'application/cbor',
      // docx and xlsx are zip archives, whatever their names say.
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/octet-stream; name=charset=x.bin',
      'nonsense',
      // multipart never (its parts may be files), nor anything with charset=binary (`file -bi`).
      'multipart/form-data; boundary=XyZ; charset=UTF-8', 'application/pdf; charset=binary', 'text/plain; charset="Binary"',
    ];
    for (const type of textual) expect([type, isTextualContentType(type)]).toEqual([type, true]);
    for (const type of binary) expect([type, isTextualContentType(type)]).toEqual([type, false]);
  });

  it('reads a quoted parameter value as one value, even when it holds ";" (RFC 9110 §5.6.4)', () => {
    // No charset parameter here: `charset=…` is inside another parameter's quoted value.
    const bytes = Buffer.from([0xff, 0x80, 0x00, 0x7f]);
    const octets = 'application/octet-stream; note="a;charset=utf-8"';
    expect(isTextualContentType(octets)).toBe(false);
    expect(httpInput(request({ headers: { 'content-type': octets }, rawBody: bytes.toString('utf8'), rawBytes: bytes }))).toBe(bytes);
    // UTF-8 text: a `charset=latin1` inside a quoted value must not make it Latin-1.
    const utf8 = Buffer.from('café', 'utf8');
    expect(httpInput(request({ headers: { 'content-type': 'text/plain; title="x;charset=latin1"' }, rawBody: 'café', rawBytes: utf8 }))).toBe('café');
    // The real charset after a quoted value that holds ";" is still read.
    const latin1 = Buffer.from('café', 'latin1');
    expect(httpInput(request({ headers: { 'content-type': 'text/plain; title="a;b"; charset=latin1' }, rawBody: latin1.toString('utf8'), rawBytes: latin1 }))).toBe('café');
  });

  it('gives the exact bytes as a Buffer for a binary content type, and keeps text, JSON and forms as they were', () => {
    const bytes = binaryBody();
    for (const type of ['application/octet-stream', 'image/png', 'application/pdf', 'multipart/form-data; boundary=xyz']) {
      const input = httpInput(request({ headers: { 'content-type': type }, rawBody: bytes.toString('utf8'), rawBytes: bytes }));
      // The very Buffer the adapter read: no copy.
      expect(input).toBe(bytes);
    }
    expect(httpInput(request({ headers: { 'content-type': 'text/plain' }, rawBody: 'hi', rawBytes: Buffer.from('hi') }))).toBe('hi');
    expect(httpInput(request({ headers: { 'content-type': 'image/svg+xml' }, rawBody: '<svg/>', rawBytes: Buffer.from('<svg/>') }))).toBe('<svg/>');
    expect(httpInput(request({ headers: { 'content-type': 'application/json' }, rawBody: '[1]', rawBytes: Buffer.from('[1]') }))).toEqual([1]);
    // Without a content type, as before: JSON when it looks like JSON, else text.
    expect(httpInput(request({ rawBody: ' {"a":1}', rawBytes: Buffer.from(' {"a":1}') }))).toEqual({ a: 1 });
    expect(httpInput(request({ rawBody: 'plain', rawBytes: Buffer.from('plain') }))).toBe('plain');
  });

  it('gives a binary body built by hand without bytes as the UTF-8 bytes of its text', () => {
    const input = httpInput(request({ headers: { 'content-type': 'application/octet-stream' }, rawBody: 'héllo' }));
    expect(Buffer.isBuffer(input)).toBe(true);
    expect((input as Buffer).equals(Buffer.from('héllo', 'utf8'))).toBe(true);
  });

  it('treats bytes without text (a lone byte order mark) as a binary body, and as no body for a textual type', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(httpInput(request({ headers: { 'content-type': 'application/octet-stream' }, rawBody: undefined, rawBytes: bom }))).toBe(bom);
    expect(httpInput(request({ headers: { 'content-type': 'text/plain' }, rawBody: undefined, rawBytes: bom, query: { q: '1' } }))).toEqual({ q: '1' });
  });

  it('decodes a provider body into both views, reusing the decoded bytes', () => {
    const bytes = binaryBody(64);
    const decoded = decodeBody(bytes.toString('base64'), true);
    expect(decoded.rawBytes?.equals(bytes)).toBe(true);
    expect(decoded.rawBody).toBe(bytes.toString('utf8'));
    expect(decodeBody('héllo', false)).toEqual({ rawBody: 'héllo', rawBytes: Buffer.from('héllo', 'utf8') });
    expect(decodeBody('', false)).toEqual({ rawBody: '', rawBytes: undefined });
    expect(decodeBody(undefined, true)).toEqual({ rawBody: undefined, rawBytes: undefined });
    // A value some caller already parsed has text again, but no bytes anyone sent.
    expect(decodeBody({ a: 1 }, false)).toEqual({ rawBody: '{"a":1}', rawBytes: undefined });
  });
});

describe('header and query helpers', () => {
  it('lower-cases names and joins repeated values', () => {
    expect(normaliseHeaders({ 'X-A': '1', 'x-a': '2', Accept: ['a', 'b'], Skip: undefined })).toEqual({ 'x-a': '1, 2', accept: 'a, b' });
    // Found by fuzzing: a value with no usable toString (JSON can carry `{"toString":0}`) becomes '' instead of throwing.
    expect(normaliseHeaders({ a: { toString: 0 }, b: [{ toString: 0 }, 'x'], c: 7 })).toEqual({ a: '', b: ', x', c: '7' });
  });
  it('keeps the last single value and every multi value', () => {
    expect(parseQueryString('?a=1&a=2&b=%20x')).toEqual({ query: { a: '2', b: ' x' }, multiQuery: { a: ['1', '2'], b: [' x'] } });
    expect(queryFromObject({ a: '2' }, { a: ['1', '2'] })).toEqual({ query: { a: '2' }, multiQuery: { a: ['1', '2'] } });
  });
  it('a null inside a multi-value list is no value, not the text "null" (API Gateway test console, hand-built events)', () => {
    expect(queryFromObject({ a: 'x' }, { a: [null, 'x'], b: [null], c: ['1', null] })).toEqual({ query: { a: 'x', c: '1' }, multiQuery: { a: ['x'], c: ['1'] } });
    expect(queryFromObject({ a: [null, 'y'] })).toEqual({ query: { a: 'y' }, multiQuery: { a: ['y'] } });
  });
  it('keeps hostile names such as __proto__ as plain own fields without polluting prototypes', () => {
    const { query, multiQuery } = parseQueryString('__proto__=x&toString=y&toString=z');
    expect(Object.keys(query)).toEqual(['__proto__', 'toString']);
    expect(query.toString).toBe('z');
    expect(multiQuery.toString).toEqual(['y', 'z']);
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    const headers = normaliseHeaders(JSON.parse('{"__proto__":"a","constructor":"b"}'));
    expect(Object.keys(headers).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('a');
    expect(Object.getOwnPropertyDescriptor(headers, 'constructor')?.value).toBe('b');
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });
});
