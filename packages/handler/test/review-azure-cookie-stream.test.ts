/**
 * Review finding (rvp), HTTP stream mode: under `app.setup({ enableHttpStream: true })` the
 * `@azure/functions` proxy writes the response itself, each cookie through `cookie.serialize`,
 * which applies `encodeURIComponent` to the value — a `Set-Cookie` value already encoded
 * (`sid=s%3Aabc.def%2Bg%2F`) reached the client encoded twice. Run through the library's own
 * proxy (started by `getCapabilities`, as the worker does at startup), the response read as the
 * host reads it, over HTTP. See review-azure-cookie-encoding for the default (RPC) mode.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const CASES: Array<[string, string]> = [
  ['sid=s%3Aabc.def%2Bg%2F; Path=/; HttpOnly', 'sid=s%3Aabc.def%2Bg%2F; Path=/; HttpOnly'],
  ['name=Jos%C3%A9%20Q', 'name=Jos%C3%A9%20Q'],
  ['theme=dark', 'theme=dark'],
];

describe('Azure Functions HTTP streams: cookie values reach the client as the Set-Cookie line has them', () => {
  it('through the library\u2019s HTTP proxy', async () => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../src/index.js');
    app.setup({ enableHttpStream: true });
    app.http('stream-cookies', {
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: handler({ logSink: () => undefined }, () => httpResult({ cookies: CASES.map(([line]) => line), body: 'x' })) as never,
    });
    const { HttpUri } = await worker.capabilities();
    const headers = { 'x-ms-invocation-id': 'inv-stream', 'x-forwarded-host': 'localhost:7071', 'x-forwarded-proto': 'http' };
    const answer = fetch(new URL('api/stream-cookies', HttpUri), { headers });
    await worker.respond('stream-cookies', 'inv-stream', { Headers: { json: '{}' } }, { http: { method: 'GET', url: 'http://localhost:7071/api/stream-cookies', headers: {}, query: {}, params: {} } });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(CASES.map(([, sent]) => sent));
    expect(await res.text()).toBe('x');
  });
});
