/**
 * On HTTP every plugin gets the rendered response (`HttpResponse`), rendered once in the core.
 * `next()` resolved to it only for the innermost `wrap`: when an inner `wrap` replaced the
 * result with a plain value, the outer `wrap`'s `next()` resolved to that value, unrendered —
 * an outer plugin reading `res.status` / `res.headers` (a tracing span, a response cache) saw
 * none, and one storing it stored a value of another shape than the caller got.
 */
import { describe, expect, it } from 'vitest';
import { handler, httpResult, isHttpResponse, type HttpResponse, type Plugin } from '../src/index.js';

const event = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {},
  requestContext: {
    accountId: '123456789012',
    apiId: 'api',
    domainName: 'api.example.com',
    domainPrefix: 'api',
    http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
    requestId: 'req',
    routeKey: '$default',
    stage: '$default',
    time: '04/Dec/2026:05:00:00 +0000',
    timeEpoch: 0,
  },
  isBase64Encoded: false,
};
const lambdaContext = { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 10_000 };
const silent = { logSink: () => undefined };

function outerWatcher(seen: unknown[]): Plugin {
  return {
    name: 'outer',
    wrap: async (_ctx, next) => {
      const res = await next();
      seen.push(isHttpResponse(res) ? { status: (res as HttpResponse).status, body: (res as HttpResponse).body } : 'not rendered');
      return res;
    },
  };
}

describe('wrap around a wrap that replaces the result (HTTP)', () => {
  it("the outer wrap's next() resolves to the rendered replacement, which is what the caller gets", async () => {
    const seen: unknown[] = [];
    const replacing: Plugin = {
      name: 'replacing',
      wrap: async (_ctx, next) => {
        await next();
        return httpResult({ status: 201, body: { replaced: true } });
      },
    };
    const main = handler({ use: [outerWatcher(seen), replacing], ...silent }, () => ({ original: true }));
    const res = (await main.aws(event, lambdaContext)) as { statusCode: number; body: string };
    expect(res).toMatchObject({ statusCode: 201, body: '{"replaced":true}' });
    expect(seen).toEqual([{ status: 201, body: '{"replaced":true}' }]);
  });

  it('an inner wrap answering without next() is rendered for the outer one too', async () => {
    const seen: unknown[] = [];
    const shortCircuit: Plugin = { name: 'short', wrap: async () => 'from wrap' };
    let runs = 0;
    const main = handler({ use: [outerWatcher(seen), shortCircuit], ...silent }, () => ++runs);
    const res = (await main.aws(event, lambdaContext)) as { statusCode: number; body: string };
    expect(res).toMatchObject({ statusCode: 200, body: 'from wrap' });
    expect(seen).toEqual([{ status: 200, body: 'from wrap' }]);
    expect(runs).toBe(0);
  });

  it("an inner wrap's unsendable replacement rejects the outer next() with INVALID_HTTP_RESULT, answered 500", async () => {
    const errors: string[] = [];
    const outer: Plugin = {
      name: 'outer',
      wrap: async (_ctx, next) => {
        try {
          return await next();
        } catch (error) {
          errors.push((error as { code: string }).code);
          throw error;
        }
      },
    };
    const bad: Plugin = { name: 'bad', wrap: async () => httpResult({ headers: { 'x-bad': 'a\nb' } }) };
    const main = handler({ use: [outer, bad], ...silent }, () => 1);
    const res = (await main.aws(event, lambdaContext)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
    expect(errors).toEqual(['INVALID_HTTP_RESULT']);
  });

  it('off HTTP the value is handed on as it is', async () => {
    const seen: unknown[] = [];
    const outer: Plugin = { name: 'outer', wrap: async (_ctx, next) => (seen.push(await next()), 'outer') };
    const inner: Plugin = { name: 'inner', wrap: async (_ctx, next) => ({ inner: await next() }) };
    const main = handler({ use: [outer, inner], ...silent }, () => 1);
    await expect(main.invoke({})).resolves.toBe('outer');
    expect(seen).toEqual([{ inner: 1 }]);
  });
});
