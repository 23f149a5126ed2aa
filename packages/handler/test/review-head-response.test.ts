/**
 * Review finding: a response to a HEAD request kept its body (RFC 9110 §9.3.2: the server
 * "MUST NOT send content in the response" to HEAD; the header fields are those a GET would
 * send, Content-Length of the GET body included). The Lambda answer (API Gateway REST and HTTP
 * APIs, Function URLs, ALB), the Azure `HttpResponseInit` and the OpenWhisk web result all
 * carried it, and the response-size checks counted it: a HEAD of a large resource failed
 * `500 RESPONSE_TOO_LARGE` on Cloud Functions (the real Functions Framework here), which sends
 * no body for HEAD. Every adapter now sends a HEAD answer without its body, headers kept.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HttpRequest, trigger } from '@azure/functions';
import { handler, httpResult } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { invocationContext } from './support/azure.js';
import { lambdaContext, published, type Json } from './support/published.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

afterAll(closeServers);

const doc = { items: 'x'.repeat(1024) };
const withEtag = () => httpResult({ status: 200, headers: { etag: '"v7"' }, body: doc });

function asHead(event: Json): Json {
  const e = structuredClone(event);
  if (e.requestContext?.http) e.requestContext.http.method = 'HEAD';
  else e.httpMethod = 'HEAD';
  delete e.body;
  e.isBase64Encoded = false;
  return e;
}

describe('HEAD: no content, the GET headers', () => {
  for (const file of ['apigw-http-v2.json', 'apigw-rest-post.json', 'function-url-post.json', 'alb-multi-value.json']) {
    it(`Lambda ${file}: status and headers of the GET, empty body`, async () => {
      const main = handler({ logSink: () => undefined }, withEtag);
      const get = (await main.aws(asHead(published('aws', file)), lambdaContext())) as Json;
      expect(get.statusCode).toBe(200);
      expect(get.body).toBe('');
      const headers = JSON.stringify(get.headers ?? get.multiValueHeaders);
      expect(headers).toContain('v7');
      expect(headers).toContain('application/json');
    });
  }

  it('Lambda: a HEAD whose GET body is over the 6 MB payload answers 200 (nothing over the limit is sent)', async () => {
    const main = handler({ logSink: () => undefined }, () => ({ items: 'x'.repeat(7 * 1024 * 1024) }));
    const answer = (await main.aws(asHead(published('aws', 'apigw-http-v2.json')), lambdaContext())) as Json;
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toBe('');
  });

  it('Cloud Functions (real server): a HEAD whose GET body is over gcpResponseLimitBytes answers 200 with the GET headers', async () => {
    const url = await serve('http', handler({ logSink: () => undefined, gcpResponseLimitBytes: 64 * 1024 }, () => httpResult({ headers: { etag: '"v8"' }, body: { items: 'x'.repeat(200 * 1024) } })));
    const res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v8"');
    expect(res.headers.get('content-type')).toContain('application/json');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('Cloud Functions (real server): a HEAD keeps the Content-Length of the GET body', async () => {
    const url = await serve('http', handler({ logSink: () => undefined }, () => 'héllo'));
    const get = await fetch(url);
    const head = await fetch(url, { method: 'HEAD' });
    expect(await get.text()).toBe('héllo');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(head.headers.get('content-length')).toBe('6');
  });

  it('Azure: the HttpResponseInit has no body', async () => {
    const main = handler({ logSink: () => undefined }, withEtag);
    const answer = (await main(
      new HttpRequest({ method: 'HEAD', url: 'https://sample.azurewebsites.net/api/doc', headers: {} }),
      invocationContext({ invocationId: 'inv-head', functionName: 'doc', triggerMetadata: {} }, trigger.http({ methods: ['GET', 'HEAD'], authLevel: 'anonymous' })),
    )) as Json;
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ etag: '"v7"' });
    expect(answer.body).toBeUndefined();
  });

  it('OpenWhisk web action: the web result has no body', async () => {
    process.env.__OW_ACTIVATION_ID ??= 'act-head';
    const main = handler({ logSink: () => undefined }, withEtag);
    const result = (await main.openwhisk(controllerParams({ method: 'HEAD' }, false))) as Json;
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ etag: '"v7"' });
    expect(result.body).toBeUndefined();
  });

  it('an error answered to HEAD has no body either', async () => {
    const main = handler({ logSink: () => undefined }, () => {
      throw new Error('boom');
    });
    const answer = (await main.aws(asHead(published('aws', 'apigw-http-v2.json')), lambdaContext())) as Json;
    expect(answer.statusCode).toBe(500);
    expect(answer.body).toBe('');
  });
});
