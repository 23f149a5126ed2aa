/**
 * Fuzzing the OpenWhisk adapter: whatever the params and whatever the function does, `main`
 * resolves to a JSON object (the runtime discards a container whose action throws, and the
 * invoker rejects results that are not objects), web params always answer with a status, and
 * bodies survive the controller in both directions (test/fixtures/openwhisk/controller.ts).
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_MEDIA, controllerHttp, controllerParams, invokerRecord, isJsonFamily } from '../../test/fixtures/openwhisk/controller.js';
import { handler, httpResult, type Context } from '../index.js';

type Result = Record<string, any>;

const quiet = { logSink: () => undefined };

/** What a function may do: return anything (bigints and dates included), or throw anything. */
const behaviour = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }).map((v) => ({ returns: v })),
  fc.anything().map((v) => ({ throws: v })),
);

function act(b: { returns: unknown } | { throws: unknown }): unknown {
  if ('throws' in b) throw b.throws;
  return b.returns;
}

function expectJsonObject(result: unknown): void {
  expect(typeof result).toBe('object');
  expect(result).not.toBeNull();
  expect(Array.isArray(result)).toBe(false);
  // What the runtime does with it: JSON.stringify, which must give an object.
  expect(JSON.stringify(result).startsWith('{')).toBe(true);
}

const webParams = fc.record(
  {
    __ow_method: fc.oneof(fc.constantFrom('get', 'post', 'put', 'patch', 'delete', 'head', 'options'), fc.string()),
    __ow_headers: fc.oneof(
      fc.dictionary(fc.string(), fc.string()),
      fc.record({ 'content-type': fc.oneof(fc.constantFrom(...Object.keys(BINARY_MEDIA)), fc.string()) }),
      fc.anything(),
    ),
    __ow_path: fc.oneof(fc.string(), fc.anything()),
    __ow_query: fc.string(),
    __ow_body: fc.oneof(fc.string(), fc.base64String(), fc.jsonValue()),
    __ow_user: fc.string(),
    name: fc.jsonValue(),
  },
  { requiredKeys: ['__ow_method'] },
);

