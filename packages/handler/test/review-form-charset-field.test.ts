/**
 * Review findings D2–D4 on the `_charset_` field of a form without a `charset` parameter
 * (`formFieldsIn`, http-body-form.ts):
 *
 * D2 (security). The field let the body choose ISO-2022-JP, whose escape sequences decode to
 *     nothing: a WAF reading the form as UTF-8 saw `<scr\x1b(Bipt>`, the function got `<script>`.
 *     Right: only ASCII-compatible, stateless encodings are taken from the field (never
 *     ISO-2022-JP or UTF-16); the others count as no field (UTF-8).
 * D3. The name was matched case-sensitively; browsers fill `_CHARSET_` too (ASCII
 *     case-insensitive, whatwg/html#5914). Right: ASCII case-insensitively.
 * D4. Two different `_charset_` fields fell back to UTF-8 without a word; HTML's legacy decoding
 *     takes the first. Right: the first.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { formFieldsIn } from '../src/http-body.js';

type Json = Record<string, any>;
const lambdaContext = { awsRequestId: 'req-fx2', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const v1 = JSON.parse(readFileSync(new URL('./fixtures/aws/apigw-v1-post.json', import.meta.url), 'utf8')) as Json;

/** What the function receives for a form body `text` (API Gateway REST, no charset parameter). */
async function received(text: string): Promise<unknown> {
  const seen: unknown[] = [];
  const main = handler({ logSink: () => undefined }, (input) => (seen.push(input), { ok: true }));
  const headers = Object.fromEntries(Object.entries(v1.headers as Json).filter(([k]) => k.toLowerCase() !== 'content-type'));
  const multi = Object.fromEntries(Object.entries((v1.multiValueHeaders ?? {}) as Json).filter(([k]) => k.toLowerCase() !== 'content-type'));
  const type = 'application/x-www-form-urlencoded';
  await main.aws({ ...v1, headers: { ...headers, 'content-type': type }, multiValueHeaders: { ...multi, 'content-type': [type] }, body: text, isBase64Encoded: false }, lambdaContext);
  return seen[0];
}

describe('D2. _charset_ cannot choose a stateful or ASCII-incompatible encoding', () => {
  it('ISO-2022-JP escapes do not vanish: the function gets what a UTF-8 reader (a WAF) sees, never <script>', async () => {
    const input = (await received('_charset_=iso-2022-jp&q=%3Cscr%1B%28Bipt%3Ealert(1)%3C%2Fscr%1B%28Bipt%3E')) as Json;
    expect(input).toEqual({ _charset_: 'iso-2022-jp', q: '<scr\x1b(Bipt>alert(1)</scr\x1b(Bipt>' });
    expect(input.q).not.toContain('<script>');
  });

  it('nor through an alias, an escaped label or a case variant; UTF-16 is not taken either', () => {
    for (const label of ['csISO2022JP', 'ISO-2022-JP', 'iso%2D2022%2Djp', 'utf-16', 'UTF-16BE', 'unicodefffe']) {
      expect([label, formFieldsIn(`_charset_=${label}&q=%3Cscr%1B%28Bipt%3E`)?.q]).toEqual([label, '<scr\x1b(Bipt>']);
    }
  });

  it('(control) a Content-Type charset=iso-2022-jp is the client’s own declaration and still applies', () => {
    expect(formFieldsIn('q=%3Cscr%1B%28Bipt%3E', 'iso-2022-jp')).toEqual({ q: '<script>' });
  });

  it('(control) ASCII-compatible encodings still apply: windows-1252, Shift_JIS, EUC-JP, GBK, Big5', () => {
    expect(formFieldsIn('_charset_=windows-1252&a=%E9')?.a).toBe('é');
    expect(formFieldsIn('_charset_=Shift_JIS&a=%83A')?.a).toBe('ア');
    expect(formFieldsIn('_charset_=EUC-JP&a=%A5%A2')?.a).toBe('ア');
    expect(formFieldsIn('_charset_=gbk&a=%C4%E3')?.a).toBe('你');
    expect(formFieldsIn('_charset_=big5&a=%A7%41')?.a).toBe('你');
  });
});

describe('D3. the field name is matched ASCII case-insensitively', () => {
  it('_CHARSET_ and _Charset_ (as sent or escaped) name the encoding', async () => {
    expect(await received('_CHARSET_=windows-1252&a=%E9')).toEqual({ _CHARSET_: 'windows-1252', a: 'é' });
    expect(formFieldsIn('_Charset_=Shift_JIS&a=%83A')).toEqual({ _Charset_: 'Shift_JIS', a: 'ア' });
    expect(formFieldsIn('%5FCHARSET%5F=windows-1252&a=%E9')).toEqual({ _CHARSET_: 'windows-1252', a: 'é' });
  });

  it('(control) only ASCII letters fold: a name with a non-ASCII look-alike is another field', () => {
    // U+0130 (İ) and U+0131 (ı) are not I/i to an ASCII comparison; U+017F (ſ) lower-cases to nothing ASCII either.
    expect(formFieldsIn('_charſet_=windows-1252&a=%C3%A9')?.a).toBe('é');
    expect(formFieldsIn('_chars%C4%B1t_=windows-1252&a=%C3%A9')?.a).toBe('é');
  });
});

describe('D4. of several _charset_ fields, the first decides', () => {
  it('two different labels: the first (HTML legacy decoding), not UTF-8', async () => {
    expect(await received('_charset_=windows-1252&_charset_=shift_jis&a=%E9')).toEqual({ _charset_: ['windows-1252', 'shift_jis'], a: 'é' });
    expect(formFieldsIn('_charset_=Shift_JIS&_CHARSET_=windows-1252&a=%83A')?.a).toBe('ア');
  });

  it('a first field naming no usable encoding (unknown, empty, refused) is skipped for the next', () => {
    expect(formFieldsIn('_charset_=x-no-such&_charset_=windows-1252&a=%E9')?.a).toBe('é');
    expect(formFieldsIn('_charset_&_charset_=windows-1252&a=%E9')?.a).toBe('é');
    expect(formFieldsIn('_charset_=iso-2022-jp&_charset_=windows-1252&a=%E9')?.a).toBe('é');
  });
});
