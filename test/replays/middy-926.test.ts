/**
 * middyjs/middy#926 ("@middy/http-event-normalizer does not support Lambda "TEST" or Cloudwatch
 * invocations anymore")
 * https://github.com/middyjs/middy/issues/926
 *
 * An HTTP API function that was also kept warm (or run nightly) by a CloudWatch Events /
 * EventBridge schedule, and tried from the console's "Test" button with its default event,
 * failed every such invocation once the HTTP normalizer started refusing what was not an HTTP
 * event: `Error: [http-event-normalizer] Unknown http event format`, thrown before the handler,
 * with its stack in the function's error output.
 *
 * steadyfn recognises each event by its shape and runs the same function for each, telling
 * which in `ctx.trigger.kind`. Replayed: one function given an HTTP API (v2) request, the
 * scheduled event EventBridge sends for a rule (Lambda developer guide sample), and the
 * console's default "hello-world" test event; each runs (`http`, `schedule`, `direct`), the HTTP
 * request is answered as HTTP, and nothing is thrown.
 */
import { handler, type Context } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext } from './support.js';

const httpRequest = {
  version: '2.0',
  routeKey: 'GET /report',
  rawPath: '/report',
  rawQueryString: 'day=2022-10-17',
  headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'user-agent': 'curl/7.85.0' },
  queryStringParameters: { day: '2022-10-17' },
  requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', http: { method: 'GET', path: '/report', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/7.85.0' }, requestId: 'a1b2c3', routeKey: 'GET /report', stage: '$default', time: '17/Oct/2022:10:00:00 +0000', timeEpoch: 1665993600000 },
  isBase64Encoded: false,
};

const scheduled = {
  version: '0',
  account: '123456789012',
  region: 'eu-west-1',
  detail: {},
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: '2022-10-17T03:00:00Z',
  id: 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/nightly-report'],
};

const consoleTest = { key1: 'value1', key2: 'value2', key3: 'value3' };

describe('middy#926: an HTTP function invoked by a schedule or the console test event still runs', () => {
  it('HTTP, a scheduled event and the console test event each reach the function; none is thrown', async () => {
    const seen: Array<{ kind: string; input: unknown }> = [];
    const main = handler({ logSink: () => undefined }, (input, ctx: Context) => {
      seen.push({ kind: ctx.trigger.kind, input });
      return { report: ctx.trigger.kind === 'http' ? (input as { day: string }).day : 'nightly' };
    });
    const http = (await main.aws(httpRequest, lambdaContext())) as { statusCode: number; body: string };
    expect(http.statusCode).toBe(200);
    expect(JSON.parse(http.body)).toEqual({ report: '2022-10-17' });
    await expect(main.aws(scheduled, lambdaContext())).resolves.toEqual({ report: 'nightly' });
    await expect(main.aws(consoleTest, lambdaContext())).resolves.toEqual({ report: 'nightly' });
    expect(seen).toEqual([
      { kind: 'http', input: { day: '2022-10-17' } },
      { kind: 'schedule', input: {} },
      { kind: 'direct', input: consoleTest },
    ]);
  });
});
