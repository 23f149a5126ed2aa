/**
 * Review findings (hbf, HTTP body decoding after hb):
 * F3. A Lambda body with `isBase64Encoded: false` is text API Gateway (REST without binary media
 *     types, HTTP API), the ALB or the Function URL already decoded; it was turned back into its
 *     UTF-8 bytes and decoded again in the declared charset (`café` under `charset=iso-8859-1`
 *     came out `cafÃ©`). Right: the provider's text as it is, forms parsed from it; where it holds
 *     U+FFFD under a declared charset other than UTF-8 its bytes were lost → 415.
 * F4. `charset=utf-16` with a big-endian byte order mark (`FE FF`, Java's getBytes("UTF-16")) was
 *     read little-endian. Right: a byte order mark decides and is removed (WHATWG "decode",
 *     RFC 2781 §4.3), also before a form's first field name.
 * F5. OpenWhisk: text in a declared charset other than UTF-8 that the controller decoded as UTF-8
 *     (U+FFFD present) reached the function. Right: 415 naming `headers.content-type.charset`.
 *     A genuine U+FFFD in UTF-8 text under a coding a proxy already undid is not refused.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { handler, type BodyMode } from '../src/index.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

type Json = Record<string, any>;
const lambdaContext = { awsRequestId: 'req-hbf', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}.json`, import.meta.url), 'utf8')) as Json;

/** A Lambda HTTP event of each kind with a text body (`isBase64Encoded: false`) under `contentType`. */
function lambdaEvent(kind: string, contentType: string, body: string): Json {
  const event = fixture(kind === 'function-url' ? 'function-url-get' : kind);
  if (kind === 'function-url') event.requestContext.http.method = 'POST';
  if (event.multiValueHeaders) event.multiValueHeaders = { ...Object.fromEntries(Object.entries(event.multiValueHeaders as Json).filter(([k]) => k.toLowerCase() !== 'content-type')), 'content-type': [contentType] };
  if (event.headers) event.headers = { ...Object.fromEntries(Object.entries(event.headers as Json).filter(([k]) => k.toLowerCase() !== 'content-type')), 'content-type': contentType };
  return { ...event, body, isBase64Encoded: false };
}

async function run(call: (main: ReturnType<typeof handler>) => Promise<unknown>, body: BodyMode = 'auto'): Promise<{ status: number; input: unknown; answer: Json }> {
  const seen: unknown[] = [];
  const main = handler({ body, logSink: () => undefined }, (input) => {
    seen.push(input);
    return { ok: true };
  });
  const res = (await call(main)) as Json;
  const r = (Object.hasOwn(res, 'error') ? res.error : res) as Json;
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  return { status: (r.statusCode ?? 200) as number, input: seen[0], answer: text ? (JSON.parse(text) as Json) : {} };
}

describe('F3. Lambda text bodies (isBase64Encoded: false) are the provider\'s text', () => {
  for (const kind of ['apigw-v1-post', 'apigw-v2-post', 'alb-multi-value-post', 'function-url']) {
    for (const mode of ['auto', 'text'] as const) {
      it(`${kind}, ${mode}: text in a declared charset arrives as sent`, async () => {
        for (const [type, text] of [['text/plain; charset=iso-8859-1', 'café'], ['text/plain; charset=shift_jis', '日本']] as const) {
          const got = await run((main) => main.aws(lambdaEvent(kind, type, text), lambdaContext), mode);
          expect([type, got.status, got.input]).toEqual([type, 200, text]);
        }
      });
    }

    it(`${kind}: a form in ISO-8859-1 is parsed from the text, escapes decoded in the charset`, async () => {
      const got = await run((main) => main.aws(lambdaEvent(kind, 'application/x-www-form-urlencoded; charset=iso-8859-1', 'a=caf%E9&b=café'), lambdaContext));
      expect(got.input).toEqual({ a: 'café', b: 'café' });
    });

    it(`${kind}: U+FFFD under a declared charset other than UTF-8 is bytes lost → 415 naming the charset`, async () => {
      for (const mode of ['auto', 'text'] as const) {
        const got = await run((main) => main.aws(lambdaEvent(kind, 'text/plain; charset=iso-8859-1', 'caf\uFFFD'), lambdaContext), mode);
        expect(got.input).toBeUndefined();
        expect(got.status).toBe(415);
        expect(got.answer).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', errors: [{ field: 'headers.content-type.charset' }] });
      }
    });
  }

  it('U+FFFD in UTF-8 text is kept (the client may have sent it)', async () => {
    const got = await run((main) => main.aws(lambdaEvent('apigw-v2-post', 'text/plain; charset=utf-8', 'a\uFFFDb'), lambdaContext), 'text');
    expect(got.input).toBe('a\uFFFDb');
  });
});

