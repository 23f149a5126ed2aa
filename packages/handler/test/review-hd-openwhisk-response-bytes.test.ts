/**
 * Review finding (hd): an OpenWhisk web action answering bytes under a textual type (or no type)
 * that are not valid in the charset it declares had them decoded leniently — U+FFFD in place of
 * each invalid sequence — and sent as if nothing were wrong. The controller can send no other
 * form: under a textual type it takes only a string and sends it as UTF-8, and decodes base64
 * only for a binary type (OpenWhisk web-action docs), so answering the bytes under another type
 * would change what the client is told. Right: the function's `INVALID_HTTP_RESULT` (500, field
 * `body`, logged), rendered through the one render point, never mangled text; valid bytes in the
 * declared charset still reach the client as the same text in UTF-8.
 *
 * Read with the controller emulation (test/fixtures/openwhisk/controller.ts).
 */
import { describe, expect, it } from 'vitest';
import { controllerHttp } from './fixtures/openwhisk/controller.js';
import { handler, httpResult } from '../src/openwhisk.js';

type Result = Record<string, any>;
const get = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };

async function send(contentType: string, body: Buffer) {
  const logs: Result[] = [];
  const result = (await handler({ logSink: (line) => void logs.push(JSON.parse(line) as Result) }, () =>
    httpResult({ headers: { 'content-type': contentType }, body }),
  )(get)) as Result;
  const sent = controllerHttp(result);
  return { status: sent.status, text: sent.body.toString('utf8'), logs };
}

describe('OpenWhisk web action: response bytes under a textual type', () => {
  const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x2c, 0x83, 0x41, 0x0a]); // 日本語,ア\n

  it('valid Shift_JIS: the client gets the same text, in UTF-8', async () => {
    expect(await send('text/csv; charset=Shift_JIS', sjis)).toMatchObject({ status: 200, text: '日本語,ア\n' });
  });

  it('invalid Shift_JIS (a lead byte cut off), invalid UTF-8 with or without a charset Node knows: a 500 INVALID_HTTP_RESULT naming body, no U+FFFD sent', async () => {
    for (const [type, bytes] of [
      ['text/csv; charset=Shift_JIS', Buffer.concat([sjis, Buffer.from([0x83])])],
      ['text/plain; charset=utf-8', Buffer.from([0x63, 0x61, 0x66, 0xe9])],
      ['text/plain; charset=x-no-such-charset', Buffer.from([0xff, 0xfe, 0x41])],
    ] as const) {
      const got = await send(type, bytes);
      expect([type, got.status, (JSON.parse(got.text) as Result).code, got.text.includes('\uFFFD')]).toEqual([type, 500, 'INVALID_HTTP_RESULT', false]);
      expect(got.logs.filter((l) => l.code === 'INVALID_HTTP_RESULT').map((l) => l.field)).toEqual(['body']);
    }
  });

  it('(control) the same invalid bytes under a binary type are sent as they are (base64, decoded by the controller)', async () => {
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const result = (await handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': 'application/octet-stream' }, body: bytes }))(get)) as Result;
    expect(controllerHttp(result).body.equals(bytes)).toBe(true);
  });
});
