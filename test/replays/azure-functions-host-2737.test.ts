/**
 * Azure/azure-functions-host#2737 ("Better way to set cookies and other repeatable headers in
 * Javascript Http functions", lang-js bug; fixed for Node.js by azure-functions-nodejs-worker#222)
 * and Azure/azure-functions-host#4486 ("Proxy function merges Set-Cookie headers")
 * https://github.com/Azure/azure-functions-host/issues/2737
 *
 * A JavaScript HTTP function's response headers were one map, one value per name: a second
 * `Set-Cookie` replaced the first (the reported workaround, `'Set-Cookie '` with a trailing
 * space, made Kestrel throw), or both were folded into one comma-joined line, which browsers
 * read as a single cookie — sign-in flows setting a session and a CSRF cookie broke.
 *
 * steadyfn hands the worker each cookie as its own `cookies` entry (one `Set-Cookie` line each)
 * and never folds them into a header. Replayed through `@azure/functions`' own conversion of the
 * result into the RPC response the worker sends the host (test/support/azure-worker.ts): a
 * function setting two cookies with `httpResult({ cookies })`, and one returning them as a
 * `set-cookie` header list; each response carries two cookies with their attributes and no
 * folded `Set-Cookie` header.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from '../../packages/handler/test/support/azure-worker.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const SESSION = 'sid=8f3a; Path=/; HttpOnly; Secure; SameSite=Lax';
const CSRF = 'csrftoken=L6coOZOc; Max-Age=31449600; Path=/; SameSite=Lax';
const request = (name: string) => ({ http: { method: 'POST', url: `http://localhost:7071/api/${name}`, headers: { 'content-type': 'application/json' }, query: {}, params: {}, body: { string: '{"user":"ann"}' } } });

describe('azure-functions-host#2737: two Set-Cookie lines stay two cookies', () => {
  it.each([
    ['httpResult({ cookies })', 'cookies'],
    ['a set-cookie header list', 'header'],
  ] as const)('%s: the worker sends both cookies, none folded into a header', async (_label, how) => {
    const { app } = await import('@azure/functions');
    const { handler, httpResult } = await import('../../packages/handler/src/index.js');
    const name = `sign-in-${how}`;
    const main = handler({ logSink: () => undefined }, () =>
      how === 'cookies' ? httpResult({ status: 200, cookies: [SESSION, CSRF], body: { ok: true } }) : httpResult({ status: 200, headers: { 'set-cookie': [SESSION, CSRF] }, body: { ok: true } }),
    );
    app.http(name, { methods: ['POST'], authLevel: 'anonymous', handler: main as never });
    const response = await worker.respond(name, `inv-${name}`, {}, request(name));
    const http = response.returnValue.http as { statusCode: string; headers: Record<string, string>; cookies: Array<Record<string, any>> };
    expect(http.statusCode).toBe('200');
    expect(http.cookies.map((c) => [c.name, c.value])).toEqual([
      ['sid', '8f3a'],
      ['csrftoken', 'L6coOZOc'],
    ]);
    expect(http.cookies[0]).toMatchObject({ path: { value: '/' }, secure: { value: true }, httpOnly: { value: true } });
    expect(http.cookies[1]!.maxAge?.value).toBe(31449600);
    expect(Object.keys(http.headers).filter((h) => h.toLowerCase() === 'set-cookie')).toEqual([]);
  });
});
