/**
 * A web action body under a media type akka-http registers as binary, with a `charset`
 * parameter (`application/octet-stream; charset=utf-8`, `application/zip; charset=utf-8`).
 *
 * The controller decides "binary or text" by akka-http's parser (`HttpHeaderParser.getMediaType`
 * / `getPredefinedOrCreateCustom`): a type in the `MediaTypes` registry keeps its class
 * whatever its parameters (`registered.withParams(params)`); only an unregistered type is text
 * when it carries a charset (`customWithOpenCharset`), binary otherwise (`customBinary`).
 * `WebActions.scala` then base64-encodes a binary request body into `__ow_body` and
 * base64-decodes a string body of a binary `.http` result (`interpretHttpResponse`:
 * `ContentType.Binary`). The adapter let any charset make a type textual, so it handed the
 * function the base64 text instead of the bytes and sent bytes as text that the controller
 * then decoded as base64. The other way round, an unregistered `image/*` type with a charset is
 * text to the controller, where the adapter took every `image/*` for binary.
 *
 * Run in the Node.js action runtime stand-in (test/fixtures/openwhisk/runtime) with the package
 * built as a deployment ships it; the controller's two halves from test/fixtures/openwhisk/controller.ts.
 */
import { describe, expect, it } from 'vitest';
import { controllerHttp, controllerParams } from './fixtures/openwhisk/controller.js';
import { initialisedAction } from './fixtures/openwhisk/runtime/container.js';

// Reports the bytes it was given, and answers the bytes asked for under the type asked for.
const ACTION = `
const { handler, httpResult } = require('@steadyfn/handler/openwhisk');
exports.main = handler({ body: 'bytes' }, (input, ctx) => {
  const answer = ctx.trigger.request.headers['x-answer-type'];
  if (answer) return httpResult({ headers: { 'content-type': answer }, body: Buffer.from(ctx.trigger.request.headers['x-answer-hex'], 'hex') });
  return { hex: Buffer.from(input).toString('hex') };
});
`;

// Not UTF-8 (0xff, 0x80) and not base64 text: neither reading can pass by accident.
const bytes = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0x80, 0x00, 0x7f, 0x2e, 0x0a]);

const { run } = initialisedAction(ACTION, 'act-bin');

describe('OpenWhisk web action: a registered binary type with a charset stays binary', () => {
  for (const raw of [false, true]) {
    for (const contentType of ['application/octet-stream; charset=utf-8', 'application/zip; charset=utf-8']) {
      it(`hands the function the bytes the client sent under ${contentType} (${raw ? 'raw' : 'non-raw'})`, async () => {
        const params = controllerParams({ method: 'POST', contentType, body: bytes }, raw);
        expect(params.__ow_body).toBe(bytes.toString('base64')); // what the controller sends
        const sent = controllerHttp(await run(params));
        expect(sent.status).toBe(200);
        expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ hex: bytes.toString('hex') });
      });
    }
  }

  it('answers bytes under application/zip; charset=utf-8 so that the client gets them byte for byte', async () => {
    const params = controllerParams({ method: 'GET', headers: { 'x-answer-type': 'application/zip; charset=utf-8', 'x-answer-hex': bytes.toString('hex') } }, false);
    const result = await run(params);
    expect(result.body).toBe(bytes.toString('base64'));
    const sent = controllerHttp(result);
    expect(sent.status).toBe(200);
    expect(Buffer.compare(sent.body, bytes)).toBe(0);
  });

  it('reads an unregistered image type with a charset as the text the controller sends', async () => {
    // "cafe" is also valid base64: read as binary it would become three other bytes.
    const params = controllerParams({ method: 'POST', contentType: 'image/x-custom; charset=utf-8', body: 'cafe' }, true);
    expect(params.__ow_body).toBe('cafe');
    const sent = controllerHttp(await run(params));
    expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ hex: Buffer.from('cafe').toString('hex') });
  });

  it('(control) without a charset: octet-stream in and zip out round-trip as before', async () => {
    const params = controllerParams({ method: 'POST', contentType: 'application/octet-stream', body: bytes }, false);
    expect(JSON.parse(controllerHttp(await run(params)).body.toString('utf8'))).toEqual({ hex: bytes.toString('hex') });
    const out = await run(controllerParams({ method: 'GET', headers: { 'x-answer-type': 'application/zip', 'x-answer-hex': bytes.toString('hex') } }, false));
    expect(Buffer.compare(controllerHttp(out).body, bytes)).toBe(0);
  });
});