describe('F4. a byte order mark decides the encoding and is removed', () => {
  const base64Event = (contentType: string, bytes: Buffer): Json => ({ ...lambdaEvent('apigw-v2-post', contentType, ''), body: bytes.toString('base64'), isBase64Encoded: true });
  const be = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();

  for (const mode of ['auto', 'text'] as const) {
    it(`${mode}: charset=utf-16 with FE FF is big-endian; FF FE little-endian; no U+FEFF left`, async () => {
      const cases: Array<[string, Buffer]> = [
        ['text/plain; charset=utf-16', Buffer.concat([Buffer.from([0xfe, 0xff]), be('café')])],
        ['text/plain; charset=utf-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('café', 'utf16le')])],
        ['text/plain; charset=utf-16le', Buffer.concat([Buffer.from([0xfe, 0xff]), be('café')])],
        ['text/plain; charset=windows-1252', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('café')])],
      ];
      for (const [type, bytes] of cases) {
        const got = await run((main) => main.aws(base64Event(type, bytes), lambdaContext), mode);
        expect([type, bytes.toString('hex'), got.input]).toEqual([type, bytes.toString('hex'), 'café']);
      }
    });
  }

  it('a UTF-16LE form with its BOM: the first field name has no U+FEFF', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a=%C3%A9&b=1', 'utf16le')]);
    const got = await run((main) => main.aws(base64Event('application/x-www-form-urlencoded; charset=utf-16', bytes), lambdaContext));
    expect(got.input).toEqual({ a: 'é', b: '1' });
  });
});

describe('F5. OpenWhisk: text the controller decoded as UTF-8 under another charset', () => {
  for (const raw of [false, true]) {
    for (const mode of ['auto', 'text'] as const) {
      it(`${raw ? 'raw' : 'non-raw'}, ${mode}: Latin-1 bytes read as UTF-8 (U+FFFD) → 415 naming the charset; the function does not run`, async () => {
        const params = controllerParams({ method: 'POST', contentType: 'text/plain; charset=iso-8859-1', body: Buffer.from('caf\xe9', 'latin1') }, raw);
        expect(params.__ow_body).toBe('caf\uFFFD');
        const got = await run((main) => main.openwhisk(params) as Promise<unknown>, mode);
        expect(got.input).toBeUndefined();
        expect([got.status, got.answer.code, got.answer.errors?.[0]?.field]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE', 'headers.content-type.charset']);
      });
    }
  }

  it('raw: a Latin-1 form the controller read as UTF-8 → 415', async () => {
    const params = controllerParams({ method: 'POST', contentType: 'application/x-www-form-urlencoded; charset=iso-8859-1', body: Buffer.from('a=caf\xe9', 'latin1') }, true);
    const got = await run((main) => main.openwhisk(params) as Promise<unknown>);
    expect([got.status, got.answer.errors?.[0]?.field]).toEqual([415, 'headers.content-type.charset']);
  });

  it('UTF-8 text with a genuine U+FFFD under a gzip a proxy already inflated is read, not refused', async () => {
    const params = controllerParams({ method: 'POST', contentType: 'text/plain', headers: { 'content-encoding': 'gzip' }, body: 'a\uFFFDb' }, true);
    const got = await run((main) => main.openwhisk(params) as Promise<unknown>, 'text');
    expect([got.status, got.input]).toEqual([200, 'a\uFFFDb']);
  });
});
