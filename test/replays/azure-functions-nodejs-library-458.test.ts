/**
 * Azure/azure-functions-nodejs-library#458 ("RPC HttpRequest passes GET/HEAD bodies to WHATWG
 * Request and fails before handler", fixed by PR #461)
 * https://github.com/Azure/azure-functions-nodejs-library/issues/458
 *
 * In @azure/functions 4.16.0–4.16.2 a GET or HEAD request that carried a body (`curl -X GET
 * --data x`) made the library's HttpRequest constructor throw before the function ran: the
 * caller got a bare 500, a health probe behind it went red. The fixed library drops such a body.
 *
 * steadyfn on top of it: the GET still reaches the function — with its query as input, since
 * the body is gone — and is answered 200; a HEAD is answered without a body. Replayed with the
 * library's own HttpRequest (test mode) and an InvocationContext as the worker builds it.
 */
import { HttpRequest, trigger } from '@azure/functions';
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { invocationContext } from '../../packages/handler/test/support/azure.js';

const context = () =>
  invocationContext({ invocationId: 'e7a1c9d2-1b7f-4a58-9c51-3b3c1f0e9a11', functionName: 'health', triggerMetadata: {} }, trigger.http({ methods: ['GET', 'HEAD'], authLevel: 'anonymous' }));

describe('azure-functions-nodejs-library#458: a GET or HEAD with a body reaches the function', () => {
  it.each(['GET', 'HEAD', 'get'])('%s with a body: the function runs and answers 2xx', async (method) => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined }, (input) => {
      seen.push(input);
      return { status: 'ok' };
    });
    const request = new HttpRequest({ method, url: 'https://app.azurewebsites.net/api/health/bootstrap?probe=1', headers: { 'content-length': '1' }, body: { string: 'x' } });
    const answer = (await main(request, context())) as { status?: number; body?: unknown };
    expect(answer.status ?? 200).toBeLessThan(300);
    expect(seen).toEqual([{ probe: '1' }]);
    if (method.toUpperCase() === 'HEAD') expect(answer.body ?? '').toBe('');
  });
});