describe('OpenWhisk adapter (fuzz)', () => {
  beforeAll(() => {
    process.env.__OW_ACTIVATION_ID = 'fuzz-activation';
    process.env.__OW_DEADLINE = String(Date.now() + 600_000);
  });
  afterAll(() => {
    delete process.env.__OW_ACTIVATION_ID;
    delete process.env.__OW_DEADLINE;
  });

  it('never rejects and always resolves to a JSON object, for any params and any function behaviour', async () => {
    const params = fc.oneof(
      fc.anything(),
      fc.dictionary(fc.string(), fc.jsonValue()),
      webParams,
      fc.record({ messages: fc.array(fc.record({ topic: fc.string(), partition: fc.anything(), offset: fc.anything(), key: fc.anything(), value: fc.anything() }), { maxLength: 4 }) }),
      fc.record({ __steadyfn_schedule: fc.anything(), x: fc.jsonValue() }),
    );
    await fc.assert(
      fc.asyncProperty(params, behaviour, async (p, b) => {
        const result = await handler(quiet, () => act(b))(p);
        expectJsonObject(result);
      }),
      { numRuns: 400 },
    );
  });

  it('has the invoker record any JSON value a plain activation returns as a success that carries it', async () => {
    // Objects with and without an `error` field (which the invoker would take for a failure).
    const value = fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()).map((d) => ({ ...d, error: d.x ?? null })));
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const record = invokerRecord(await handler(quiet, () => v)({ x: 1 }));
        expect(record.status).toBe('success');
        const sent = JSON.parse(JSON.stringify(v)) as unknown;
        const isPlainObject = typeof sent === 'object' && sent !== null && !Array.isArray(sent) && !Object.hasOwn(sent, 'error');
        expect(record.result).toEqual(isPlainObject ? sent : { result: sent });
      }),
      { numRuns: 300 },
    );
  });

  it('answers web params with an integer HTTP status and string headers, whatever happens', async () => {
    await fc.assert(
      fc.asyncProperty(webParams, behaviour, async (p, b) => {
        const result = (await handler(quiet, () => act(b))(p)) as Result;
        expectJsonObject(result);
        const web = Object.hasOwn(result, 'error') ? result.error : result;
        expect(Number.isInteger(web.statusCode)).toBe(true);
        expect(web.statusCode).toBeGreaterThanOrEqual(100);
        expect(web.statusCode).toBeLessThanOrEqual(599);
        for (const v of Object.values(web.headers as Record<string, unknown>)) expect(typeof v).toBe('string');
        // 5xx are reported as activation errors, everything else as success.
        expect(Object.hasOwn(result, 'error')).toBe(web.statusCode >= 500);
      }),
      { numRuns: 400 },
    );
  });

  it('hands the function the body the client sent, raw or not, for every media type', async () => {
    const textTypes = Object.keys(BINARY_MEDIA).filter((t) => t !== '' && !t.includes('json') && !t.includes('form-urlencoded'));
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1 }), fc.constantFrom(...textTypes), fc.boolean(), async (body, contentType, raw) => {
        const seen: Context[] = [];
        await handler(quiet, (_input, ctx) => void seen.push(ctx))(controllerParams({ method: 'POST', contentType, body }, raw));
        // U+FFFD under a charset other than UTF-8 is text whose bytes the controller lost: a 415, the function does not run.
        if (body.includes('\uFFFD') && /charset=(?!utf-8)/i.test(contentType)) return void expect(seen).toEqual([]);
        const ctx = seen[0]!;
        expect(ctx.trigger.kind === 'http' && ctx.trigger.request.rawBody).toBe(body);
      }),
      { numRuns: 300 },
    );
  });

  it('hands the function any body bytes under a binary type unchanged, raw or not', async () => {
    // Binary to the controller (so base64 on the way); a JSON-named one is parsed as JSON, not bytes.
    const binaryTypes = Object.keys(BINARY_MEDIA).filter((t) => t !== '' && BINARY_MEDIA[t] && !t.includes('json'));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.constantFrom(...binaryTypes), fc.boolean(), async (bytes, contentType, raw) => {
        const seen: Context[] = [];
        await handler(quiet, (_input, ctx) => void seen.push(ctx))(controllerParams({ method: 'POST', contentType, body: bytes }, raw));
        const ctx = seen[0]!;
        const request = ctx.trigger.kind === 'http' ? ctx.trigger.request : undefined;
        expect([...(request?.rawBytes ?? [])]).toEqual([...bytes]);
        // Types the controller calls binary that are text all the same (text/javascript, image/svg+xml) give text.
        if (Buffer.isBuffer(ctx.input)) expect(ctx.input).toBe(request?.rawBytes);
        else expect(ctx.input).toBe(request?.rawBody);
      }),
      { numRuns: 300 },
    );
  });

  it('hands the function any JSON body and query, raw or not', async () => {
    const key = fc.string().filter((k) => !k.startsWith('__ow_'));
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.dictionary(key, fc.string(), { maxKeys: 3 }), fc.boolean(), async (value, query, raw) => {
        // The controller refuses query or body fields named like its own (400).
        fc.pre(!(typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((k) => k.startsWith('__ow_'))));
        const seen: Context[] = [];
        const params = controllerParams({ method: 'POST', contentType: 'application/json', body: JSON.stringify(value), query: new URLSearchParams(query).toString() }, raw);
        await handler(quiet, (_input, ctx) => void seen.push(ctx))(params);
        const ctx = seen[0]!;
        const request = ctx.trigger.kind === 'http' ? ctx.trigger.request : undefined;
        // JSON.parse(JSON.stringify(v)) drops -0 and the like, as the wire does.
        const sent = JSON.parse(JSON.stringify(value)) as unknown;
        const isObject = typeof sent === 'object' && sent !== null && !Array.isArray(sent);
        if (raw) {
          expect(ctx.input).toEqual(sent);
          expect(request?.query).toEqual(query);
        } else if (isObject) {
          // Non-raw: the controller merges query then body into params.
          expect(ctx.input).toEqual({ ...query, ...(sent as object) });
        } else {
          expect(ctx.input).toEqual(sent);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gets any returned body to the client unchanged, text or bytes, under every media type (bytes not UTF-8 under a textual type: a 500, never mangled)', async () => {
    // Bytes under a charset other than UTF-8 are decoded with it (test/review-openwhisk-response-charset.test.ts).
    const types = Object.keys(BINARY_MEDIA).filter((t) => t !== '' && !t.startsWith('multipart') && !/charset=(?!utf-8)/i.test(t));
    // Text, and text that is JSON or nearly so (spacing, big integers, 1e400, NaN, -0).
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1 }),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v, null, 1) ?? 'null'),
      fc.bigInt().map(String),
      fc.double().map(String),
      fc.constantFrom('1e400', ' 1', 'null', 'true', '"quoted"', '12345678901234567890', '{"a":1,"a":2}'),
    );
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 64 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, bytes), fc.constantFrom(...types), async (body, contentType) => {
        const result = (await handler(quiet, () => httpResult({ headers: { 'content-type': contentType }, body }))({ __ow_method: 'get', __ow_headers: {}, __ow_path: '' })) as Result;
        const sent = controllerHttp(result);
        // Bytes pass under a binary type and, base64 by the controller's legacy rule, under a type
        // it reads as JSON; under any other textual type (`application/json; v=2` too) they are
        // text: the same bytes when they are UTF-8, else no text carries them (review-hd-openwhisk-response-bytes).
        const asText = typeof body !== 'string' && !BINARY_MEDIA[contentType] && !isJsonFamily(contentType);
        if (asText && !isUtf8(body)) {
          expect([sent.status, (JSON.parse(sent.body.toString()) as { code: string }).code]).toEqual([500, 'INVALID_HTTP_RESULT']);
          return;
        }
        expect(sent.status).toBe(200);
        const expected = Buffer.from(body);
        if (typeof body === 'string' && contentType.includes('+json') && sent.body.toString() !== body) {
          // A JSON value under a +json type is pretty-printed by the controller: same JSON, other spacing.
          expect(JSON.parse(sent.body.toString())).toEqual(JSON.parse(body));
        } else {
          expect([...sent.body]).toEqual([...expected]);
        }
      }),
      { numRuns: 400 },
    );
  });
});
