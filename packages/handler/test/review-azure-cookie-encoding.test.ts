/**
 * Review finding (rvp): the Azure host percent-encodes every cookie value it sends — the
 * worker's cookie object goes through `ConvertCookie` → ASP.NET Core `Response.Cookies.Append`,
 * which applies `Uri.EscapeDataString` (Azure/azure-functions-python-worker#1794,
 * Azure/static-web-apps#1140). The adapter gave the worker the value as the `Set-Cookie` line
 * had it, so a value already encoded was encoded twice: an Express signed session
 * `sid=s%3Aabc.def%2Bg%2F` reached the browser as `s%253Aabc.def%252Bg%252F` and no longer
 * verified. A value that encodes back to itself is now given decoded, so the client gets the
 * line's bytes; one that does not (`dGVzdA==`) is sent as before, encoded once, which a reader
 * that decodes values still reads as the value set. Under `enableHttpStream` the library's proxy
 * encodes with `cookie.serialize` (`encodeURIComponent`): see review-azure-cookie-stream.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

/** The RPC HTTP request the host sends for `GET /api/<name>`. */
const request = (name: string) => ({ http: { method: 'GET', url: `http://localhost:7071/api/${name}`, headers: {}, query: {}, params: {} } });

/** .NET `Uri.EscapeDataString`, which the host applies to the value the worker sends. */
const escapeDataString = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const CASES: Array<[string, string, string]> = [
  // [label, Set-Cookie line, the value the client must get]
  ['an Express signed session (encoded `:`, `+`, `/`)', 'sid=s%3Aabc.def%2Bg%2F; Path=/; HttpOnly', 's%3Aabc.def%2Bg%2F'],
  ['a plain value', 'theme=dark', 'dark'],
  ['an encoded space and UTF-8', 'name=Jos%C3%A9%20Q', 'Jos%C3%A9%20Q'],
];

describe('Azure Functions: cookie values reach the client as the Set-Cookie line has them', () => {
  it.each(CASES)('%s', async (label, line, onWire) => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../src/index.js');
    const name = `cookie-${CASES.findIndex((c) => c[0] === label)}`;
    app.http(name, { methods: ['GET'], authLevel: 'anonymous', handler: handler({ logSink: () => undefined }, () => httpResult({ cookies: [line], body: 'x' })) as never });
    const sent = (await worker.respond(name, `inv-${name}`, {}, request(name))).returnValue.http.cookies[0];
    expect(escapeDataString(sent.value)).toBe(onWire);
  });

  it('a value with no decoded form the host would encode back (`dGVzdA==`) is sent once encoded, which decodes to it', async () => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../src/index.js');
    app.http('cookie-b64', { methods: ['GET'], authLevel: 'anonymous', handler: handler({ logSink: () => undefined }, () => httpResult({ cookies: ['token=dGVzdA==', 'bad=100%'], body: 'x' })) as never });
    const sent = (await worker.respond('cookie-b64', 'inv-b64', {}, request('cookie-b64'))).returnValue.http.cookies;
    expect(sent.map((c: { value: string }) => c.value)).toEqual(['dGVzdA==', '100%']);
    expect(decodeURIComponent(escapeDataString(sent[0].value))).toBe('dGVzdA==');
  });
});
