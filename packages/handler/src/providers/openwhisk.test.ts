/**
 * The OpenWhisk adapter against the documented action contract (there is no installable
 * OpenWhisk): activation parameters from the documented payloads (test/fixtures/openwhisk,
 * see SOURCES.md), web results read the way the controller reads them, and — in the last
 * block — the built package running inside a loopback emulation of the Node.js action
 * runtime's `/init` + `/run` proxy (test/fixtures/openwhisk/runtime/action-proxy.cjs).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { controllerHttp, controllerJsonExtension, controllerParams, invokerRecord, runSequence } from '../../test/fixtures/openwhisk/controller.js';
import { handler, httpResult, RetryableError, TerminalError, type Context } from '../index.js';
import { actionImage, activation, activationLogs, initBody, invokerRun, post, untilSentinels, type Container, type Image } from '../../test/fixtures/openwhisk/runtime/container.js';
import { binaryBody } from '../../test/support/bytes.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = join(here, '../../test/fixtures/openwhisk');
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(fixturesDir, name), 'utf8')) as Record<string, any>;

type Result = Record<string, any>;

function logSink(): { sink: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { sink: (line) => lines.push(line), lines };
}

const ENV_KEYS = ['__OW_ACTIVATION_ID', '__OW_DEADLINE', '__OW_ACTION_NAME', '__OW_NAMESPACE', '__OW_TRANSACTION_ID'] as const;

describe('OpenWhisk adapter (in process, documented payloads)', () => {
  let deadline: number;
  beforeEach(() => {
    deadline = Date.now() + 60_000;
    process.env.__OW_ACTIVATION_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    process.env.__OW_DEADLINE = String(deadline);
    process.env.__OW_ACTION_NAME = '/guest/demo/hello';
  });
  afterEach(() => {
    for (const key of ENV_KEYS) delete process.env[key];
  });

  function recorder(): { seen: Context[]; fn: (input: unknown, ctx: Context) => unknown } {
    const seen: Context[] = [];
    return { seen, fn: (input, ctx) => (seen.push(ctx), { got: input }) };
  }

  describe('web actions, non-raw (query and JSON/form bodies merged into params)', () => {
    it('reads a merged JSON object body, reports method, path, headers and the activation as the request id', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('web-json.json'))) as Result;
      expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: { got: { name: 'Jane' } } });
      const ctx = seen[0]!;
      expect(ctx.provider).toBe('openwhisk');
      expect(ctx.requestId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
      expect(ctx.deliveryId).toBeUndefined();
      expect(ctx.deadline).toBe(deadline);
      expect(ctx.functionName).toBe('/guest/demo/hello');
      expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'ow-web' });
      const request = ctx.trigger.kind === 'http' ? ctx.trigger.request : undefined;
      expect(request).toMatchObject({ method: 'POST', path: '/', query: {}, rawBody: undefined });
      expect(request?.headers['content-type']).toBe('application/json');
      const http = controllerHttp(result);
      expect(http.status).toBe(200);
      expect(JSON.parse(http.body.toString())).toEqual({ got: { name: 'Jane' } });
    });

    it('reads merged query parameters and form fields the same way, without any __ow_ field', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      const params = { ...fixture('web-query.json'), __ow_user: 'guest' };
      expect(((await main(params)) as Result).body).toEqual({ got: { name: 'Jane' } });
      expect(((await main(fixture('web-form.json'))) as Result).body).toEqual({ got: { name: 'Jane' } });
      expect(seen.map((c) => (c.trigger.kind === 'http' ? c.trigger.request.method : ''))).toEqual(['GET', 'POST']);
      // __ow_user (set when the action requires authentication) stays available in ctx.raw.
      expect((seen[0]!.raw as Result).__ow_user).toBe('guest');
    });

    it('passes a text body from __ow_body as text', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('web-text.json'))) as Result;
      expect(result.body).toEqual({ got: 'Jane' });
      expect(seen[0]!.trigger.kind === 'http' && seen[0]!.trigger.request.rawBody).toBe('Jane');
    });

    it('takes a non-object JSON body as the already parsed value in __ow_body', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      expect(((await main(fixture('web-json-array.json'))) as Result).body).toEqual({ got: ['a', 'b'] });
      const req = seen[0]!.trigger.kind === 'http' ? seen[0]!.trigger.request : undefined;
      expect(req).toMatchObject({ method: 'PUT', path: '/items', rawBody: '["a","b"]' });
      // A JSON string body is already a string: it must not be parsed a second time.
      const params = { ...fixture('web-json-array.json'), __ow_body: '123' };
      expect(((await main(params)) as Result).body).toEqual({ got: '123' });
    });

    it('reads an empty body under a content type (`__ow_body: ""`) as no body: the input is the merged query', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      for (const contentType of ['text/plain', 'application/octet-stream', 'application/json']) {
        const params = controllerParams({ method: 'POST', query: 'name=Jane', contentType, body: '' }, false);
        if (contentType !== 'application/json') expect(params.__ow_body).toBe('');
        expect(((await main(params)) as Result).body).toEqual({ got: { name: 'Jane' } });
      }
      expect(seen.map((c) => c.trigger.kind === 'http' && c.trigger.request.rawBody)).toEqual(['', '', undefined]);
      // Under a JSON type, `__ow_body: ""` is the JSON string "" the client sent.
      expect(((await main(controllerParams({ method: 'POST', query: 'name=Jane', contentType: 'application/json', body: '""' }, false))) as Result).body).toEqual({ got: '' });
    });

    it('decodes a binary body, which the controller sends base64', async () => {
      const { seen, fn } = recorder();
      await handler({}, fn)(fixture('web-binary.json'));
      expect(seen[0]!.trigger.kind === 'http' && seen[0]!.trigger.request.rawBody).toBe('hello whisk');
    });

    it('answers a validation failure with 400 problem+json as a plain result (not an activation error)', async () => {
      const main = handler({ input: z.object({ name: z.string(), age: z.number() }) }, (input) => input);
      const result = (await main(fixture('web-json.json'))) as Result;
      expect(result.error).toBeUndefined();
      expect(result.statusCode).toBe(400);
      expect(result.headers['content-type']).toBe('application/problem+json');
      expect(result.body).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, errors: [{ field: 'age' }] });
      const http = controllerHttp(result);
      expect(http.status).toBe(400);
      expect(JSON.parse(http.body.toString()).code).toBe('VALIDATION_FAILED');
    });

    it('answers an unexpected failure with 500 under `error`, so the activation is recorded as failed; no stack or message leaks', async () => {
      const { sink, lines } = logSink();
      const main = handler({ logSink: sink }, () => {
        throw new Error('password=hunter2');
      });
      const result = (await main(fixture('web-json.json'))) as Result;
      expect(result.error.statusCode).toBe(500);
      expect(result.error.body).toMatchObject({ code: 'INTERNAL', status: 500 });
      expect(JSON.stringify(result)).not.toMatch(/hunter2|stack|at Object/);
      expect(lines.join('\n')).not.toMatch(/\n\s+at /);
      const http = controllerHttp(result);
      expect(http.status).toBe(500);
      expect(http.contentType).toBe('application/problem+json');
    });

    it('keeps hostile parameter names as own input fields', async () => {
      const { seen, fn } = recorder();
      const params = JSON.parse('{"__proto__":{"polluted":true},"constructor":"x","__ow_method":"post","__ow_headers":{},"__ow_path":""}') as Result;
      await handler({}, fn)(params);
      const input = seen[0]!.input as Result;
      expect(Object.keys(input).sort()).toEqual(['__proto__', 'constructor']);
      expect(({} as Result).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    });
  });

  describe('web actions, raw (`--web raw`: __ow_query string, __ow_body text or base64)', () => {
    it('the controller emulation reproduces the documented raw example', () => {
      const documented = fixture('web-raw-json.json');
      const { 'content-type': _type, ...headers } = documented.__ow_headers as Record<string, string>;
      expect(controllerParams({ method: 'POST', query: 'name=Jane', contentType: 'application/json', headers, body: '{"name":"Jane"}' }, true)).toEqual(documented);
      const nonRaw = fixture('web-json.json');
      const { 'content-type': _t, ...h } = nonRaw.__ow_headers as Record<string, string>;
      expect(controllerParams({ method: 'POST', contentType: 'application/json', headers: h, body: '{"name":"Jane"}' }, false)).toEqual(nonRaw);
    });

    it('decodes the base64 application/json body and parses the unparsed query', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('web-raw-json.json'))) as Result;
      expect(result.body).toEqual({ got: { name: 'Jane' } });
      expect(seen[0]!.trigger).toMatchObject({
        kind: 'http',
        source: 'ow-web-raw',
        request: { method: 'POST', path: '/', query: { name: 'Jane' }, multiQuery: { name: ['Jane'] }, rawBody: '{"name":"Jane"}' },
      });
    });

    it('gives the query as input when there is no body, keeps repeated parameters and the path', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('web-raw-get.json'))) as Result;
      // A repeated parameter keeps every value (issue 8, fault class 5).
      expect(result.body).toEqual({ got: { tag: ['a', 'b'], q: 'café' } });
      expect(seen[0]!.trigger).toMatchObject({ request: { method: 'GET', path: '/search', multiQuery: { tag: ['a', 'b'], q: ['café'] } } });
    });

    it('reads textual bodies as text even when they look like base64', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      expect(((await main(fixture('web-raw-form.json'))) as Result).body).toEqual({ got: { name: 'Jane', city: 'Oslo' } });
      const text = { ...fixture('web-raw-form.json'), __ow_body: 'abcd', __ow_headers: { 'content-type': 'text/plain' } };
      expect(((await main(text)) as Result).body).toEqual({ got: 'abcd' });
      // The same string under a binary type is base64.
      const bin = { ...text, __ow_body: Buffer.from('hi there').toString('base64'), __ow_headers: { 'content-type': 'application/octet-stream' } };
      await main(bin);
      expect(seen[2]!.trigger.kind === 'http' && seen[2]!.trigger.request.rawBody).toBe('hi there');
    });

    it('answers a raw JSON body that does not parse with 400 MALFORMED_EVENT', async () => {
      const params = { ...fixture('web-raw-json.json'), __ow_body: Buffer.from('{"name":').toString('base64') };
      const result = (await handler({}, () => 'unreached')(params)) as Result;
      expect(result.statusCode).toBe(400);
      expect(result.body).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body' }] });
    });
  });

  describe('binary request bodies', () => {
    it('reach the function byte for byte as a Buffer and as rawBytes, raw or not', async () => {
      for (const raw of [false, true]) {
        for (const contentType of ['application/octet-stream', 'image/png']) {
          const bytes = binaryBody();
          const seen: Array<{ input: Buffer; rawBytes: Buffer | undefined; source: string }> = [];
          const main = handler({ input: z.instanceof(Buffer) }, (input, ctx) => {
            if (ctx.trigger.kind !== 'http') throw new Error('expected an HTTP trigger');
            seen.push({ input, rawBytes: ctx.trigger.request.rawBytes, source: ctx.trigger.source });
            return httpResult({ headers: { 'content-type': contentType }, body: input });
          });
          const params = controllerParams({ method: 'POST', path: '/upload', contentType, body: bytes }, raw);
          const result = (await main(params)) as Result;
          const got = seen[0]!;
          expect(got.source).toBe(raw ? 'ow-web-raw' : 'ow-web');
          expect(Buffer.isBuffer(got.input)).toBe(true);
          expect(got.input.equals(bytes)).toBe(true);
          expect(got.rawBytes).toBe(got.input);
          // And back to the client through the controller, unchanged.
          const sent = controllerHttp(result);
          expect(sent.status).toBe(200);
          expect(sent.body.equals(bytes)).toBe(true);
        }
      }
    });

    it('keeps the bytes of text and raw JSON bodies, and has none for a JSON body the controller parsed', async () => {
      const seen: Context[] = [];
      const main = handler({}, (_input, ctx) => void seen.push(ctx));
      const json = '{ "name" : "Jane" }';
      await main(controllerParams({ method: 'POST', contentType: 'text/plain', body: 'Grüße' }, false));
      await main(controllerParams({ method: 'POST', contentType: 'application/json', body: json }, true));
      await main(controllerParams({ method: 'POST', contentType: 'application/json', body: '[1, 2]' }, false));
      await main(controllerParams({ method: 'POST', contentType: 'application/json', body: json }, false));
      const [text, rawJson, array, merged] = seen.map((c) => (c.trigger.kind === 'http' ? c.trigger.request : undefined));
      expect(text?.rawBytes?.equals(Buffer.from('Grüße'))).toBe(true);
      expect(rawJson?.rawBytes?.equals(Buffer.from(json))).toBe(true);
      expect(rawJson?.rawBody).toBe(json);
      expect(array).toMatchObject({ rawBody: '[1,2]', rawBytes: undefined });
      expect(merged).toMatchObject({ rawBody: undefined, rawBytes: undefined });
    });
  });

  describe('web action results as the controller sends them', () => {
    const get = (): Result => fixture('web-query.json');

    it('sends text as text, bytes as base64 under a binary type, and bytes as text under a textual type', async () => {
      const text = (await handler({}, () => httpResult({ headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2' }))(get())) as Result;
      expect(text.body).toBe('a,b\n1,2');
      expect(controllerHttp(text).body.toString()).toBe('a,b\n1,2');

      const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
      const image = (await handler({}, () => httpResult({ headers: { 'content-type': 'image/png' }, body: png }))(get())) as Result;
      expect(image.body).toBe(Buffer.from(png).toString('base64'));
      expect([...controllerHttp(image).body]).toEqual([...png]);

      const asText = (await handler({}, () => httpResult({ headers: { 'content-type': 'text/plain' }, body: Buffer.from('héllo') }))(get())) as Result;
      expect(controllerHttp(asText).body.toString()).toBe('héllo');

      // image/svg+xml is binary to the controller: a string body must go base64.
      const svg = '<svg xmlns="http://www.w3.org/2000/svg"/>';
      const svgResult = (await handler({}, () => httpResult({ headers: { 'content-type': 'image/svg+xml' }, body: svg }))(get())) as Result;
      expect(controllerHttp(svgResult).body.toString()).toBe(svg);
    });

    it('sends JSON values as JSON, and other JSON text so the controller passes it unchanged', async () => {
      const obj = (await handler({}, () => ({ items: [1, 2] }))(get())) as Result;
      expect(obj.body).toEqual({ items: [1, 2] });
      expect(JSON.parse(controllerHttp(obj).body.toString())).toEqual({ items: [1, 2] });

      const str = (await handler({}, () => 'hello')(get())) as Result;
      expect(str.headers['content-type']).toMatch(/^text\/plain/);
      expect(controllerHttp(str).body.toString()).toBe('hello');

      const jsonString = (await handler({}, () => httpResult({ headers: { 'content-type': 'application/json' }, body: '"quoted"' }))(get())) as Result;
      expect(controllerHttp(jsonString).body.toString()).toBe('"quoted"');

      // `null` looks like base64 to the controller's legacy rule for JSON types.
      const nullBody = (await handler({}, () => httpResult({ headers: { 'content-type': 'application/json' }, body: 'null' }))(get())) as Result;
      expect(controllerHttp(nullBody).body.toString()).toBe('null');

      const prebuilt = (await handler({}, () => httpResult({ headers: { 'content-type': 'application/json' }, body: '{"a":1}' }))(get())) as Result;
      expect(prebuilt.body).toEqual({ a: 1 });

      const num = (await handler({}, () => 42)(get())) as Result;
      expect(controllerHttp(num).body.toString()).toBe('42');
    });

    it('answers undefined with 204 and no body, and passes status and headers of redirects', async () => {
      const empty = (await handler({}, () => undefined)(get())) as Result;
      expect(empty).toEqual({ statusCode: 204, headers: {} });
      const redirect = (await handler({}, () => httpResult({ status: 302, headers: { location: 'http://openwhisk.org' } }))(get())) as Result;
      expect(redirect).toEqual({ statusCode: 302, headers: { location: 'http://openwhisk.org' } });
      expect(controllerHttp(redirect).status).toBe(302);
    });

    it('(controller) under `.json` instead of `.http`, the web result itself is the 200 JSON body, 5xx too', async () => {
      const ok = (await handler({}, () => ({ a: 1 }))(get())) as Result;
      expect(controllerJsonExtension(ok)).toEqual({ status: 200, body: { statusCode: 200, headers: { 'content-type': 'application/json' }, body: { a: 1 } } });
      const failed = (await handler({ logSink: () => undefined }, () => Promise.reject(new Error('x')))(get())) as Result;
      expect(controllerJsonExtension(failed)).toMatchObject({ status: 200, body: { statusCode: 500 } });
    });

    it('answers a result that cannot be serialised with a typed 500 instead of rejecting', async () => {
      const result = (await handler({ logSink: () => undefined }, () => ({ n: 10n }))(get())) as Result;
      expect(result.error.statusCode).toBe(500);
      expect(result.error.headers['content-type']).toBe('application/problem+json');
      expect(result.error.body).toMatchObject({ status: 500 });
      expect(controllerHttp(result).status).toBe(500);
    });
  });

  describe('Kafka feed batches', () => {
    it('runs each message with a stable delivery id topic/partition/offset and the value as input', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('kafka-json.json'))) as Result;
      expect(result).toEqual({ processed: 1 });
      const ctx = seen[0]!;
      expect(ctx.input).toEqual({ amount: 5, isAwesome: true, title: 'Some string' });
      expect(ctx.deliveryId).toBe('mytopic/0/421760');
      expect(ctx.requestId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90:mytopic/0/421760');
      // A Kafka feed message is an ordered-stream record (it was a `queue` trigger before streams existed).
      expect(ctx.trigger).toEqual({
        kind: 'stream',
        source: 'kafka',
        stream: 'mytopic',
        partition: '0',
        sequence: '421760',
        attributes: { partition: '0', offset: '421760' },
        batchIndex: 0,
        batchSize: 1,
      });
    });

    it('parses JSON text values, keeps other text, and keeps keys as attributes, in order', async () => {
      const { seen, fn } = recorder();
      const result = (await handler({}, fn)(fixture('kafka-text.json'))) as Result;
      expect(result).toEqual({ processed: 3 });
      expect(seen.map((c) => c.input)).toEqual([
        { title: 'Some string', amount: 5, isAwesome: true },
        'plain text',
        { title: 'Other', amount: 1, isAwesome: false },
      ]);
      expect(seen.map((c) => c.deliveryId)).toEqual(['mytopic/0/421761', 'mytopic/0/421762', 'mytopic/1/88']);
      expect(seen.map((c) => (c.trigger.kind === 'stream' ? c.trigger.key : ''))).toEqual([undefined, 'order-7', 'order-8']);
    });

    it('stops at the first failure and reports it and every message left unprocessed', async () => {
      const batch = fixture('kafka-text.json');
      const ran: string[] = [];
      const main = handler({}, (input: any, ctx) => {
        ran.push(ctx.deliveryId!);
        if (input === 'plain text') throw new RetryableError('DOWNSTREAM_UNAVAILABLE', 'Downstream unavailable');
      });
      const result = (await main(batch)) as Result;
      expect(ran).toEqual(['mytopic/0/421761', 'mytopic/0/421762']);
      expect(result).toEqual({
        error: {
          code: 'DOWNSTREAM_UNAVAILABLE',
          // A 503 is not exposed: callers see the code, not the message.
          message: 'Internal error',
          retryable: true,
          processed: 1,
          failed: [
            { deliveryId: 'mytopic/0/421762', code: 'DOWNSTREAM_UNAVAILABLE', retryable: true },
            { deliveryId: 'mytopic/1/88', code: 'NOT_PROCESSED', retryable: true },
          ],
        },
      });
    });

    it("with terminalErrors: 'ack', acknowledges a terminal failure and goes on", async () => {
      const main = handler({ terminalErrors: 'ack' }, (input: any) => {
        if (input === 'plain text') throw new TerminalError('BAD_ORDER', 'Not an order');
      });
      expect(await main(fixture('kafka-text.json'))).toEqual({ processed: 2, acknowledged: 1 });
    });

    it('decodes values as bytes when isBinaryValue is bound, and leaves binary keys as delivered', async () => {
      const { seen, fn } = recorder();
      await handler({}, fn)(fixture('kafka-binary.json'));
      const value = seen[0]!.input as Buffer;
      expect(Buffer.isBuffer(value)).toBe(true);
      expect(value.length).toBe(64);
      expect([...value.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(value.subarray(8).every((b) => b === 0xfe)).toBe(true);
      expect(seen[0]!.trigger.kind === 'stream' && seen[0]!.trigger.key).toBe('a2V5LTE=');
      expect(seen[0]!.deliveryId).toBe('images/2/5');
    });

    it('carries each value as the feed delivered it in ctx.trigger.rawBody: text as text, isBinaryValue as the decoded bytes, isJSONData (already parsed) none', async () => {
      const text = recorder();
      await handler({}, text.fn)(fixture('kafka-text.json'));
      expect(text.seen.map((c) => c.trigger.kind === 'stream' && c.trigger.rawBody)).toEqual([
        '{"title": "Some string", "amount": 5, "isAwesome": true}',
        'plain text',
        '{"title": "Other", "amount": 1, "isAwesome": false}',
      ]);
      // Not enumerable: it stays out of the normalised trigger and its logs.
      expect(Object.keys(text.seen[0]!.trigger)).not.toContain('rawBody');
      const binary = recorder();
      await handler({}, binary.fn)(fixture('kafka-binary.json'));
      const raw = binary.seen[0]!.trigger.kind === 'stream' ? binary.seen[0]!.trigger.rawBody : undefined;
      expect(Buffer.isBuffer(raw)).toBe(true);
      expect(raw).toEqual(binary.seen[0]!.input);
      const json = recorder();
      await handler({}, json.fn)(fixture('kafka-json.json'));
      expect(json.seen[0]!.trigger.kind === 'stream' && json.seen[0]!.trigger.rawBody).toBeUndefined();
    });

    it('rejects a message without a usable offset as MALFORMED_EVENT, naming the field, without running any', async () => {
      const batch = fixture('kafka-text.json');
      batch.messages[1].offset = 'latest';
      let ran = 0;
      const result = (await handler({}, () => void ran++)(batch)) as Result;
      expect(ran).toBe(0);
      expect(result.error).toMatchObject({ code: 'MALFORMED_EVENT', retryable: false, errors: [{ field: 'messages.1' }] });
    });

    it("puts __OW_TRANSACTION_ID on the adapter's own log line too, and leaves it out when the runtime sets none", async () => {
      const batch = fixture('kafka-text.json');
      batch.messages[1].offset = 'latest';
      const { sink, lines } = logSink();
      process.env.__OW_TRANSACTION_ID = 'sid_4f2c0a9e1b7d4c3a8e5f6b7c8d9e0a1b';
      await handler({ logSink: sink, logLevel: 'warn' }, () => undefined)(batch);
      expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'invocation rejected', requestId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', transactionId: 'sid_4f2c0a9e1b7d4c3a8e5f6b7c8d9e0a1b' });
      delete process.env.__OW_TRANSACTION_ID;
      const seen: Context[] = [];
      await handler({ logSink: sink }, (_input, ctx) => void seen.push(ctx))({ x: 1 });
      expect(seen[0]!.trigger).toEqual({ kind: 'direct', source: 'openwhisk' });
    });
  });

  describe('alarm ticks and plain activations', () => {
    it('treats an activation as an alarm tick only with the opt-in marker, which is removed from the input', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      expect(await main(fixture('alarm-tick.json'))).toEqual({ got: { name: 'Odin', place: 'Asgard' } });
      expect(seen[0]!.trigger).toEqual({ kind: 'schedule', source: 'ow-alarm', schedule: 'nightly-report' });
      // Alarms carry no tick identity, and OpenWhisk never redelivers an activation.
      expect(seen[0]!.deliveryId).toBeUndefined();
      expect(seen[0]!.requestId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
      await main(fixture('alarm-unmarked.json'));
      expect(seen[1]!.trigger).toEqual({ kind: 'direct', source: 'openwhisk' });
      expect(seen[1]!.input).toEqual({ name: 'Odin', place: 'Asgard' });
      await main({ ...fixture('alarm-unmarked.json'), __steadyfn_schedule: true });
      expect(seen[2]!.trigger).toEqual({ kind: 'schedule', source: 'ow-alarm' });
    });

    it('wraps every non-object return value, since action results must be JSON objects', async () => {
      const values: Array<[unknown, Result]> = [
        [42, { result: 42 }],
        ['ok', { result: 'ok' }],
        [[1, 2], { result: [1, 2] }],
        [null, { result: null }],
        [undefined, {}],
        [new Date(0), { result: '1970-01-01T00:00:00.000Z' }],
        [{ a: 1 }, { a: 1 }],
      ];
      for (const [value, expected] of values) expect(await handler({}, () => value)({ x: 1 })).toEqual(expected);
      expect(await handler({}, () => ({ big: 1n }))({ x: 1 })).toMatchObject({ error: { code: 'RESULT_NOT_JSON' } });
    });

    it('keeps a successful value with an `error` field a success: the invoker would record it failed and drop the rest', async () => {
      for (const value of [{ error: null, items: [1] }, { error: 'none', ok: true }]) {
        const answer = await handler({}, () => value)({ x: 1 });
        expect(invokerRecord(answer)).toEqual({ status: 'success', result: { result: value } });
      }
      // A toJSON that adds the field counts too; an `error: undefined` is not sent at all.
      const withToJson = { toJSON: () => ({ error: 0 }) };
      expect(invokerRecord(await handler({}, () => withToJson)({}))).toEqual({ status: 'success', result: { result: { error: 0 } } });
      expect(await handler({}, () => ({ error: undefined, a: 1 }))({})).toEqual({ error: undefined, a: 1 });
      // A failure is still the activation's application error.
      const failed = await handler({ logSink: () => undefined }, () => Promise.reject(new TerminalError('NOPE', 'Nope')))({});
      expect(invokerRecord(failed)).toMatchObject({ status: 'application error', result: { error: { code: 'NOPE' } } });
    });

    it('(controller) passes results on in a sequence, and a failure ends it with the error', async () => {
      const seen: unknown[] = [];
      const record = handler({}, (input) => void seen.push(input));
      const counted = await runSequence([handler({}, () => ({ error: null, n: 1 })), handler({}, () => 42), record], { x: 1 });
      expect(counted).toEqual({ ran: 3, record: { status: 'success', result: {} } });
      expect(seen).toEqual([{ result: 42 }]);
      const failing = handler({ logSink: () => undefined }, () => Promise.reject(new TerminalError('BAD_ORDER', 'Not an order')));
      const stopped = await runSequence([failing, record], { x: 1 });
      expect(stopped).toEqual({ ran: 1, record: { status: 'application error', result: { error: { code: 'BAD_ORDER', message: 'Not an order', retryable: false } } } });
      expect(seen).toHaveLength(1);
    });

    it('returns failures as { error } without a stack or the cause, and never rejects', async () => {
      const main = handler({}, () => {
        throw new Error('password=hunter2');
      });
      const result = (await main({ x: 1 })) as Result;
      expect(result).toEqual({ error: { code: 'INTERNAL', message: 'Internal error', retryable: true } });
      const invalid = (await handler({ input: z.object({ n: z.number() }) }, () => 1)({ n: 'x' })) as Result;
      expect(invalid.error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false, errors: [{ field: 'n' }] });
      expect(await main.openwhisk(['not', 'an', 'object'])).toMatchObject({ error: { code: 'MALFORMED_EVENT' } });
    });

    it("applies terminalErrors: 'ack' to alarm ticks, never to direct activations", async () => {
      const fail = (): never => {
        throw new TerminalError('NOTHING_TO_DO', 'Nothing to do');
      };
      const main = handler({ terminalErrors: 'ack' }, fail);
      expect(await main(fixture('alarm-tick.json'))).toEqual({});
      expect(await main(fixture('alarm-unmarked.json'))).toMatchObject({ error: { code: 'NOTHING_TO_DO' } });
    });

    it('checks a changes-feed result against openwhiskResultLimitBytes too, and still sends what an after hook added to the result', async () => {
      const big = (await handler({ openwhiskResultLimitBytes: 64, logSink: () => undefined }, () => ({ text: 'x'.repeat(60) }))(fixture('cloudant-change.json'))) as Result;
      expect(big).toEqual({ error: { code: 'RESPONSE_TOO_LARGE', message: 'The function result is larger than the platform can send', retryable: false } });
      const fits = (await handler({ openwhiskResultLimitBytes: 64 }, () => ({ text: 'x'.repeat(50) }))(fixture('cloudant-change.json'))) as Result;
      expect(JSON.stringify(fits)).toHaveLength(61);
      // The size is checked before `after`; a plugin that changes the object there is still heard.
      const stamp = { name: 'stamp', after: (_ctx: Context, value: unknown) => void Object.assign(value as Result, { stamped: true }) };
      expect(await handler({ use: [stamp] }, () => ({ a: 1 }))({ x: 1 })).toEqual({ a: 1, stamped: true });
    });

    it('takes the deadline from __OW_DEADLINE and has none without it', async () => {
      const { seen, fn } = recorder();
      const main = handler({}, fn);
      await main({});
      expect(seen[0]!.deadline).toBe(deadline);
      expect(seen[0]!.remainingMs()).toBeGreaterThan(0);
      delete process.env.__OW_DEADLINE;
      await main({});
      expect(seen[1]!.deadline).toBe(Number.POSITIVE_INFINITY);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('on the Node.js action runtime contract (/init + /run, loopback emulation)', () => {
  // The built package, as a deployed action gets it: an "image" with the proxy and
  // node_modules/@steadyfn/handler built privately (the shared dist/ is left alone).
  let image: Image;
  beforeAll(async () => {
    image = await actionImage(true);
  }, 180_000);
  afterAll(() => image?.dispose());

  async function deploy(action: string, env: Record<string, string> = {}): Promise<Container> {
    const c = await image.start(env);
    const code = readFileSync(join(fixturesDir, 'actions', action), 'utf8');
    const init = await post(c, '/init', initBody(code));
    expect(init).toEqual({ status: 200, body: { OK: true } });
    return c;
  }

  it('serves a non-raw and a raw web activation, with __OW_ACTIVATION_ID, __OW_TRANSACTION_ID and __OW_DEADLINE in ctx', async () => {
    const c = await deploy('echo.js');
    const deadline = Date.now() + 60_000;
    const res = await post(c, '/run', activation(fixture('web-json.json'), 'act-web-1', deadline));
    expect(res.status).toBe(200);
    expect(res.body.statusCode).toBe(200);
    expect(res.body.body).toMatchObject({
      input: { name: 'Jane' },
      sameContext: true,
      provider: 'openwhisk',
      trigger: { kind: 'http', source: 'ow-web', request: { method: 'POST' }, transactionId: 'tid-act-web-1' },
      requestId: 'act-web-1',
      deliveryId: null,
      deadline,
      functionName: '/guest/demo/hello',
    });
    expect(JSON.parse(controllerHttp(res.body).body.toString()).requestId).toBe('act-web-1');

    const raw = await post(c, '/run', activation(fixture('web-raw-json.json'), 'act-web-2'));
    expect(raw.body.body).toMatchObject({ input: { name: 'Jane' }, requestId: 'act-web-2', trigger: { source: 'ow-web-raw', request: { query: { name: 'Jane' } }, transactionId: 'tid-act-web-2' } });
  });

  it('hands a binary web body to the action byte for byte', async () => {
    const c = await deploy('echo.js');
    const bytes = binaryBody(256);
    const res = await post(c, '/run', activation(controllerParams({ method: 'POST', contentType: 'application/octet-stream', body: bytes }, false), 'act-bin-1'));
    expect(res.status).toBe(200);
    // The action's JSON result carries the Buffers as Buffer.toJSON: { type: 'Buffer', data: [...] }.
    expect(res.body.body.input).toEqual({ type: 'Buffer', data: [...bytes] });
    expect(res.body.body.trigger.request.rawBytes).toEqual({ type: 'Buffer', data: [...bytes] });
  });

  it('validates web input with zod from the image and answers 201 with a location', async () => {
    const c = await deploy('orders.js');
    const params = { ...fixture('web-json.json'), name: undefined, orderId: 'o-7', quantity: 2 };
    const ok = await post(c, '/run', activation(params, 'act-o-1'));
    expect(ok.body).toEqual({ statusCode: 201, headers: { location: '/orders/o-7', 'content-type': 'application/json' }, body: { accepted: 'o-7', by: 'act-o-1' } });
    const bad = await post(c, '/run', activation({ ...params, quantity: -1 }, 'act-o-2'));
    expect(bad.status).toBe(200);
    expect(bad.body.statusCode).toBe(400);
    expect(bad.body.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'quantity' }] });
  });

  it('processes a Kafka batch in order, stops at the first failure and reports the failed deliveries', async () => {
    const c = await deploy('kafka.js');
    const batch = fixture('kafka-text.json');
    batch.messages[1].value = '{"fail":true}';
    const res = await post(c, '/run', activation(batch, 'act-k-1'));
    expect(res.status).toBe(200);
    expect(res.body.error).toMatchObject({
      code: 'DOWNSTREAM_UNAVAILABLE',
      processed: 1,
      failed: [
        { deliveryId: 'mytopic/0/421762', code: 'DOWNSTREAM_UNAVAILABLE' },
        { deliveryId: 'mytopic/1/88', code: 'NOT_PROCESSED' },
      ],
    });
    // The activation log shows exactly the processed message, with its delivery id.
    await untilSentinels(c, 1);
    const processed = c.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Result).filter((l) => l.msg === 'processed');
    expect(processed.map((l) => [l.deliveryId, l.requestId, l.transactionId])).toEqual([['mytopic/0/421761', 'act-k-1:mytopic/0/421761', 'tid-act-k-1']]);
    const ok = await post(c, '/run', activation(fixture('kafka-json.json'), 'act-k-2'));
    expect(ok.body).toEqual({ processed: 1 });
  });

  it('runs an alarm tick and a plain activation', async () => {
    const c = await deploy('echo.js');
    const tick = await post(c, '/run', activation(fixture('alarm-tick.json'), 'act-alarm-1'));
    expect(tick.body).toMatchObject({ input: { name: 'Odin', place: 'Asgard' }, trigger: { kind: 'schedule', source: 'ow-alarm', schedule: 'nightly-report', transactionId: 'tid-act-alarm-1' }, requestId: 'act-alarm-1' });
    const deadline = Date.now() + 30_000;
    const plain = await post(c, '/run', activation({ x: 1 }, 'act-plain-1', deadline));
    expect(plain.body).toMatchObject({ input: { x: 1 }, trigger: { kind: 'direct', transactionId: 'tid-act-plain-1' }, requestId: 'act-plain-1', deadline, deliveryId: null });
  });

  it('runs a Cloudant changes-feed activation as a change trigger', async () => {
    const c = await deploy('echo.js');
    const change = await post(c, '/run', activation(fixture('cloudant-change.json'), 'act-change-1'));
    expect(change.body).toMatchObject({
      input: { _id: 'o-42', status: 'shipped' },
      trigger: { kind: 'change', source: 'couchdb', collection: 'orders', op: 'update', key: 'o-42', transactionId: 'tid-act-change-1' },
      requestId: 'act-change-1',
      deliveryId: 'orders/o-42@2-7051cbe5c8faecd085a3fa619e6e6337',
    });
  });

  it('returns a failing activation as an application error, leaks nothing and keeps the container', async () => {
    const c = await deploy('failing.js');
    const res = await post(c, '/run', activation({ x: 1 }, 'act-f-1'));
    expect(res).toEqual({ status: 200, body: { error: { code: 'INTERNAL', message: 'Internal error', retryable: true } } });
    // The container is still usable: the next activation runs.
    const again = await post(c, '/run', activation({ x: 2 }, 'act-f-2'));
    expect(again.status).toBe(200);
    await untilSentinels(c, 2);
    const logs = [...c.stdout, ...c.stderr].join('\n');
    expect(logs).not.toMatch(/\n\s+at /);
    expect(logs).toContain('"requestId":"act-f-1"');
    // The failure's log line carries the platform's transaction id next to the activation id.
    const failedLine = activationLogs(c)[0]!.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Result).find((l) => l.msg === 'invocation failed');
    expect(failedLine).toMatchObject({ requestId: 'act-f-1', transactionId: 'tid-act-f-1' });
  });

  it('(control) a plain action that throws gets 502 and its container is stopped', async () => {
    const c = await deploy('bare-throw.js');
    expect((await post(c, '/run', activation({}, 'act-b-1'))).status).toBe(502);
    expect(await post(c, '/run', activation({}, 'act-b-2'))).toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
  });

  it('answers DEADLINE_EXCEEDED before the invoker deadline from __OW_DEADLINE', async () => {
    const c = await deploy('deadline.js');
    const res = await post(c, '/run', activation({}, 'act-d-1', Date.now() + 800));
    expect(res).toEqual({ status: 200, body: { error: { code: 'DEADLINE_EXCEEDED', message: 'The invocation deadline was reached', retryable: true } } });
  });

  describe('result size (the invoker takes at most whisk.activation.payload.max bytes, 1048576 by default)', () => {
    /** The JSON lines of the activation that ended with the container's `n`th sentinel (1-based). */
    async function linesOf(c: Container, n: number): Promise<Result[]> {
      await untilSentinels(c, n);
      return activationLogs(c)[n - 1]!.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Result);
    }

    it('(control) the invoker emulation records an answer over the limit as a developer error', async () => {
      // The same action within a limit raised to 2 MiB answers 1.5 MB; an invoker left at 1 MiB refuses it.
      const c = await deploy('large.js');
      const res = await invokerRun(c, activation({ bytes: 1_500_000, limit: 2_097_152 }, 'act-size-0'));
      expect(res.bytes).toBe(1_500_011);
      expect(res.record).toEqual({ status: 'developer error', result: { error: 'The action produced a response that exceeded the allowed length: 1500011 > 1048576 bytes.' } });
    });

    it('answers a plain activation over 1 MiB as RESPONSE_TOO_LARGE, an application error the caller can read; the payload is never logged', async () => {
      const c = await deploy('large.js');
      const res = await invokerRun(c, activation({ bytes: 1_500_000 }, 'act-size-1'));
      expect(res.record).toEqual({
        status: 'application error',
        result: { error: { code: 'RESPONSE_TOO_LARGE', message: 'The function result is larger than the platform can send', retryable: false } },
      });
      const lines = await linesOf(c, 1);
      // onError saw it, after did not: an idempotency record is released (or keeps the error with cacheErrors), never completed with the result.
      expect(lines.map((l) => l.msg)).toEqual(['onError hook', 'invocation failed']);
      expect(lines[0]).toMatchObject({ seen: 'RESPONSE_TOO_LARGE', requestId: 'act-size-1' });
      expect(lines[1]).toMatchObject({ level: 'error', code: 'RESPONSE_TOO_LARGE', retryable: false, size: 1_500_011, limit: 1_048_576, requestId: 'act-size-1' });
      expect(activationLogs(c)[0]!.join('\n')).not.toContain('xxxxxxxx');
    });

    it('passes a result of exactly the limit and refuses one byte more, with the limit an operator configured', async () => {
      const c = await deploy('large.js');
      // `{"text":"…"}` is the text plus 11 bytes.
      const at = await invokerRun(c, activation({ bytes: 4_096 - 11, limit: 4_096 }, 'act-size-2'), 4_096);
      expect(at.bytes).toBe(4_096);
      expect(at.record.status).toBe('success');
      const over = await invokerRun(c, activation({ bytes: 4_096 - 10, limit: 4_096 }, 'act-size-3'), 4_096);
      expect(over.record).toMatchObject({ status: 'application error', result: { error: { code: 'RESPONSE_TOO_LARGE' } } });
      expect((await linesOf(c, 2)).find((l) => l.msg === 'invocation failed')).toMatchObject({ size: 4_097, limit: 4_096 });
      // Raised to 2 MiB (the invoker too), 1.5 MB is a success and `after` sees it.
      const raised = await invokerRun(c, activation({ bytes: 1_500_000, limit: 2_097_152 }, 'act-size-4'), 2_097_152);
      expect(raised.record.status).toBe('success');
      expect((raised.record.result as Result).text).toHaveLength(1_500_000);
      expect((await linesOf(c, 3)).map((l) => l.msg)).toEqual(['after hook']);
    });

    it('answers a web action whose response is over the limit with a 500 problem the controller sends', async () => {
      const c = await deploy('large.js');
      const params = controllerParams({ method: 'GET', query: 'bytes=1500000' }, false);
      const res = await invokerRun(c, activation(params, 'act-size-5'));
      expect(res.record.status).toBe('application error');
      const sent = controllerHttp(res.record.result as Result);
      expect(sent.status).toBe(500);
      expect(sent.contentType).toBe('application/problem+json');
      expect(JSON.parse(sent.body.toString())).toMatchObject({ status: 500, code: 'RESPONSE_TOO_LARGE' });
      expect((await linesOf(c, 1)).find((l) => l.msg === 'invocation failed')).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 1_048_576 });
      // Under the limit, the same action's response is sent whole.
      const small = await invokerRun(c, activation(controllerParams({ method: 'GET', query: 'bytes=900000' }, false), 'act-size-6'));
      expect(small.record.status).toBe('success');
      expect(controllerHttp(small.record.result as Result).body).toHaveLength(900_000);
    });
  });

  it('keeps each concurrent activation its own id and deadline although the runtime rewrites process.env', async () => {
    const c = await deploy('concurrent.js', { __OW_ALLOW_CONCURRENT: 'true' });
    const da = Date.now() + 50_000;
    const db = Date.now() + 55_000;
    const [a, b] = await Promise.all([
      post(c, '/run', activation({ who: 'a' }, 'act-con-a', da)),
      post(c, '/run', activation({ who: 'b' }, 'act-con-b', db)),
    ]);
    expect(a.body).toMatchObject({ who: 'a', arrivedTogether: true, requestId: 'act-con-a', transactionId: 'tid-act-con-a', deadline: da });
    expect(b.body).toMatchObject({ who: 'b', arrivedTogether: true, requestId: 'act-con-b', transactionId: 'tid-act-con-b', deadline: db });
    // Each activation's log line names its own transaction id, read at entry before the other rewrote it.
    await untilSentinels(c, 2);
    const answering = c.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Result).filter((l) => l.msg === 'answering');
    expect(answering.map((l) => [l.who, l.requestId, l.transactionId]).sort()).toEqual([
      ['a', 'act-con-a', 'tid-act-con-a'],
      ['b', 'act-con-b', 'tid-act-con-b'],
    ]);
    // By the time both returned, the environment named the activation that arrived last: at
    // least one of them saw someone else's id there, yet kept its own in ctx.
    expect(a.body.envActivationIdNow).toBe(b.body.envActivationIdNow);
    expect(['act-con-a', 'act-con-b']).toContain(a.body.envActivationIdNow);
  });
});
