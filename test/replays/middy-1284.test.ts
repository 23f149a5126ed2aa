/**
 * middyjs/middy#1284 ("http-json-body-parser fails in 6.1+", fixed by PR #1285)
 * https://github.com/middyjs/middy/issues/1284
 *
 * A check for a missing body added in 6.1 made the JSON body parser fail every GET request —
 * no body and no Content-Type — even with `disableContentTypeError: true`, for a handler stack
 * shared by all HTTP routes.
 *
 * steadyfn: a request without a body runs — with `body: 'json'` (every body must be JSON) its
 * input is `undefined`, under the default `'auto'` its query parameters (README, "Message
 * bodies"; `'text'` and `'bytes'` give an empty text and an empty Buffer). Replayed: a REST API
 * (v1) and an HTTP API (v2) GET with a null / missing body and no Content-Type, to functions that
 * also take JSON POSTs; each answers 200 and the POST still parses.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext, type Json } from './support.js';

function restGet(query: Record<string, string> | null): Json {
  return {
    resource: '/health',
    path: '/health',
    httpMethod: 'GET',
    headers: { Host: 'api.example.com', 'User-Agent': 'curl/8.5.0' },
    multiValueHeaders: { Host: ['api.example.com'], 'User-Agent': ['curl/8.5.0'] },
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { resourcePath: '/health', httpMethod: 'GET', stage: 'prod', requestId: 'r-1', path: '/prod/health', accountId: '123456789012', apiId: 'abc123', identity: { sourceIp: '203.0.113.9' } },
    body: null,
    isBase64Encoded: false,
  };
}

function httpApi(method: string, body?: string, contentType?: string): Json {
  return {
    version: '2.0',
    routeKey: `${method} /health`,
    rawPath: '/health',
    rawQueryString: '',
    headers: { host: 'api.example.com', ...(contentType ? { 'content-type': contentType } : {}) },
    requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'api.example.com', http: { method, path: '/health', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8.5.0' }, requestId: 'r-2', routeKey: `${method} /health`, stage: '$default', time: '14/Mar/2025:10:02:11 +0000', timeEpoch: 1741946531000 },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

describe('middy#1284: a GET without a body or a Content-Type is not a body parse failure', () => {
  it.each([
    ['json', [undefined, undefined, undefined, { name: 'x' }]],
    ['auto', [{}, { verbose: '1' }, {}, { name: 'x' }]],
    ['text', ['', '', '', '{"name":"x"}']],
    ['bytes', [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.from('{"name":"x"}')]],
  ] as const)("body '%s': REST API and HTTP API GETs answer 200; a JSON POST to the same function still parses", async (body, expected) => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, body }, (input) => {
      seen.push(input);
      return { ok: true };
    });
    const a = (await main.aws(restGet(null), lambdaContext())) as Json;
    const b = (await main.aws(restGet({ verbose: '1' }), lambdaContext())) as Json;
    const c = (await main.aws(httpApi('GET'), lambdaContext())) as Json;
    const d = (await main.aws(httpApi('POST', '{"name":"x"}', 'application/json'), lambdaContext())) as Json;
    expect([a.statusCode, b.statusCode, c.statusCode, d.statusCode]).toEqual([200, 200, 200, 200]);
    expect(seen).toEqual(expected);
  });
});
