/**
 * Review finding: the usual way to delete a cookie — `Set-Cookie: sid=; Expires=Thu, 01 Jan
 * 1970 00:00:00 GMT` — did not delete it on Azure Functions. The adapter hands the worker a
 * cookie object with `expires` as a `Date`; `@azure/functions`' `toRpcHttpCookie` sends a
 * timestamp only when `getTime()` is truthy and ≥ 0, so the epoch (0 ms) or any earlier date is
 * silently left out, and the host sends `sid=` as a session cookie: the client keeps a cookie
 * the function meant to remove. An expiry at or before the epoch is sent as one still in the
 * past that the worker can carry (1970-01-01T00:00:01Z): the cookie is expired on arrival, as
 * the function asked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

/** The RPC HTTP request the host sends for `GET /api/<name>`. */
const request = (name: string) => ({ http: { method: 'GET', url: `http://localhost:7071/api/${name}`, headers: {}, query: {}, params: {} } });

describe('Azure Functions: a cookie set to expire in the past', () => {
  it.each([
    ['the epoch', 'sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'],
    ['a date before the epoch', 'sid=; Expires=Wed, 31 Dec 1969 23:59:59 GMT; Path=/'],
  ])('expiring at %s: the worker sends it with an expiry in the past, not as a session cookie', async (_label, cookie) => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../src/index.js');
    const name = `expired-${cookie.length}-${_label.length}`;
    app.http(name, { methods: ['GET'], authLevel: 'anonymous', handler: handler({ logSink: () => undefined }, () => httpResult({ status: 200, cookies: [cookie], body: 'signed out' })) as never });
    const response = await worker.respond(name, `inv-${name}`, {}, request(name));
    const http = response.returnValue.http as { statusCode: string; cookies: Array<Record<string, any>> };
    expect(http.statusCode).toBe('200');
    expect(http.cookies).toHaveLength(1);
    const [sent] = http.cookies;
    expect(sent).toMatchObject({ name: 'sid', value: '', path: { value: '/' } });
    // An expiry the host can write, and one already past: the browser drops the cookie.
    expect(sent!.expires?.value?.seconds).toBeGreaterThan(0);
    expect(sent!.expires.value.seconds * 1000).toBeLessThan(Date.now());
  });

  it('a cookie with a future expiry keeps it to the second', async () => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../src/index.js');
    app.http('future-cookie', { methods: ['GET'], authLevel: 'anonymous', handler: handler({ logSink: () => undefined }, () => httpResult({ cookies: ['sid=abc; Expires=Fri, 01 Jan 2100 00:00:00 GMT'] })) as never });
    const response = await worker.respond('future-cookie', 'inv-future', {}, request('future-cookie'));
    expect(response.returnValue.http.cookies[0].expires.value.seconds).toBe(Date.UTC(2100, 0, 1) / 1000);
  });
});
