/**
 * Review finding: on Azure Functions a repeated query parameter (`?t=a&t=b`) reached the
 * function as one value `'a,b'`, and an empty one (`?flag=`) not at all — where every other
 * provider gives `{ t: ['a', 'b'], flag: '' }` (README, "What the function receives"). The host
 * sends the query twice: in `RpcHttp.url`, the request's own query string, and in
 * `RpcHttp.query`, a name → value map built from ASP.NET's `request.Query`, each value
 * `StringValues.ToString()` (repeated values joined with ",") and empty ones left out
 * (azure-functions-host `RpcMessageConversionExtensions.ToRpcHttp`). `@azure/functions` builds
 * `HttpRequest.query` from that map when the host sends one, and the adapter read
 * `HttpRequest.query` first. The URL's query string is read now; the map only when the URL has
 * none (a request built by hand with `query` alone).
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation
 * (test/support/azure-worker.ts), with the `RpcHttp` the host builds for the request.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

describe('Azure Functions HTTP: the query as the client sent it', () => {
  it('a repeated parameter keeps every value and an empty one is kept, as on the other providers', async () => {
    const { app } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    const seen: Array<{ input: unknown; ctx: Context }> = [];
    app.http('repeated-query', { methods: ['GET'], authLevel: 'anonymous', handler: handler({ logSink: () => undefined }, (input, ctx) => void seen.push({ input, ctx })) as never });
    // What the host sends for GET /api/repeated-query?t=a&t=b&flag=&tags=x%2Cy
    const http = {
      method: 'GET',
      url: 'http://localhost:7071/api/repeated-query?t=a&t=b&flag=&tags=x%2Cy',
      headers: { host: 'localhost:7071' },
      query: { t: 'a,b', tags: 'x,y' },
      params: {},
    };
    const response = await worker.respond('repeated-query', 'inv-rq', {}, { http });
    expect(response.returnValue.http.statusCode).toBe('204');
    expect(seen).toHaveLength(1);
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ t: ['a', 'b'], flag: '', tags: 'x,y' });
    expect(ctx.trigger.kind === 'http' && ctx.trigger.request.multiQuery).toEqual({ t: ['a', 'b'], flag: [''], tags: ['x,y'] });
  });

  it('(control) a request built with `query` alone and a URL without one still has its query', async () => {
    const { HttpRequest, InvocationContext } = await import('@azure/functions');
    const { handler } = await import('../src/index.js');
    let seen: unknown;
    const main = handler({ logSink: () => undefined }, (input) => void (seen = input));
    const req = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/q', query: { name: 'ada' } });
    await main(req as never, new InvocationContext({ invocationId: 'inv-q', functionName: 'q', logHandler: () => undefined }) as never);
    expect(seen).toEqual({ name: 'ada' });
  });
});
