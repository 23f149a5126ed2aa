/**
 * Review finding: an OpenWhisk web action that answers bytes under a textual media type with a
 * charset other than UTF-8 (`text/csv; charset=Shift_JIS`, `text/plain; charset=iso-8859-1`)
 * reached the client as mojibake. Under a textual type the controller takes only a string body
 * and always sends it as UTF-8: apache/openwhisk `WebActions.scala` `interpretHttpResponse`
 * reads the type with akka-http's `MediaType.parse` (`ContentType.parse(value).map(_.mediaType)`:
 * the charset parameter is dropped), builds `ContentType(mediaType, () => UTF-8)`, encodes the
 * string with that and replaces the action's Content-Type with `<type>; charset=UTF-8`. The
 * adapter decoded the bytes as UTF-8 whatever charset the function declared, so every byte
 * that is not UTF-8 became U+FFFD. Decoded with the declared charset, the client gets the same
 * text the function sent — in UTF-8, as the controller labels it.
 *
 * Read with the controller emulation (test/fixtures/openwhisk/controller.ts), which sends a
 * textual string body as its UTF-8 bytes.
 */
import { describe, expect, it } from 'vitest';
import { controllerHttp } from './fixtures/openwhisk/controller.js';
import { handler, httpResult } from '../src/openwhisk.js';

type Result = Record<string, any>;
const get = { __ow_method: 'get', __ow_headers: {}, __ow_path: '' };

async function sent(contentType: string, body: Buffer): Promise<string> {
  const result = (await handler({ logSink: () => undefined }, () => httpResult({ headers: { 'content-type': contentType }, body }))(get)) as Result;
  return controllerHttp(result).body.toString('utf8');
}

describe('OpenWhisk web action: bytes under a textual type in a declared charset', () => {
  it('ISO-8859-1 (read as windows-1252, as browsers do): the client gets the same text', async () => {
    expect(await sent('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80]))).toBe('café €');
  });

  it('Shift_JIS CSV and a quoted charset value', async () => {
    const bytes = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x2c, 0x31, 0x0a]); // 日本,1\n
    expect(await sent('text/csv; charset=Shift_JIS', bytes)).toBe('日本,1\n');
    expect(await sent('text/csv; charset="shift_jis"', bytes)).toBe('日本,1\n');
  });

  it('a type akka-http does not register is textual with a charset: decoded the same way', async () => {
    // akka-http parses an unregistered type with a charset as a custom open-charset (textual)
    // type: the controller sends the string body as UTF-8 (the emulation's table has no entry).
    const result = (await handler({ logSink: () => undefined }, () =>
      httpResult({ headers: { 'content-type': 'application/x-ndjson; charset=windows-1252' }, body: Buffer.from('{"a":"\xe9"}\n', 'latin1') }),
    )(get)) as Result;
    expect(result.body).toBe('{"a":"é"}\n');
  });

  it('(control) UTF-8 bytes and an unknown charset are read as UTF-8, as before', async () => {
    expect(await sent('text/plain; charset=utf-8', Buffer.from('héllo'))).toBe('héllo');
    expect(await sent('text/plain; charset=x-no-such-charset', Buffer.from('héllo'))).toBe('héllo');
  });
});
