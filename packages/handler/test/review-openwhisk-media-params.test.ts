/**
 * A web action request or `.http` result under a JSON media type with a parameter other than
 * `charset` (`application/json; v=2`, JSON-LD's `application/ld+json; profile="…"`), and under
 * a type whose quoted parameter value holds a `;`.
 *
 * akka-http's Content-Type parser takes `charset` out and keeps every other parameter in the
 * media type (`withParams`), whose `value` — and so its equality — includes them
 * (`MediaType.renderValue`). The controller's `isJsonFamily` (`WebActions.scala`:
 * `mt == application/json || mt.value.endsWith("+json")`) is therefore false for them, so:
 * a non-raw request body is not parsed and merged but sent as text in `__ow_body` (and raw, it
 * is not the legacy base64 `application/json`); a result whose body is a JSON value is refused
 * with 400 (`interpretHttpResponseAsJson`), and a string body is sent by the type's class
 * (text as is, a custom binary type base64-decoded). The adapter decided by the essence alone.
 *
 * A quoted parameter value may hold `;` (RFC 9110 §5.6.4): `note="a;charset=utf-8"` is one
 * parameter, no charset, so an unregistered type stays binary to the controller; the adapter
 * split on every `;`, found a charset and read the base64 the controller sent as the body.
 *
 * Run in the Node.js action runtime stand-in (test/fixtures/openwhisk/runtime) with the package
 * built as a deployment ships it; the controller's two halves from test/fixtures/openwhisk/controller.ts.
 */
import { describe, expect, it } from 'vitest';
import { controllerHttp, controllerParams } from './fixtures/openwhisk/controller.js';
import { initialisedAction } from './fixtures/openwhisk/runtime/container.js';

// Reports what it was given; answers `{"a":1}` as a value under the type asked for.
const ACTION = `
const { handler, httpResult } = require('@steadyfn/handler/openwhisk');
exports.main = handler({}, (input, ctx) => {
  const answer = ctx.trigger.request.headers['x-answer-type'];
  if (answer) return httpResult({ headers: { 'content-type': answer }, body: { a: 1 } });
  return { input: Buffer.isBuffer(input) ? { hex: input.toString('hex') } : input };
});
`;

const JSON_V2 = 'application/json; v=2';
const JSON_LD = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"';

const { run } = initialisedAction(ACTION, 'act-mtp');

describe('OpenWhisk web action: media type parameters as the controller reads them', () => {
  it('reads a non-raw JSON body under application/json; v=2, which the controller sends as text, as the JSON value', async () => {
    const params = controllerParams({ method: 'POST', contentType: JSON_V2, body: '{"a":1}' }, false);
    expect(params.__ow_body).toBe('{"a":1}'); // not merged, not parsed
    const sent = controllerHttp(await run(params));
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ input: { a: 1 } });
  });

  it('reads a raw body under application/json; v=2 as the text the controller sends, not as base64', async () => {
    // "1234" is also valid base64: decoded it would be three bytes that are not UTF-8.
    const params = controllerParams({ method: 'POST', contentType: JSON_V2, body: '1234' }, true);
    expect(params.__ow_body).toBe('1234');
    const sent = controllerHttp(await run(params));
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ input: 1234 });
  });

  for (const type of [JSON_V2, JSON_LD]) {
    it(`answers a JSON value under ${type} so that the controller sends it (not 400)`, async () => {
      const result = await run(controllerParams({ method: 'GET', headers: { 'x-answer-type': type } }, false));
      expect(typeof result.body).toBe('string');
      const sent = controllerHttp(result);
      expect(sent.status).toBe(200);
      expect(sent.contentType).toBe(type);
      expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ a: 1 });
    });
  }

  for (const raw of [false, true]) {
    it(`refuses a text body under a declared charset whose bytes the controller lost reading it as UTF-8 (${raw ? 'raw' : 'non-raw'})`, async () => {
      // Latin-1 "café 10": the controller reads every textual body as UTF-8 (`data.utf8String`),
      // so é is already U+FFFD: the text is lost, so a 415 naming the charset (review hbf F5).
      const params = controllerParams({ method: 'POST', contentType: 'text/plain; charset=iso-8859-1', body: Buffer.from('café 10', 'latin1') }, raw);
      expect(params.__ow_body).toBe('caf\ufffd 10');
      const sent = controllerHttp(await run(params));
      expect(sent.status).toBe(415);
      expect(JSON.parse(sent.body.toString('utf8'))).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', errors: [{ field: 'headers.content-type.charset' }] });
    });
  }

  it('keeps a binary body binary when a quoted parameter value holds ";charset="', async () => {
    const bytes = Buffer.from([0xff, 0x80, 0x00, 0x7f, 0x2e]);
    const contentType = 'application/x-custom; note="a;charset=utf-8"';
    const params = controllerParams({ method: 'POST', contentType, body: bytes }, true);
    expect(params.__ow_body).toBe(bytes.toString('base64')); // binary to the controller
    const sent = controllerHttp(await run(params));
    expect(JSON.parse(sent.body.toString('utf8'))).toEqual({ input: { hex: bytes.toString('hex') } });
  });
});
