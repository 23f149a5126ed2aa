/**
 * Review findings (hb, HTTP request bodies read in their declared charset):
 * 1. Text in a declared charset was decoded with a lenient decoder: bytes not valid in that
 *    charset (`text/plain; charset=shift_jis` with a cut-off character, `charset=utf-16le` with
 *    a lone surrogate) became U+FFFD and the function got garbled text. Right: under `'auto'` such
 *    a body is its exact bytes (a body that cannot be read as text), under `'text'` a 400
 *    `MALFORMED_EVENT` naming `body`.
 * 2. A charset the WHATWG Encoding Standard does not know (`charset=x-unknown`, or `iso-2022-kr`,
 *    which it maps to "replacement") was ignored and the bytes read as UTF-8. Right: under `'auto'`
 *    the exact bytes, under `'text'` a 415 `UNSUPPORTED_MEDIA_TYPE` naming
 *    `headers.content-type.charset`.
 * 3. A form in ISO-8859-1 (`name=Jos%E9`) had its percent-decoded bytes read as UTF-8: `Jos\uFFFD`.
 *    Right: they are text in the form's charset (`José`), as a browser encodes a form in its
 *    page's charset and body-parser (its `charset` option) and servlet containers read it; a
 *    form whose escapes are not valid in its charset (`%E9` under UTF-8) is its exact bytes.
 * API Gateway HTTP API (v2) events as Lambda receives them.
 */
import { describe, expect, it } from 'vitest';
import { handler, type BodyMode } from '../src/index.js';

type Json = Record<string, any>;
const lambdaContext = { awsRequestId: 'req-hb', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };

function post(contentType: string, bytes: Buffer): Json {
  return {
    version: '2.0',
    routeKey: 'POST /in',
    rawPath: '/in',
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'content-type': contentType },
    requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', http: { method: 'POST', path: '/in', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'x' }, requestId: 'r-hb', routeKey: 'POST /in', stage: '$default', time: '06/Dec/2026:05:00:00 +0000', timeEpoch: 1796533200000 },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}

/** What the function got (undefined when it did not run), the status and the parsed answer body. */
async function send(contentType: string, bytes: Buffer, body: BodyMode = 'auto'): Promise<{ status: number; input: unknown; answer: Json }> {
  const seen: unknown[] = [];
  const res = (await handler({ body, logSink: () => undefined }, (input) => {
    seen.push(input);
    return { ok: true };
  }).aws(post(contentType, bytes), lambdaContext)) as Json;
  return { status: res.statusCode as number, input: seen[0], answer: JSON.parse(res.body as string) as Json };
}

function expectBytes(input: unknown, bytes: Buffer): void {
  expect(Buffer.isBuffer(input)).toBe(true);
  expect((input as Buffer).equals(bytes)).toBe(true);
}

// 日本 in Shift_JIS, then a lead byte with no trail byte: not Shift_JIS.
const CUT_SJIS = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x82]);
// "a" then a lone high surrogate (D800) in UTF-16LE.
const LONE_SURROGATE = Buffer.from([0x61, 0x00, 0x00, 0xd8]);

