/**
 * Review finding: an HTTP function that creates orders answered any method. On Cloud Functions
 * and OpenWhisk web actions (and an Azure `app.http` registration left at its default methods)
 * nothing in front filters methods, and a `GET` with query parameters — what a link preview or
 * a crawler sends — became the function's input (`input` is "the query parameters when there is
 * no body"): with a schema that coerces, an order was placed; with idempotency, a record was
 * claimed for it. The `methods` option answers any other method `405 METHOD_NOT_ALLOWED` with
 * an `Allow` header (RFC 9110 §15.5.6) before any plugin runs or the input is read, on every
 * provider: the Lambda answer (published API Gateway HTTP API and REST events), the real
 * Functions Framework server, Azure's `HttpRequest` in test mode and an OpenWhisk web action
 * as the controller builds its parameters.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRequest, trigger } from '@azure/functions';
import { z } from 'zod';
import { ConfigurationError, handler, MethodNotAllowedError, type Plugin } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { invocationContext } from './support/azure.js';
import { lambdaContext, published, type Json } from './support/published.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

afterAll(closeServers);

/** The order function: `quantity` coerced, as a form or query value arrives as text. */
function orders(log: string[] = []) {
  const hooks: string[] = [];
  const spy: Plugin = {
    name: 'spy',
    extend: () => {
      hooks.push('extend');
      return {};
    },
    before: () => void hooks.push('before'),
    finally: () => void hooks.push('finally'),
  };
  const placed: unknown[] = [];
  const main = handler(
    { methods: ['POST'], input: z.object({ sku: z.string(), quantity: z.coerce.number().int().positive() }), use: [spy], logLevel: 'info', logSink: (line) => void log.push(line) },
    (order) => {
      placed.push(order);
      return { status: 'placed' };
    },
  );
  return { main, hooks, placed };
}

function withMethod(event: Json, method: string, query?: Record<string, string>): Json {
  const e = structuredClone(event);
  if (e.requestContext?.http) {
    e.requestContext.http.method = method;
    if (query) e.rawQueryString = new URLSearchParams(query).toString();
  } else e.httpMethod = method;
  if (query) e.queryStringParameters = query;
  delete e.body;
  e.isBase64Encoded = false;
  return e;
}

const problemOf = (body: unknown) => JSON.parse(String(body)) as Record<string, any>;

