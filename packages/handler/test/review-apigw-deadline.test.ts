/**
 * Review finding (rva): behind API Gateway the deadline was the Lambda timeout. API Gateway
 * gives up on the integration after 30 s (HTTP API, fixed), 29 s (WebSocket API, fixed) and 29
 * s by default for REST (raisable for Regional and private REST APIs since June 2024) — Amazon
 * API Gateway quotas, https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html —
 * and answers the client 504 itself. A function with a 120 s timeout kept running for 90 s
 * more: `ctx.signal` never aborted and an idempotency lease lasted to the Lambda deadline. As
 * Azure's HTTP trigger is held to its load balancer's 230 s, an API Gateway invocation's
 * deadline is now the earlier of Lambda's clock and the API's integration timeout
 * (`apiGatewayTimeoutMs` for a raised REST timeout); ALB and Function URLs keep Lambda's clock.
 *
 * Published samples (test/fixtures/samples/aws, see SOURCES.md). The bounds bracket the
 * deadline between the clock read before and after the call: no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { handler as awsHandler } from '../src/aws.js';
import { defineHandler } from '../src/define.js';
import { lambdaRequest } from '../src/providers/lambda-request.js';
import { lambdaContext, sample } from './support/published.js';

const contextWith = (remainingMs: number) => ({ ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs });

async function deadlineOf(file: string, remainingMs: number, options: Record<string, unknown> = {}, entry: 'root' | 'aws' = 'root') {
  const seen: Context[] = [];
  const make = entry === 'root' ? handler : awsHandler;
  const main = make({ logSink: () => {}, ...options }, (_input: unknown, ctx: Context) => void seen.push(ctx));
  const before = Date.now();
  const answer = (await main(sample('aws', file), contextWith(remainingMs))) as { statusCode?: number };
  const after = Date.now();
  expect(seen, JSON.stringify(answer)).toHaveLength(1);
  return { deadline: seen[0]!.deadline, before, after, answer };
}

function expectWithin(run: { deadline: number; before: number; after: number }, ms: number): void {
  expect(run.deadline).toBeGreaterThanOrEqual(run.before + ms);
  expect(run.deadline).toBeLessThanOrEqual(run.after + ms);
}

describe('API Gateway: the deadline is the integration timeout, not the Lambda timeout', () => {
  it('the repro: an HTTP API request with 120 s of Lambda time left has at most 30 s', async () => {
    let left = 0;
    const main = handler({ logSink: () => {} }, (_i, ctx) => {
      left = ctx.deadline - Date.now();
      return 'ok';
    });
    await main(sample('aws', 'lgo-apigw-v2-request.json'), contextWith(120_000));
    expect(left).toBeLessThanOrEqual(30_000);
    expect(left).toBeGreaterThan(0);
  });

  it.each([
    ['HTTP API (payload 2.0)', 'lgo-apigw-v2-request.json', 30_000],
    ['REST API', 'lgo-apigw-request.json', 29_000],
    ['WebSocket API route', 'lgo-apigw-websocket-request-send-message.json', 29_000],
  ])('%s (%s): at most %i ms', async (_label, file, ms) => {
    for (const entry of ['root', 'aws'] as const) expectWithin(await deadlineOf(file, 120_000, {}, entry), ms);
  });

  it('a raised REST integration timeout (apiGatewayTimeoutMs) is the deadline on REST', async () => {
    expectWithin(await deadlineOf('lgo-apigw-request.json', 180_000, { apiGatewayTimeoutMs: 120_000 }), 120_000);
  });

  it('apiGatewayTimeoutMs cannot lift an HTTP or WebSocket API past its fixed maximum, but a lower one counts there', async () => {
    expectWithin(await deadlineOf('lgo-apigw-v2-request.json', 180_000, { apiGatewayTimeoutMs: 120_000 }), 30_000);
    expectWithin(await deadlineOf('lgo-apigw-websocket-request-send-message.json', 180_000, { apiGatewayTimeoutMs: 120_000 }), 29_000);
    expectWithin(await deadlineOf('lgo-apigw-v2-request.json', 180_000, { apiGatewayTimeoutMs: 10_000 }), 10_000);
  });

  it('less Lambda time than the API allows: the Lambda clock wins', async () => {
    expectWithin(await deadlineOf('lgo-apigw-v2-request.json', 5_000), 5_000);
    expectWithin(await deadlineOf('lgo-apigw-request.json', 5_000, { apiGatewayTimeoutMs: 120_000 }), 5_000);
  });

  it('the middy adapter reads the same deadline', () => {
    const def = defineHandler({ logSink: () => {} }, () => undefined);
    const before = Date.now();
    const { frame } = lambdaRequest(def, sample('aws', 'lgo-apigw-v2-request.json'), contextWith(120_000));
    expectWithin({ deadline: frame.deadline, before, after: Date.now() }, 30_000);
  });

  it('(control) ALB and Function URL requests and direct calls keep the Lambda clock', async () => {
    expectWithin(await deadlineOf('lgo-alb-lambda-target-request-headers-only.json', 120_000), 120_000);
    expectWithin(await deadlineOf('lgo-lambda-urls-request.json', 120_000), 120_000);
    const seen: Context[] = [];
    const before = Date.now();
    await handler({ logSink: () => {}, provider: 'aws' }, (_i, ctx) => void seen.push(ctx))({ orderId: 1 }, contextWith(120_000));
    expectWithin({ deadline: seen[0]!.deadline, before, after: Date.now() }, 120_000);
  });

  it.each([[10], [29_000.5], ['29000'], [0]])('apiGatewayTimeoutMs %j is refused up front (CONFIG_INVALID)', (value) => {
    expect(() => handler({ apiGatewayTimeoutMs: value as number }, () => undefined)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
