/**
 * Review finding (s53, left alone in s52): an HTTP API integration with payload format 1.0
 * sends REST's event shape, so it classifies as `apigw-v1` and its deadline was capped as a REST
 * API's: 29 s by default, and a raised `apiGatewayTimeoutMs` (say 60 s, for a REST API served by
 * the same function) lifted it past the HTTP API's fixed 30 s — `ctx.signal` then aborted (and
 * idempotency and inbox leases ended) up to 30 s after API Gateway had answered the client 504.
 * A format 1.0 event carries a top-level `version: '1.0'`, a REST event none (Amazon API Gateway
 * Developer Guide, "Working with AWS Lambda proxy integrations for HTTP APIs", payload format
 * 1.0 example: `version: '1.0'`, `requestContext.stage: '$default'`). That example as
 * republished: aws/aws-lambda-java-libs `apigw_rest_event.json`
 * (test/fixtures/samples/aws/jl-apigw-rest-event.json, headers varied, and `isBase64Encoded:
 * true` over its text body, which the guide's example has `false` — read here as the guide has it) and
 * aws-powertools/powertools-lambda-typescript `apiGatewayProxyOtherEvent.json`
 * (pt-apigw-rest-other.json). Such events are now held to min(apiGatewayTimeoutMs, 30 s),
 * default 30 s. The bounds bracket the deadline between the clock reads around the call: no
 * timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { handler as awsHandler } from '../src/aws.js';
import { defineHandler } from '../src/define.js';
import { lambdaRequest } from '../src/providers/lambda-request.js';
import { lambdaContext, sample } from './support/published.js';

const contextWith = (remainingMs: number) => ({ ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs });
const HTTP_API_V1 = ['jl-apigw-rest-event.json', 'pt-apigw-rest-other.json'];
const REST = ['lgo-apigw-request.json', 'pt-apigw-rest-no-auth.json'];
/** The sample; the java-libs copy with the guide's `isBase64Encoded: false` (its body is text). */
const event = (file: string) => (file.startsWith('jl-') ? { ...sample('aws', file), isBase64Encoded: false } : sample('aws', file));

async function deadlineOf(file: string, remainingMs: number, options: Record<string, unknown>, entry: 'root' | 'aws') {
  const seen: Context[] = [];
  const make = entry === 'root' ? handler : awsHandler;
  const main = make({ logSink: () => {}, ...options }, (_input: unknown, ctx: Context) => void seen.push(ctx));
  const before = Date.now();
  const answer = await main(event(file), contextWith(remainingMs));
  const after = Date.now();
  expect(seen, JSON.stringify(answer)).toHaveLength(1);
  return { deadline: seen[0]!.deadline, before, after };
}

function expectWithin(run: { deadline: number; before: number; after: number }, ms: number): void {
  expect(run.deadline).toBeGreaterThanOrEqual(run.before + ms);
  expect(run.deadline).toBeLessThanOrEqual(run.after + ms);
}

describe('HTTP API with payload format 1.0: capped as an HTTP API, not a REST API', () => {
  it('the samples are what they are said to be: HTTP API 1.0 events carry version 1.0, REST events none', () => {
    for (const file of HTTP_API_V1) expect(sample('aws', file)).toMatchObject({ version: '1.0', httpMethod: expect.any(String), requestContext: { stage: '$default' } });
    for (const file of REST) expect(sample('aws', file)).not.toHaveProperty('version');
  });

  it.each(HTTP_API_V1)('%s: 30 s by default (the HTTP API maximum), not REST 29 s', async (file) => {
    for (const entry of ['root', 'aws'] as const) expectWithin(await deadlineOf(file, 120_000, {}, entry), 30_000);
  });

  it.each(HTTP_API_V1)('%s: a raised apiGatewayTimeoutMs (60 s, for a REST API) does not lift it past 30 s; a lower one counts', async (file) => {
    for (const entry of ['root', 'aws'] as const) {
      expectWithin(await deadlineOf(file, 180_000, { apiGatewayTimeoutMs: 60_000 }, entry), 30_000);
      expectWithin(await deadlineOf(file, 180_000, { apiGatewayTimeoutMs: 10_000 }, entry), 10_000);
    }
  });

  it.each(REST)('%s (REST, no version): still 29 s by default, and the raised timeout applies', async (file) => {
    expectWithin(await deadlineOf(file, 120_000, {}, 'root'), 29_000);
    expectWithin(await deadlineOf(file, 180_000, { apiGatewayTimeoutMs: 60_000 }, 'root'), 60_000);
  });

  it('the middy adapter reads the same deadline', () => {
    const def = defineHandler({ logSink: () => {}, apiGatewayTimeoutMs: 60_000 }, () => undefined);
    const before = Date.now();
    const { frame } = lambdaRequest(def, event('jl-apigw-rest-event.json'), contextWith(180_000));
    expectWithin({ deadline: frame.deadline, before, after: Date.now() }, 30_000);
  });
});