describe('methods: a method the function does not answer gets 405 and an Allow header, before any plugin', () => {
  for (const file of ['apigw-http-v2.json', 'apigw-rest-post.json']) {
    it(`Lambda ${file}: GET with query parameters → 405, nothing placed, no hook ran; POST still places`, async () => {
      const log: string[] = [];
      const { main, hooks, placed } = orders(log);
      const get = (await main.aws(withMethod(published('aws', file), 'GET', { sku: 'tea-42', quantity: '1' }), lambdaContext())) as Json;
      expect(get.statusCode).toBe(405);
      expect(JSON.stringify(get.headers ?? get.multiValueHeaders).toLowerCase()).toContain('"allow":');
      expect(get.headers?.allow ?? get.headers?.Allow).toBe('POST');
      expect(problemOf(get.body)).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED', errors: [{ field: 'method', expected: 'one of POST' }] });
      expect(placed).toEqual([]);
      expect(hooks).toEqual([]);
      // Logged once, as a rejection, with the code and the field — not the method sent.
      const lines = log.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.msg === 'invocation rejected'), log.join('\n')).toEqual([expect.objectContaining({ level: 'warn', code: 'METHOD_NOT_ALLOWED', retryable: false })]);

      const post = structuredClone(published('aws', file));
      if (post.requestContext?.http) post.requestContext.http.method = 'POST';
      else post.httpMethod = 'POST';
      post.body = JSON.stringify({ sku: 'tea-42', quantity: 1 });
      post.isBase64Encoded = false;
      post.headers = { ...(post.headers ?? {}), 'content-type': 'application/json' };
      const answer = (await main.aws(post, lambdaContext())) as Json;
      expect(answer.statusCode, String(answer.body)).toBe(200);
      expect(placed).toHaveLength(1);
      expect(hooks).toEqual(['extend', 'before', 'finally']);
    });
  }

  it('Cloud Functions (real Functions Framework server): GET and PUT → 405 with Allow; HEAD → 405 without a body; POST → 200', async () => {
    const { main, placed } = orders();
    const url = await serve('http', main);
    const get = await fetch(`${url}?sku=tea-42&quantity=1`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.headers.get('content-type')).toContain('application/problem+json');
    expect(await get.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'tea-42', quantity: 1 }) });
    expect(put.status).toBe(405);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect(placed).toEqual([]);
    const post = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'tea-42', quantity: 1 }) });
    expect(post.status).toBe(200);
    expect(placed).toHaveLength(1);
  });

  it('Azure (HttpRequest, registration left at every method): GET → 405 with Allow; POST → 200', async () => {
    const { main, placed } = orders();
    const ctx = () => invocationContext({ invocationId: `inv-${Math.random()}`, functionName: 'createOrder', triggerMetadata: {} }, trigger.http({ authLevel: 'anonymous' }));
    const get = (await main(new HttpRequest({ method: 'GET', url: 'https://shop.azurewebsites.net/api/createOrder?sku=tea-42&quantity=1', headers: {} }), ctx())) as Json;
    expect(get.status).toBe(405);
    expect(get.headers).toMatchObject({ allow: 'POST' });
    expect(placed).toEqual([]);
    const post = (await main(
      new HttpRequest({ method: 'POST', url: 'https://shop.azurewebsites.net/api/createOrder', headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify({ sku: 'tea-42', quantity: 1 }) } }),
      ctx(),
    )) as Json;
    expect(post.status).toBe(200);
    expect(placed).toHaveLength(1);
  });

  it('OpenWhisk web action (controller parameters): GET with query → 405 with Allow; POST → 200', async () => {
    process.env.__OW_ACTIVATION_ID ??= 'act-methods';
    const { main, placed } = orders();
    const get = (await main.openwhisk(controllerParams({ method: 'GET', query: 'sku=tea-42&quantity=1' }, false))) as Json;
    expect(get.statusCode).toBe(405);
    expect(get.headers).toMatchObject({ allow: 'POST' });
    expect(placed).toEqual([]);
    const post = (await main.openwhisk(controllerParams({ method: 'POST', contentType: 'application/json', body: JSON.stringify({ sku: 'tea-42', quantity: 1 }) }, false))) as Json;
    expect(post.statusCode).toBe(200);
    expect(placed).toHaveLength(1);
  });

  it('GET listed: HEAD is answered too; methods compare in upper case; other triggers are not checked', async () => {
    const main = handler({ methods: ['get'], logSink: () => undefined }, () => ({ ok: true }));
    const head = (await main.aws(withMethod(published('aws', 'apigw-http-v2.json'), 'HEAD'), lambdaContext())) as Json;
    expect(head.statusCode).toBe(200);
    const del = (await main.aws(withMethod(published('aws', 'apigw-http-v2.json'), 'DELETE'), lambdaContext())) as Json;
    expect(del.statusCode).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD');
    // A direct invocation is not an HTTP request: it runs.
    expect(await main.aws({ any: 'thing' }, lambdaContext())).toEqual({ ok: true });
  });

  it('the error is a typed class, terminal, exposed', () => {
    const error = new MethodNotAllowedError(['POST', 'PUT']);
    expect(error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405, retryable: false, expose: true, headers: { allow: 'POST, PUT' }, allowed: ['POST', 'PUT'] });
  });

  it.each([[[]], [['PO ST']], ['POST'], [[1]], [['']]])('methods %j is refused when handler() is called', (methods) => {
    expect(() => handler({ methods } as never, () => undefined)).toThrow(ConfigurationError);
    expect(() => handler({ methods } as never, () => undefined)).toThrow(/option "methods" must be a non-empty array of HTTP method names/);
  });
});
