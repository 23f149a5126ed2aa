/**
 * Review finding: on Azure Functions an HTTP body starting with a UTF-8 byte order mark
 * (`EF BB BF`) lost it in `ctx.trigger.request.rawBody`: the adapter decoded the bytes as
 * `request.text()` does (WHATWG UTF-8 decode drops a leading BOM), where every other provider
 * decodes them as they are. A webhook signature checked over `rawBody` (an HMAC of the text the
 * sender signed, as most webhook guides do it) failed on Azure alone, and `body: 'text'` gave
 * Azure a different text than Lambda. `rawBody` now keeps the BOM as a character (U+FEFF), so its
 * UTF-8 is the bytes received; JSON still ignores it (RFC 8259 §8.1).
 *
 * Driven through `@azure/functions`' own conversion of the host's RPC invocation (the host
 * sends the body as bytes), against a Lambda Function URL request with the same body.
 */
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { installAzureWorker } from './support/azure-worker.js';
import { lambdaContext } from './support/published.js';
import type { Context } from '../src/index.js';

const worker = installAzureWorker();
afterAll(() => worker.uninstall());

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const SECRET = 'whsec-test';
const body = Buffer.concat([BOM, Buffer.from(JSON.stringify({ orderId: 'o-1', note: 'straße' }), 'utf8')]);
const signature = createHmac('sha256', SECRET).update(body).digest('hex');

type Seen = { input: unknown; request: Extract<Context['trigger'], { kind: 'http' }>['request'] };

async function viaAzure(name: string, options: { body?: 'text' } = {}): Promise<Seen> {
  const { app } = await import('@azure/functions');
  const { handler } = await import('../src/index.js');
  const seen: Seen[] = [];
  app.http(name, { methods: ['POST'], authLevel: 'anonymous', handler: handler({ ...options, logSink: () => undefined }, (input, ctx) => void (ctx.trigger.kind === 'http' && seen.push({ input, request: ctx.trigger.request }))) as never });
  const http = { method: 'POST', url: `http://localhost:7071/api/${name}`, headers: { host: 'localhost:7071', 'content-type': 'application/json', 'x-signature': signature }, query: {}, params: {}, body: { bytes: body } };
  const response = await worker.respond(name, `inv-${name}`, {}, { http });
  expect(response.returnValue.http.statusCode).toBe('204');
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

async function viaLambda(options: { body?: 'text' } = {}): Promise<Seen> {
  const { handler } = await import('../src/index.js');
  const seen: Seen[] = [];
  const main = handler({ ...options, logSink: () => undefined }, (input, ctx) => void (ctx.trigger.kind === 'http' && seen.push({ input, request: ctx.trigger.request })));
  const event = {
    version: '2.0', routeKey: '$default', rawPath: '/', rawQueryString: '', headers: { 'content-type': 'application/json', 'x-signature': signature },
    requestContext: { accountId: 'anonymous', apiId: 'u1', domainName: 'u1.lambda-url.eu-west-1.on.aws', domainPrefix: 'u1', http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl' }, requestId: 'r-1', routeKey: '$default', stage: '$default', time: '14/Mar/2025:10:00:00 +0000', timeEpoch: 1741946400000 },
    body: body.toString('base64'), isBase64Encoded: true,
  };
  await main(event, lambdaContext());
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('Azure HTTP: a body with a leading byte order mark', () => {
  it('rawBody keeps the BOM (its UTF-8 is the bytes received, so a signature over it verifies); JSON input ignores it', async () => {
    const { input, request } = await viaAzure('bom-signed');
    expect(input).toEqual({ orderId: 'o-1', note: 'straße' });
    expect(request.rawBytes).toEqual(body);
    expect(Buffer.from(request.rawBody!, 'utf8')).toEqual(body);
    expect(createHmac('sha256', SECRET).update(request.rawBody!, 'utf8').digest('hex')).toBe(request.headers['x-signature']);
  });

  it('rawBody and body: \'text\' input are what Lambda gives for the same bytes', async () => {
    const azure = await viaAzure('bom-text', { body: 'text' });
    const lambda = await viaLambda({ body: 'text' });
    expect(lambda.request.rawBody!.startsWith('\uFEFF')).toBe(true);
    expect(azure.request.rawBody).toBe(lambda.request.rawBody);
    expect(azure.input).toBe(lambda.input);
  });
});
