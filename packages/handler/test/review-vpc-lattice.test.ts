/**
 * Review finding (rva): a VPC Lattice request ran as a `direct` invocation (only named in the
 * `event not recognised` log line), so a function returning `httpResult(...)` answered Lattice
 * with the internal `{ status, headers, cookies, body }` and the caller got a 502. VPC Lattice is
 * now an HTTP trigger (`source: 'vpc-lattice'`) in both event structures a Lambda target group
 * sends — v1 (flat snake_case: `raw_path`, `method`, `query_string_parameters`,
 * `is_base64_encoded`) and v2 (`version: '2.0'`: `path`, `method`, header and query values as
 * lists, `requestContext.serviceNetworkArn`, `isBase64Encoded`) — answered as Lattice reads it:
 * `{ statusCode, statusDescription, headers, body, isBase64Encoded }` ("Lambda functions as
 * targets in VPC Lattice", https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html).
 *
 * Powertools' vpc-lattice/base.json and base-v2.json (test/fixtures/samples/aws, see SOURCES.md).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpResult, TerminalError, type Context } from '../src/index.js';
import { NOT_RECOGNISED, runOnAwsEntries, sample } from './support/published.js';

const created = () => httpResult({ status: 201, headers: { location: '/orders/42' }, cookies: ['sid=abc; HttpOnly'], body: { id: 42 } });

function httpTrigger(ctx: Context) {
  if (ctx.trigger.kind !== 'http') throw new Error(`not http: ${ctx.trigger.kind}`);
  return ctx.trigger;
}

describe('VPC Lattice: an HTTP trigger, answered in the shape Lattice reads', () => {
  it.each([
    ['v1 (base.json)', 'pt-vpc-lattice-v1.json', '/testpath'],
    ['v2 (base-v2.json)', 'pt-vpc-lattice-v2.json', '/newpath'],
  ])('%s: the request is read and httpResult answers statusCode/statusDescription/headers', async (_label, file, path) => {
    const run = await runOnAwsEntries(sample('aws', file), created);
    expect(run.lines.filter((l) => l.msg === NOT_RECOGNISED)).toEqual([]);
    const trigger = httpTrigger(run.seen[0]!.ctx);
    expect(trigger.source).toBe('vpc-lattice');
    expect(trigger.request).toMatchObject({
      method: 'GET',
      path,
      query: { 'order-id': '1' },
      multiQuery: { 'order-id': ['1'] },
      headers: { host: 'test-lambda-service-3908sdf9u3u.dkfjd93.vpc-lattice-svcs.us-east-2.on.aws', accept: '*/*' },
      rawBody: '{"message": "Hello from Lambda!"}',
    });
    expect(run.seen[0]!.ctx.principal).toBeUndefined();
    expect(run.answer).toEqual({
      statusCode: 201,
      statusDescription: '201 Created',
      headers: { location: '/orders/42', 'content-type': 'application/json', 'set-cookie': 'sid=abc; HttpOnly' },
      body: '{"id":42}',
      isBase64Encoded: false,
    });
  });

  it('v2 with header and query values as lists (the structure AWS documents): every value kept', async () => {
    const event = sample('aws', 'pt-vpc-lattice-v2.json');
    event.headers = { 'x-tag': ['a', 'b'], cookie: ['s=1', 't=2'], host: ['svc.on.aws'] };
    event.queryStringParameters = { t: ['a', 'b'], one: ['1'] };
    const run = await runOnAwsEntries(event, () => 'ok');
    const { request } = httpTrigger(run.seen[0]!.ctx);
    expect(request.multiHeaders).toMatchObject({ 'x-tag': ['a', 'b'], cookie: ['s=1', 't=2'] });
    expect(request.headers).toMatchObject({ 'x-tag': 'a, b', cookie: 's=1; t=2', host: 'svc.on.aws' });
    expect(request.multiQuery).toEqual({ t: ['a', 'b'], one: ['1'] });
    expect(request.query).toEqual({ t: 'b', one: '1' });
    expect(run.answer).toMatchObject({ statusCode: 200, statusDescription: '200 OK', body: 'ok' });
  });

  it('a base64 body (is_base64_encoded in v1, isBase64Encoded in v2) is decoded to its exact bytes', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10]);
    const v1 = { ...sample('aws', 'pt-vpc-lattice-v1.json'), method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes.toString('base64'), is_base64_encoded: true };
    const v2 = { ...sample('aws', 'pt-vpc-lattice-v2.json'), method: 'POST', headers: { 'content-type': ['application/octet-stream'] }, body: bytes.toString('base64'), isBase64Encoded: true };
    for (const event of [v1, v2]) {
      const run = await runOnAwsEntries(event, () => 'ok');
      expect(httpTrigger(run.seen[0]!.ctx).request.rawBytes).toEqual(bytes);
      expect(run.seen[0]!.input).toEqual(bytes);
    }
  });

  it('a thrown 4xx and an invalid input are problem+json, as on the other HTTP sources', async () => {
    const terminal = await runOnAwsEntries(sample('aws', 'pt-vpc-lattice-v2.json'), () => {
      throw new TerminalError('ORDER_UNKNOWN', 'No such order', { status: 404 });
    });
    expect(terminal.answer).toMatchObject({ statusCode: 404, statusDescription: '404 Not Found', headers: { 'content-type': 'application/problem+json' }, isBase64Encoded: false });
    expect(JSON.parse((terminal.answer as { body: string }).body)).toMatchObject({ status: 404, code: 'ORDER_UNKNOWN' });

    const { handler } = await import('../src/index.js');
    const main = handler({ logSink: () => {}, input: z.object({ orderId: z.string() }) }, () => 'never');
    const event = { ...sample('aws', 'pt-vpc-lattice-v1.json'), method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"orderId":7}' };
    const answer = (await main(event, { awsRequestId: 'r-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 })) as Record<string, unknown>;
    expect(answer).toMatchObject({ statusCode: 400, statusDescription: '400 Bad Request', headers: { 'content-type': 'application/problem+json' } });
    expect(answer).not.toHaveProperty('status');
  });

  it('more than one cookie cannot be sent (one value per header): 500 INVALID_HTTP_RESULT, not a lost cookie', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-vpc-lattice-v1.json'), () => httpResult({ status: 200, cookies: ['a=1', 'b=2'], body: 'x' }));
    expect(run.answer).toMatchObject({ statusCode: 500, statusDescription: '500 Internal Server Error' });
    expect(JSON.parse((run.answer as { body: string }).body)).toMatchObject({ code: 'INVALID_HTTP_RESULT' });
  });

  it('HEAD is answered without a body', async () => {
    const run = await runOnAwsEntries({ ...sample('aws', 'pt-vpc-lattice-v2.json'), method: 'HEAD', body: undefined }, () => ({ big: 'x'.repeat(100) }));
    expect(run.answer).toMatchObject({ statusCode: 200, body: '' });
  });

  it('the middy adapter reads it as the same HTTP request', async () => {
    const { lambdaRequest } = await import('../src/providers/lambda-request.js');
    const { defineHandler } = await import('../src/define.js');
    const request = lambdaRequest(defineHandler({ logSink: () => {} }, () => undefined), sample('aws', 'pt-vpc-lattice-v2.json'), { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 30_000 });
    expect(request.http?.kind).toBe('vpc-lattice');
    expect(request.invocation.trigger).toMatchObject({ kind: 'http', source: 'vpc-lattice', request: { path: '/newpath' } });
  });
});

describe('VPC Lattice: the response JSON it takes', () => {
  it('over 6 MB (decimal, Lattice\'s "6 MB" read low) is 500 RESPONSE_TOO_LARGE, under passes', async () => {
    const big = await runOnAwsEntries(sample('aws', 'pt-vpc-lattice-v1.json'), () => 'x'.repeat(6_000_001));
    expect(big.answer).toMatchObject({ statusCode: 500 });
    expect(JSON.parse((big.answer as { body: string }).body)).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    const fits = await runOnAwsEntries(sample('aws', 'pt-vpc-lattice-v1.json'), () => 'x'.repeat(5_999_000));
    expect(fits.answer).toMatchObject({ statusCode: 200 });
  });
});
