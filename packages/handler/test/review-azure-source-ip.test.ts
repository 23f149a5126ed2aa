/**
 * Review finding: an Azure HTTP trigger's request never had a `sourceIp`, although the client's
 * address reaches the function in `X-Forwarded-For`, as `ip:port` (App Service's front ends
 * append the address they saw; test/fixtures/azure/http-request.json). Now the last hop, its
 * port dropped, as for an ALB. Run with the real `@azure/functions` v4 `HttpRequest` and
 * `InvocationContext` (test mode, outside the host).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpRequest, InvocationContext, trigger, type FunctionTrigger } from '@azure/functions';
import { handler, type Context } from '../src/index.js';

const call = JSON.parse(readFileSync(new URL('./fixtures/azure/http-request.json', import.meta.url), 'utf8')) as { request: Record<string, any>; context: Record<string, any> };

async function sourceIpFor(headers: Record<string, string>): Promise<string | undefined> {
  const seen: Context[] = [];
  const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  const options = { ...trigger.http({ methods: ['POST'], authLevel: 'function', route: 'orders' }), direction: 'in' } as FunctionTrigger;
  const ctx = new InvocationContext({ invocationId: call.context.invocationId, functionName: call.context.functionName, options: { trigger: options }, logHandler: () => undefined });
  await main(new HttpRequest({ ...call.request, headers: { ...call.request.headers, ...headers } }), ctx);
  const t = seen[0]!.trigger;
  if (t.kind !== 'http') throw new Error(`not http: ${t.kind}`);
  return t.request.sourceIp;
}

describe('Azure HTTP trigger: sourceIp from X-Forwarded-For', () => {
  it('the address the front end appended, without its port', async () => {
    expect(await sourceIpFor({})).toBe('203.0.113.7');
    expect(await sourceIpFor({ 'x-forwarded-for': '10.0.0.1, 203.0.113.7:51544' })).toBe('203.0.113.7');
    expect(await sourceIpFor({ 'x-forwarded-for': '[2001:db8::7]:51544' })).toBe('2001:db8::7');
  });

  it('no header: no sourceIp', async () => {
    const seen: Context[] = [];
    const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
    const { 'x-forwarded-for': _dropped, ...headers } = call.request.headers as Record<string, string>;
    const options = { ...trigger.http({ methods: ['POST'], authLevel: 'function' }), direction: 'in' } as FunctionTrigger;
    await main(new HttpRequest({ ...call.request, headers }), new InvocationContext({ invocationId: 'i-1', functionName: 'f', options: { trigger: options }, logHandler: () => undefined }));
    const t = seen[0]!.trigger;
    if (t.kind !== 'http') throw new Error(`not http: ${t.kind}`);
    expect(t.request.headers).not.toHaveProperty('x-forwarded-for');
    expect(t.request).not.toHaveProperty('sourceIp');
  });
});
