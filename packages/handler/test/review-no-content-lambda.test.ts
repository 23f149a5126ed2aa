/**
 * Review finding: a Lambda HTTP answer (API Gateway REST and HTTP APIs, Function URLs, ALB)
 * with status 204, 205 or 304 still carried the function's body (and a `content-length` it
 * set). RFC 9110 §15.3.5 / §15.3.6 / §15.4.5: those responses have no content, and §8.6 says a
 * server must not send Content-Length with a 204. The other adapters already leave the body
 * out (Azure, OpenWhisk; the Functions Framework's Express drops it and the length), so one
 * function answered differently per provider. Run with the published sample of each event
 * source (test/fixtures/aws/published).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRequest, trigger } from '@azure/functions';
import { handler, httpResult } from '../src/index.js';
import { invocationContext } from './support/azure.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);
import { lambdaContext, published, type Json } from './support/published.js';

const SOURCES = ['apigw-rest-post.json', 'apigw-http-v2.json', 'function-url-post.json', 'alb-multi-value.json', 'alb-headers-only.json'];

const headerNames = (answer: Json): string[] => [...Object.keys(answer.headers ?? {}), ...Object.keys(answer.multiValueHeaders ?? {})].map((n) => n.toLowerCase());

describe('Lambda HTTP: statuses that carry no content', () => {
  for (const file of SOURCES) {
    it.each([204, 205, 304])(`${file}: %i leaves out the body and content-length, keeps the other headers`, async (status) => {
      const result = httpResult({ status, headers: { etag: '"v1"', 'content-length': '11' }, body: { id: 1, name: 'x' } });
      const answer = (await handler({ logSink: () => undefined }, () => result).aws(published('aws', file), lambdaContext())) as Json;
      expect(answer.statusCode).toBe(status);
      expect(answer.body ?? '').toBe('');
      expect(answer.isBase64Encoded ?? false).toBe(false);
      expect(headerNames(answer)).not.toContain('content-length');
      expect(headerNames(answer)).toContain('etag');
    });

    it(`${file}: bytes with 304 are left out too, a 200 keeps its body`, async () => {
      const bytes = (await handler({ logSink: () => undefined }, () => httpResult({ status: 304, body: Buffer.from([1, 2, 3]) })).aws(published('aws', file), lambdaContext())) as Json;
      expect(bytes.body ?? '').toBe('');
      expect(bytes.isBase64Encoded ?? false).toBe(false);
      const ok = (await handler({ logSink: () => undefined }, () => ({ ok: true })).aws(published('aws', file), lambdaContext())) as Json;
      expect(JSON.parse(ok.body as string)).toEqual({ ok: true });
    });
  }
});

describe('the same statuses on Azure and OpenWhisk: no content-length either (one answer on every provider)', () => {
  const result = () => httpResult({ status: 204, headers: { etag: '"v1"', 'Content-Length': '11' }, body: { id: 1, name: 'x' } });

  it('Azure HTTP', async () => {
    const f = published('azure', 'http-easy-auth.json');
    const answer = (await handler({ logSink: () => undefined }, result)(new HttpRequest(structuredClone(f.request)), invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' })))) as Json;
    expect(answer.status).toBe(204);
    expect(answer.body).toBeUndefined();
    expect(Object.keys(answer.headers).map((n) => n.toLowerCase())).not.toContain('content-length');
    expect(answer.headers.etag).toBe('"v1"');
  });

  it('OpenWhisk web action', async () => {
    process.env.__OW_ACTIVATION_ID ??= 'act-no-content';
    const answer = (await handler({ logSink: () => undefined }, result).openwhisk(controllerParams({ method: 'GET' }, false))) as Json;
    expect(answer.statusCode).toBe(204);
    expect(answer.body).toBeUndefined();
    expect(Object.keys(answer.headers).map((n) => n.toLowerCase())).not.toContain('content-length');
    expect(answer.headers.etag).toBe('"v1"');
  });
});

describe('the Functions Framework (a real server): the same statuses arrive without content', () => {
  it.each([204, 205, 304])('%i: no body bytes, no Content-Length but a 205\'s 0, the ETag kept', async (status) => {
    const url = new URL(await serve('http', handler({ logSink: () => undefined }, () => httpResult({ status, headers: { etag: '"v1"', 'content-length': '11' }, body: { id: 1 } }))));
    const got = await new Promise<{ status: number | undefined; headers: Record<string, unknown>; bytes: number }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/', method: 'GET' }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(got.status).toBe(status);
    expect(got.bytes).toBe(0);
    expect(got.headers['content-length']).toBe(status === 205 ? '0' : undefined);
    expect(got.headers.etag).toBe('"v1"');
  });
});