describe('1. text not valid in its declared charset is never garbled', () => {
  it.each([
    ['text/plain; charset=shift_jis', CUT_SJIS],
    ['text/csv; charset=Shift_JIS', CUT_SJIS],
    ['text/plain; charset=utf-16le', LONE_SURROGATE],
    ['text/plain; charset=utf-8', Buffer.from([0x63, 0x61, 0x66, 0xe9])],
  ])("'auto', %s: the exact bytes, not text with U+FFFD", async (type, bytes) => {
    const { status, input } = await send(type, bytes);
    expect(status).toBe(200);
    expectBytes(input, bytes);
  });

  it("'text', shift_jis bytes invalid in it: 400 MALFORMED_EVENT naming body and the charset; the function does not run", async () => {
    const { status, input, answer } = await send('text/plain; charset=shift_jis', CUT_SJIS, 'text');
    expect(status).toBe(400);
    expect(input).toBeUndefined();
    expect(answer).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'shift_jis text' }] });
  });

  it('(control) valid text in its charset is still decoded, under both modes', async () => {
    const bytes = Buffer.from([0x93, 0xfa, 0x96, 0x7b]);
    expect((await send('text/plain; charset=shift_jis', bytes)).input).toBe('日本');
    expect((await send('text/plain; charset=shift_jis', bytes, 'text')).input).toBe('日本');
    // windows-1252 (what iso-8859-1 names) maps every byte: never invalid.
    expect((await send('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x81]))).input).toBe('café\u0081');
  });
});

describe('2. a charset the Encoding Standard does not know', () => {
  it.each(['text/plain; charset=x-unknown', 'text/plain; charset=iso-2022-kr', 'application/xml; charset="no such"'])(
    "'auto', %s: the exact bytes, even when they read as UTF-8",
    async (type) => {
      const bytes = Buffer.from('hello');
      const { status, input } = await send(type, bytes);
      expect(status).toBe(200);
      expectBytes(input, bytes);
    },
  );

  it("'text': 415 UNSUPPORTED_MEDIA_TYPE naming the charset; the label is not echoed; the function does not run", async () => {
    const { status, input, answer } = await send('text/plain; charset=x-unknown', Buffer.from('hello'), 'text');
    expect(status).toBe(415);
    expect(input).toBeUndefined();
    expect(answer).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', errors: [{ field: 'headers.content-type.charset', message: 'Unknown charset' }] });
    expect(JSON.stringify(answer)).not.toContain('x-unknown');
  });

  it("(control) JSON ignores the charset: UTF-8 JSON under charset=x-unknown is parsed", async () => {
    expect((await send('application/json; charset=x-unknown', Buffer.from('{"a":1}'))).input).toEqual({ a: 1 });
  });
});

describe('3. form fields are percent-decoded in the form charset', () => {
  const FORM = 'application/x-www-form-urlencoded';
  it('ISO-8859-1: name=Jos%E9&city=Z%FCrich is José and Zürich', async () => {
    const { status, input } = await send(`${FORM}; charset=ISO-8859-1`, Buffer.from('name=Jos%E9&city=Z%FCrich'));
    expect(status).toBe(200);
    expect(input).toEqual({ name: 'José', city: 'Zürich' });
  });

  it('Shift_JIS escapes and literal Latin-1 bytes are both read in the declared charset', async () => {
    expect((await send(`${FORM}; charset=shift_jis`, Buffer.from('q=%93%FA%96%7B&n=1'))).input).toEqual({ q: '日本', n: '1' });
    expect((await send(`${FORM}; charset=iso-8859-1`, Buffer.from('city=Z\u00fcrich', 'latin1'))).input).toEqual({ city: 'Zürich' });
  });

  it('UTF-8 (declared or not) as before: +, %2B, repeated names, a stray % kept', async () => {
    const bytes = Buffer.from('name=Jos%C3%A9&t=a+b&t=%2B&p=100%&empty');
    const expected = { name: 'José', t: ['a b', '+'], p: '100%', empty: '' };
    expect((await send(FORM, bytes)).input).toEqual(expected);
    expect((await send(`${FORM}; charset=utf-8`, bytes)).input).toEqual(expected);
  });

  it('escapes not valid in the charset (%E9 under UTF-8, a cut Shift_JIS character): the exact bytes, not U+FFFD', async () => {
    for (const [type, text] of [[FORM, 'name=Jos%E9'], [`${FORM}; charset=shift_jis`, 'q=%93'], [`${FORM}; charset=x-unknown`, 'a=1']] as const) {
      const bytes = Buffer.from(text);
      const { status, input } = await send(type, bytes);
      expect(status).toBe(200);
      expectBytes(input, bytes);
    }
  });

  it('keeps hostile names as own fields', async () => {
    const input = (await send(`${FORM}; charset=iso-8859-1`, Buffer.from('__proto__=%E9&constructor=x'))).input as Record<string, unknown>;
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(input, '__proto__')?.value).toBe('é');
    expect(input.constructor).toBe('x');
  });
});
