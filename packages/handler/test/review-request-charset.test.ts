/**
 * Review finding: a textual request body in a declared charset other than UTF-8
 * (`Content-Type: text/plain; charset=iso-8859-1`, `text/csv; charset=Shift_JIS`) reached the
 * function as U+FFFD replacement characters: `input` was the body's bytes decoded as UTF-8
 * whatever the charset said (RFC 9110 §8.3.2: the charset names the encoding of the text). The
 * Functions Framework's own text parser decodes by the declared charset (body-parser `text()`,
 * iconv-lite): `req.body` had the right text. (The OpenWhisk controller decodes every textual
 * body as UTF-8 before the action runs; nothing is left to decode there.) `input` is now the
 * text the charset names; `rawBytes` are the bytes and `rawBody` stays their UTF-8 view.
 * `body: 'text'` decodes the same way instead of refusing the bytes as not UTF-8.
 *
 * Shown on the real Functions Framework server (test/support/gcp-server.ts), where the
 * framework's own parse of the same request is the reference.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

async function post(contentType: string, bytes: Buffer, body: 'auto' | 'text' = 'auto'): Promise<{ input: unknown; frameworkText: unknown; ctx: Context }> {
  let seen: { input: unknown; frameworkText: unknown; ctx: Context } | undefined;
  const url = await serve('http', handler({ body, logSink: () => undefined }, (input, ctx) => {
    seen = { input, ctx, frameworkText: (ctx.raw as { req: { body: unknown } }).req.body };
    return { ok: true };
  }));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: bytes });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return seen!;
}

describe('HTTP request bodies in a declared charset', () => {
  it('ISO-8859-1 text: input is the text the charset names, as the framework reads it; rawBytes exact', async () => {
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    const { input, frameworkText, ctx } = await post('text/plain; charset=iso-8859-1', bytes);
    expect(frameworkText).toBe('café');
    expect(input).toBe('café');
    expect(ctx.trigger.kind === 'http' && [...ctx.trigger.request.rawBytes!]).toEqual([...bytes]);
  });

  it('Shift_JIS CSV, also under body: "text" (decoded, not refused as not UTF-8)', async () => {
    const bytes = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x2c, 0x31]); // 日本,1
    expect((await post('text/csv; charset=Shift_JIS', bytes)).input).toBe('日本,1');
    expect((await post('text/csv; charset=Shift_JIS', bytes, 'text')).input).toBe('日本,1');
  });

  it('(control) UTF-8, declared or not, is read as UTF-8', async () => {
    expect((await post('text/plain; charset=utf-8', Buffer.from('héllo'))).input).toBe('héllo');
    expect((await post('text/plain', Buffer.from('héllo'))).input).toBe('héllo');
  });
});
