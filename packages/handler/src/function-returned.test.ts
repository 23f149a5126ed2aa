/**
 * `functionReturned(ctx)`: what `onError` reads to tell "the function threw" from "the function
 * returned, then a later hook failed" (idempotency completes the record then instead of releasing
 * it, so a retry does not run the function's effects again).
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { functionReturned, handler, httpResult, isHttpResponse, SteadyError, type Plugin } from './index.js';
import { steadyHandler, toMiddy } from './middy.js';

const silent = { logSink: () => undefined };
const failed = (): SteadyError => new SteadyError('AUDIT_FAILED', 'audit sink down', { status: 503, retryable: true });

/** A plugin that notes `functionReturned(ctx)` in `onError`. */
function observer(seen: unknown[]): Plugin {
  return { name: 'observer', onError: (ctx) => void seen.push(functionReturned(ctx)) };
}

describe('functionReturned(ctx)', () => {
  it('{ value } in onError when a later plugin’s after threw once the function returned; undefined when it threw', async () => {
    const seen: unknown[] = [];
    const audit: Plugin = { name: 'audit', after: () => { throw failed(); } };
    await expect(handler({ ...silent, use: [observer(seen), audit] }, async () => ({ charged: 1 })).invoke({})).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    await expect(handler({ ...silent, use: [observer(seen)] }, () => { throw failed(); }).invoke({})).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    expect(seen).toEqual([{ value: { charged: 1 }, rendered: true }, undefined]);
  });

  it('on HTTP, the rendered response; the unrendered value when it could not be sent', async () => {
    const seen: unknown[] = [];
    const audit: Plugin = { name: 'audit', after: () => { throw failed(); } };
    const event = { version: '2.0', routeKey: 'POST /', rawPath: '/', headers: {}, requestContext: { http: { method: 'POST', path: '/' }, requestId: 'r' }, body: '{}' };
    const context = { awsRequestId: 'a', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
    await handler({ ...silent, use: [observer(seen), audit] }, () => httpResult({ status: 201, body: 'ok' })).aws(event, context);
    const bad = httpResult({ headers: { 'x-trace': 'a\nb' }, body: 'ok' });
    await handler({ ...silent, use: [observer(seen)] }, () => bad).aws(event, context);
    expect(isHttpResponse((seen[0] as { value: unknown }).value)).toBe(true);
    expect((seen[0] as { rendered: boolean }).rendered).toBe(true);
    expect((seen[0] as { value: { status: number } }).value.status).toBe(201);
    expect(seen[1]).toEqual({ value: bad, rendered: false });
  });

  it('through a wrap: the wrap’s result; undefined when the last next() threw', async () => {
    const seen: unknown[] = [];
    const audit: Plugin = { name: 'audit', after: () => { throw failed(); } };
    const double: Plugin = { name: 'double', wrap: async (_ctx, next) => ({ wrapped: await next() }) };
    await expect(handler({ ...silent, use: [observer(seen), audit, double] }, () => 1).invoke({})).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    let calls = 0;
    const twice: Plugin = { name: 'twice', wrap: async (_ctx, next) => { await next(); return next(); } };
    await expect(handler({ ...silent, use: [observer(seen), twice] }, () => { if (++calls === 2) throw failed(); return calls; }).invoke({})).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    expect(seen).toEqual([{ value: { wrapped: 1 }, rendered: true }, undefined]);
  });

  it('under middy: the response the innermost toMiddy after found', async () => {
    const seen: unknown[] = [];
    const audit: Plugin = { name: 'audit', after: () => { throw failed(); } };
    const main = middy().use(toMiddy(observer(seen), silent)).use(toMiddy(audit)).handler(steadyHandler(async () => ({ statusCode: 200, body: 'ok' })));
    await expect(main({}, { awsRequestId: 'a', functionName: 'f', getRemainingTimeInMillis: () => 30_000 } as never)).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    expect(seen).toEqual([{ value: { statusCode: 200, body: 'ok' }, rendered: true }]);
  });

  it('undefined for an object that is not a ctx of this package', () => {
    expect(functionReturned({})).toBeUndefined();
  });
});
