/**
 * More public bug reports against peer libraries and Lambda handlers (middy's body parsers,
 * lambda-middleware, terraform-aws-github-runner's SQS handler), each replayed against
 * steadyfn with the report's input shape. The test name cites the report; the assertion is
 * what steadyfn must do instead. (peer-bug-replays.test.ts holds the first set.)
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler, httpError } from '../src/index.js';
import { lambdaContext, recorder, type Json } from './support/published.js';

const quiet = { logSink: () => undefined };

/** An SQS record of a standard queue, as Lambda delivers it. */
function sqsRecord(messageId: string, body: string): Json {
  return {
    messageId,
    receiptHandle: `rh-${randomUUID()}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1700000000001' },
    messageAttributes: {},
    md5OfBody: 'ignored',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:scale-up',
    awsRegion: 'us-east-1',
  };
}

/** A REST API (payload 1.0) POST with `contentType` and `body`. */
function restPost(contentType: string, body: string): Json {
  return {
    resource: '/orders',
    path: '/orders',
    httpMethod: 'POST',
    headers: { Host: 'api.example.com', 'Content-Type': contentType },
    multiValueHeaders: { Host: ['api.example.com'], 'Content-Type': [contentType] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { resourcePath: '/orders', httpMethod: 'POST', stage: 'prod', requestId: randomUUID(), path: '/prod/orders', accountId: '123456789012', apiId: 'abc123', identity: { sourceIp: '203.0.113.9' } },
    body,
    isBase64Encoded: false,
  };
}

describe('SQS batches with a poison message', () => {
  it('github-aws-runners/terraform-aws-github-runner#5215 ("stop a malformed SQS body from poisoning the whole batch"): with body "json", an unparseable body fails that message alone; the valid ones run and are not redelivered', async () => {
    const { seen, fn } = recorder();
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2'), sqsRecord('m-3', '{"id":3}')] };
    const answer = await handler({ ...quiet, body: 'json' }, fn).aws(event, lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ id: 1 }, { id: 3 }]);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });

  it('github-aws-runners/terraform-aws-github-runner#5129 ("return batch failures on unhandled errors instead of dropping messages"): an unexpected error is reported in batchItemFailures, never answered as an empty list that deletes the batch', async () => {
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2}')] };
    const answer = await handler(quiet, (input) => {
      if ((input as Json).id === 2) throw new TypeError("Cannot read properties of undefined (reading 'owner')");
    }).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
  });

  it('github-aws-runners/terraform-aws-github-runner#5129, terminal errors: a function error marked not retryable still fails its message (Lambda must not delete it; the queue\'s redrive policy moves it to the DLQ)', async () => {
    const event = { Records: [sqsRecord('m-1', '{"id":1}'), sqsRecord('m-2', '{"id":2}')] };
    const answer = await handler(quiet, (input) => {
      if ((input as Json).id === 1) throw httpError(422, 'UNKNOWN_OWNER', 'no such owner');
    }).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

describe('JSON media types with parameters or suffixes', () => {
  it.each([
    ['middyjs/middy#84 / PR #82 ("properly parse content-type when it contains encoding info")', 'application/json; charset=utf-8'],
    ['dbartholomae/lambda-middleware#61 ("JsonDeserializer does not accept content-type header with charset")', 'application/json;charset=UTF-8'],
    ['middyjs/middy PR #1287 (RFC 7231 §3.1.1.1 spellings: case and a quoted charset)', 'Application/JSON; Charset="utf-8"'],
    ['middyjs/middy PR #562 ("http-json-body-parser handles JSON Media Type Suffix", RFC 6839)', 'application/vnd.api+json'],
    ['aws/chalice#180 ("Doesn\'t detect JSON when Content-Type contains charset")', 'application/json ; charset=utf-8'],
  ])('%s: %s reaches the function parsed', async (_report, contentType) => {
    const { seen, fn } = recorder();
    const answer = (await handler(quiet, fn).aws(restPost(contentType, '{"data":"foo","amount":1.50}'), lambdaContext())) as Json;
    expect(answer.statusCode).toBeLessThan(300);
    expect(seen[0]!.input).toEqual({ data: 'foo', amount: 1.5 });
  });

  it('middyjs/middy#939 with a charset: JSON text that does not parse under application/json; charset=utf-8 is a 400 naming body, and the function does not run', async () => {
    const { seen, fn } = recorder();
    const answer = (await handler({ ...quiet, body: 'json' }, fn).aws(restPost('application/json; charset=utf-8', '{"data":'), lambdaContext())) as Json;
    expect(seen).toHaveLength(0);
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string)).toMatchObject({ code: 'MALFORMED_EVENT' });
  });
});
