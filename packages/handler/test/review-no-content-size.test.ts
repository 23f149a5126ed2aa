/**
 * Review finding: a 204/205/304 goes out without its body (test/review-no-content-lambda.test.ts),
 * but the response-size checks still measured that body: a conditional GET answered
 * `httpResult({ status: 304, headers: { etag }, body: bigDocument })` — the body the function
 * would send with a 200 — failed `500 RESPONSE_TOO_LARGE` on Cloud Functions (the Functions
 * Framework, a real server) and on an API Gateway WebSocket route (128 KB per message),
 * although nothing over the limit would have been sent. Lambda HTTP and OpenWhisk measured
 * the answer as sent already and are checked here as well.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, httpResult } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';
import { lambdaContext, published, type Json } from './support/published.js';
import { controllerParams } from './fixtures/openwhisk/controller.js';

afterAll(closeServers);

const big = { items: 'x'.repeat(200 * 1024) };
const notModified = () => httpResult({ status: 304, headers: { etag: '"v7"' }, body: big });

describe('no-content statuses: the size limit counts what is sent', () => {
  it('Cloud Functions (real server): a 304 with a body over gcpResponseLimitBytes is sent as a 304', async () => {
    const url = await serve('http', handler({ logSink: () => undefined, gcpResponseLimitBytes: 64 * 1024 }, notModified));
    const res = await fetch(url, { headers: { 'if-none-match': '"v7"' } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe('"v7"');
  });

  it('a 200 over the limit still fails there (the check itself still runs)', async () => {
    const url = await serve('http', handler({ logSink: () => undefined, gcpResponseLimitBytes: 64 * 1024 }, () => big));
    expect((await fetch(url)).status).toBe(500);
  });

  it('API Gateway WebSocket route: a 204 with a body over 128 KB answers 204', async () => {
    const answer = (await handler({ logSink: () => undefined }, () => httpResult({ status: 204, body: big })).aws(published('aws', 'websocket-message.json'), lambdaContext())) as Json;
    expect(answer.statusCode).toBe(204);
    expect(answer.body ?? '').toBe('');
  });

  it('Lambda HTTP API and OpenWhisk: a 304 with a body over the limit answers 304', async () => {
    const lambda = (await handler({ logSink: () => undefined }, () => httpResult({ status: 304, body: { items: 'x'.repeat(7 * 1024 * 1024) } })).aws(published('aws', 'apigw-http-v2.json'), lambdaContext())) as Json;
    expect(lambda.statusCode).toBe(304);
    process.env.__OW_ACTIVATION_ID ??= 'act-size';
    const ow = (await handler({ logSink: () => undefined, openwhiskResultLimitBytes: 64 * 1024 }, notModified).openwhisk(controllerParams({ method: 'GET' }, false))) as Json;
    expect(ow.statusCode).toBe(304);
  });
});
