/**
 * Review finding D6: an OpenWhisk web action answering bytes under a textual type ignored a byte
 * order mark: `text/plain; charset=utf-16` with `FE FF 00 68 00 69` (big-endian `hi`, RFC 2781
 * §4.3) was decoded as UTF-16LE (TextDecoder's `utf-16`), mark and all, and the client got
 * `\ufffe栀椀`. Right: the rule request bodies follow (`textInCharset`, WHATWG Encoding Standard
 * "decode"): under a declared charset a UTF-16 mark decides whatever the label, a UTF-8 mark
 * under a label other than UTF-8; the mark is removed.
 *
 * Read with the controller emulation (test/fixtures/openwhisk/controller.ts), which sends a
 * textual string body as its UTF-8 bytes.
 */
import { describe, expect, it } from 'vitest';
import { controllerHttp } from './fixtures/openwhisk/controller.js';
import { handler, httpResult } from '../src/openwhisk.js';

type Result = Record<string, any>;
const get = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };

async function sent(contentType: string, body: Buffer): Promise<{ status: number; text: string }> {
  const result = (await handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': contentType }, body }))(get)) as Result;
  const http = controllerHttp(result);
  return { status: http.status, text: http.body.toString('utf8') };
}

describe('OpenWhisk web action: a byte order mark decides a textual response body', () => {
  it('charset=utf-16 with a big-endian mark: the client gets "hi", not "\\ufffe栀椀"', async () => {
    expect(await sent('text/plain; charset=utf-16', Buffer.from([0xfe, 0xff, 0x00, 0x68, 0x00, 0x69]))).toEqual({ status: 200, text: 'hi' });
  });

  it('a UTF-16 mark decides whatever the label; a UTF-8 mark under another label too; both are removed', async () => {
    expect(await sent('text/plain; charset=utf-16le', Buffer.from([0xfe, 0xff, 0x00, 0x68, 0x00, 0x69]))).toEqual({ status: 200, text: 'hi' });
    expect(await sent('text/csv; charset=utf-16', Buffer.from([0xff, 0xfe, 0x68, 0x00, 0x69, 0x00]))).toEqual({ status: 200, text: 'hi' });
    expect(await sent('text/plain; charset=windows-1252', Buffer.from([0xef, 0xbb, 0xbf, 0x63, 0x61, 0x66, 0xc3, 0xa9]))).toEqual({ status: 200, text: 'café' });
  });

  it('(control) a UTF-8 mark under UTF-8 stays, as U+FEFF; bytes not valid after the mark are still INVALID_HTTP_RESULT', async () => {
    expect(await sent('text/plain; charset=utf-8', Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69]))).toEqual({ status: 200, text: '\ufeffhi' });
    const odd = await sent('text/plain; charset=utf-16', Buffer.from([0xfe, 0xff, 0x00, 0x68, 0x00]));
    expect([odd.status, (JSON.parse(odd.text) as Result).code]).toEqual([500, 'INVALID_HTTP_RESULT']);
  });
});
