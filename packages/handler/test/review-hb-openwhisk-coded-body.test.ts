/**
 * Review finding (hb): what an OpenWhisk web action sees of a request body with a
 * `Content-Encoding`. The controller decodes no content coding (WebActions.scala has no
 * `decodeRequest`); per the web-action docs `__ow_body` is "the request body entity, as a base64
 * encoded string when content is binary, or plain string otherwise", and the controller makes
 * that plain string with `data.utf8String`. So:
 * - a binary type (`application/octet-stream`) keeps its coded bytes (base64): the function gets
 *   them exactly, as on every other provider;
 * - a textual type (`text/plain`, raw or not) arrives as the coded bytes read as UTF-8: gzip's
 *   second magic byte alone (0x8B) is U+FFFD there, so the bytes are lost, and the adapter, no
 *   longer seeing gzip's signature in that text's UTF-8, took it for a body a gateway had
 *   inflated and handed the function the garbled text. Right: a `415 UNSUPPORTED_MEDIA_TYPE`
 *   naming `headers.content-encoding` (with `Accept-Encoding: identity`, RFC 9110 §15.5.16);
 *   the function does not run;
 * - a text body under a coding that came through whole (no U+FFFD: a proxy inflated it and left
 *   the header) is read as usual.
 * Run in the Node.js action runtime stand-in with the package built as a deployment ships it;
 * the controller's halves from test/fixtures/openwhisk/controller.ts.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { controllerHeaders, controllerHttp, controllerParams } from './fixtures/openwhisk/controller.js';
import { initialisedAction } from './fixtures/openwhisk/runtime/container.js';

const ACTION = `
const { handler } = require('@steadyfn/handler/openwhisk');
exports.main = handler({}, (input) => ({ input: Buffer.isBuffer(input) ? { hex: input.toString('hex') } : input }));
`;

const { run } = initialisedAction(ACTION, 'act-hb-coded');
const TEXT = 'caf\u00e9 au lait\n';
const GZ = gzipSync(TEXT);

describe('OpenWhisk web action: a body with a Content-Encoding', () => {
  for (const raw of [false, true]) {
    const mode = raw ? 'raw' : 'non-raw';

    it(`${mode}, gzip under a binary type: the exact coded bytes`, async () => {
      const params = controllerParams({ method: 'POST', contentType: 'application/octet-stream', headers: { 'content-encoding': 'gzip' }, body: GZ }, raw);
      expect(params.__ow_body).toBe(GZ.toString('base64'));
      const sent = controllerHttp(await run(params));
      expect(sent.status).toBe(200);
      expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ input: { hex: GZ.toString('hex') } });
    });

    it(`${mode}, gzip under text/plain: the controller's UTF-8 text has lost the bytes, so 415 naming headers.content-encoding; the function does not run`, async () => {
      const params = controllerParams({ method: 'POST', contentType: 'text/plain', headers: { 'content-encoding': 'gzip' }, body: GZ }, raw);
      expect(params.__ow_body).toBe(GZ.toString('utf8'));
      expect(params.__ow_body as string).toContain('\ufffd');
      const result = await run(params);
      const sent = controllerHttp(result);
      expect(sent.status).toBe(415);
      expect(JSON.parse(sent.body.toString('utf8'))).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', errors: [{ field: 'headers.content-encoding' }] });
      expect(controllerHeaders(result)).toContainEqual(['accept-encoding', 'identity']);
    });

    it(`${mode}, text/plain under gzip that came through whole (a proxy inflated it): the text`, async () => {
      const params = controllerParams({ method: 'POST', contentType: 'text/plain', headers: { 'content-encoding': 'gzip' }, body: TEXT }, raw);
      const sent = controllerHttp(await run(params));
      expect(sent.status).toBe(200);
      expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ input: TEXT });
    });
  }
});
