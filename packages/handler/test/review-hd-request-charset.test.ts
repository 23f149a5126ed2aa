/**
 * Review findings (hd, request body decoding leftovers), through Lambda API Gateway events:
 * H2. A `charset` given twice (`text/plain; charset=utf-8; charset=latin1`) was read in the first
 *     value. Parsers disagree on which counts (WHATWG MIME Sniffing and jshttp keep the first, a
 *     map filled as it reads keeps the last; RFC 6838 §4.3: an error), so a WAF in front may read
 *     the body in the other: refused as two Content-Type headers are, with a 415 naming
 *     `headers.content-type.charset` (not under `body: 'bytes'`, which reads no charset).
 * H3. A form without a charset parameter was read as UTF-8 even when its `_charset_` field (HTML
 *     fills a hidden input of that name with the encoding the form is submitted in) names
 *     another: `name=Jos%E9` from an ISO-8859-1 page came as bytes. Right: the fields in the
 *     encoding `_charset_` names, strictly; a `charset` parameter still wins.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, type BodyMode } from '../src/index.js';

type Json = Record<string, any>;
const lambdaContext = { awsRequestId: 'req-hd', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const v1 = JSON.parse(readFileSync(new URL('./fixtures/aws/apigw-v1-post.json', import.meta.url), 'utf8')) as Json;

/** An API Gateway REST event whose body is `bytes` (base64, as with binary media types on) under `contentType`. */
function restEvent(contentType: string, bytes: Buffer): Json {
  const headers = Object.fromEntries(Object.entries(v1.headers as Json).filter(([k]) => k.toLowerCase() !== 'content-type'));
  const multi = Object.fromEntries(Object.entries((v1.multiValueHeaders ?? {}) as Json).filter(([k]) => k.toLowerCase() !== 'content-type'));
  return { ...v1, headers: { ...headers, 'content-type': contentType }, multiValueHeaders: { ...multi, 'content-type': [contentType] }, body: bytes.toString('base64'), isBase64Encoded: true };
}

async function run(contentType: string, bytes: Buffer, body: BodyMode = 'auto'): Promise<{ status: number; input: unknown; code?: string; field?: string }> {
  const seen: unknown[] = [];
  const main = handler({ body, logSink: () => undefined }, (input) => {
    seen.push(input);
    return { ok: true };
  });
  const res = (await main.aws(restEvent(contentType, bytes), lambdaContext)) as Json;
  const answer = (res.body ? JSON.parse(res.body as string) : {}) as Json;
  return { status: res.statusCode as number, input: seen[0], code: answer.code, field: answer.errors?.[0]?.field };
}

describe('H2. a charset given twice with different values', () => {
  const latin1 = Buffer.from('caf\xe9', 'latin1');
  for (const mode of ['auto', 'text', 'json'] as const) {
    it(`${mode}: 415 naming headers.content-type.charset, the function not run`, async () => {
      for (const type of ['text/plain; charset=utf-8; charset=latin1', 'text/plain; charset=latin1;charset="utf-8"', 'application/x-www-form-urlencoded; charset=shift_jis; charset=utf-8']) {
        expect([type, await run(type, latin1, mode)]).toEqual([type, { status: 415, input: undefined, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'headers.content-type.charset' }]);
      }
    });
  }

  it("'bytes' reads no charset: the bytes as sent", async () => {
    const got = await run('text/plain; charset=utf-8; charset=latin1', latin1, 'bytes');
    expect([got.status, Buffer.isBuffer(got.input) && (got.input as Buffer).equals(latin1)]).toEqual([200, true]);
  });

  it('(control) the same charset twice, in any case or quoted, and a charset inside a quoted value are one charset', async () => {
    expect((await run('text/plain; charset=latin1; charset="LATIN1"', latin1)).input).toBe('café');
    expect((await run('text/plain; note="charset=utf-8"; charset=latin1', latin1)).input).toBe('café');
  });
});

describe('H3. a form whose _charset_ field names its encoding', () => {
  const form = (text: string) => Buffer.from(text, 'latin1');
  const type = 'application/x-www-form-urlencoded';

  it('from an ISO-8859-1 page (a browser sends windows-1252, the encoding it uses for that label)', async () => {
    // <meta charset="iso-8859-1"> … <input type="hidden" name="_charset_">: "José Müller", "€ 5".
    const got = await run(type, form('_charset_=windows-1252&name=Jos%E9+M%FCller&note=%80+5'));
    expect(got).toEqual({ status: 200, input: { _charset_: 'windows-1252', name: 'José Müller', note: '€ 5' }, code: undefined, field: undefined });
    expect((await run(type, form('name=Jos%E9&_charset_=ISO-8859-1'))).input).toEqual({ name: 'José', _charset_: 'ISO-8859-1' });
  });

  it('from a Shift_JIS page: 日本語 and ア (whose second byte is the letter A)', async () => {
    const got = await run(type, form('_charset_=Shift_JIS&q=%93%FA%96%7B%8C%EA&kana=%83A'));
    expect(got.input).toEqual({ _charset_: 'Shift_JIS', q: '日本語', kana: 'ア' });
  });

  it('strictly: escapes not valid in the encoding it names leave the exact bytes, never U+FFFD', async () => {
    const bytes = form('_charset_=Shift_JIS&q=%83');
    const got = await run(type, bytes);
    expect([got.status, Buffer.isBuffer(got.input) && (got.input as Buffer).equals(bytes)]).toEqual([200, true]);
  });

  it('(control) a charset parameter wins; an unknown label leaves UTF-8, as without; of two different ones the first decides (see review-form-charset-field)', async () => {
    expect((await run(`${type}; charset=utf-8`, form('_charset_=windows-1252&a=%C3%A9'))).input).toEqual({ _charset_: 'windows-1252', a: 'é' });
    expect((await run(type, form('_charset_=x-no-such&a=%C3%A9'))).input).toEqual({ _charset_: 'x-no-such', a: 'é' });
    expect((await run(type, form('_charset_=windows-1252&_charset_=shift_jis&a=%C3%A9'))).input).toEqual({ _charset_: ['windows-1252', 'shift_jis'], a: 'Ã©' });
  });
});
