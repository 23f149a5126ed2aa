/**
 * Review finding (hostile client): a request with two Content-Type values — two header lines,
 * which API Gateway REST lists in `multiValueHeaders` and HTTP API / Function URLs join with
 * `,`, and Node keeps apart in `headersDistinct` — was read as JSON whenever either named JSON
 * (`text/plain, application/json`): the joined value was searched for "json". A WAF or request
 * validator in front that reads the first value sees text; the function parsed JSON. Content-Type
 * is one value (RFC 9110 §8.3): such a request is now a 400 `MALFORMED_EVENT` naming the header.
 * A comma inside a quoted parameter (`boundary="a,b"`) is still one media type.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { closeServers, serve } from './support/gcp-server.js';

afterAll(closeServers);

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const lambdaContext = { awsRequestId: 'r1', functionName: 'f', getRemainingTimeInMillis: () => 30_000, invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' };
const problem = (res: { statusCode: number; body: string }) => [res.statusCode, (JSON.parse(res.body) as { code: string; errors?: Array<{ field: string }> }).code, (JSON.parse(res.body) as { errors?: Array<{ field: string }> }).errors?.[0]?.field];

describe('a request with more than one Content-Type', () => {
  const seen: unknown[] = [];
  const main = handler({ logSink: () => undefined }, (input) => void seen.push(input));
  const v1 = fixture('apigw-v1-post.json');
  const v2 = fixture('apigw-v2-post.json');

  it('API Gateway REST (two lines in multiValueHeaders) and HTTP API (joined with a comma): 400 naming the header, the function not run', async () => {
    seen.length = 0;
    const rest = { ...v1, isBase64Encoded: false, body: '{"a":1}', headers: { ...v1.headers, 'Content-Type': 'application/json' }, multiValueHeaders: { ...v1.multiValueHeaders, 'Content-Type': ['text/plain', 'application/json'] } };
    const http = { ...v2, isBase64Encoded: false, body: '{"a":1}', headers: { ...v2.headers, 'content-type': 'text/plain,application/json' } };
    expect(problem((await main(rest, lambdaContext as never)) as never)).toEqual([400, 'MALFORMED_EVENT', 'headers.content-type']);
    expect(problem((await main(http, lambdaContext as never)) as never)).toEqual([400, 'MALFORMED_EVENT', 'headers.content-type']);
    expect(seen).toEqual([]);
  });

  it('one media type with a comma inside a quoted parameter is still read', async () => {
    seen.length = 0;
    const http = { ...v2, isBase64Encoded: false, body: '{"a":1}', headers: { ...v2.headers, 'content-type': 'application/json; x="a,b"' } };
    expect(((await main(http, lambdaContext as never)) as { statusCode: number }).statusCode).toBe(204);
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('Cloud Functions (real server, two header lines): 400 naming the header', async () => {
    const url = await serve('http', handler({ logSink: () => undefined }, (input) => input));
    const { request } = await import('node:http');
    const status = await new Promise<[number, string]>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: ['host', 'localhost', 'content-type', 'text/plain', 'content-type', 'application/json', 'content-length', '7'] as unknown as Record<string, string> }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve([res.statusCode ?? 0, text]));
      });
      req.on('error', reject);
      req.end('{"a":1}');
    });
    expect(status[0], status[1]).toBe(400);
    expect(JSON.parse(status[1])).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'headers.content-type' }] });
  });
});
