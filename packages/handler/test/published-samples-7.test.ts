/**
 * Published AWS sample events not replayed before (files in test/fixtures/samples/aws, sources
 * in SOURCES.md, "Replayed by `published-samples-7.test.ts`"), data unchanged: captured REST API
 * requests with IAM and Lambda-authorizer auth (Powertools TypeScript), an HTTP API request with
 * IAM auth through a Cognito identity pool and a CRLF JSON body, an IAM-authorised Function URL
 * POST, ALB requests in both header modes, a REST POST with an empty body, an SQS message with a
 * pretty-printed JSON body, an EventBridge Scheduler event whose `detail` is text, an Auto
 * Scaling EventBridge event and a three-record DynamoDB stream batch (aws-lambda-java-libs,
 * aws-lambda-go, Powertools Python). Each runs through both AWS entries; each checks what the
 * function saw against what the sample means and the answer against the documented shape.
 */
import { describe, expect, it } from 'vitest';
import { httpResult, TerminalError } from '../src/index.js';
import { runOnAwsEntries, sample } from './support/published.js';

describe('AWS HTTP samples', () => {
  // aws-powertools/powertools-lambda-typescript packages/parser/tests/events/apigw-rest/iam-auth.json
  it('REST API POST with IAM auth and no body: the caller\'s ARN as principal, the resource path (not the staged one), an empty input', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-apigw-rest-iam-auth.json'), () => ({ ok: true }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/iam', query: {}, multiQuery: {}, sourceIp: '15.248.3.126' } });
    const request = (ctx.trigger as { request: { headers: Record<string, string>; rawBody?: string } }).request;
    expect(request.headers).toMatchObject({ host: 'puhdx84jy9.execute-api.eu-west-1.amazonaws.com', 'x-forwarded-for': '15.248.3.126, 130.176.209.38', 'user-agent': 'HTTPie/3.2.2', 'x-amz-date': '20240617T145824Z' });
    expect(request.rawBody).toBeUndefined();
    expect(ctx.principal).toEqual({ id: 'arn:aws:sts::123456789012:assumed-role/Admin/aamorosi', source: 'aws-iam', claims: { accountId: '123456789012', caller: 'ABCAXZWZ5ZDPNIH6C6ODK:aamorosi', user: 'ABCAXZWZ5ZDPNIH6C6ODK:aamorosi' } });
    expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', isBase64Encoded: false });
  });

  // aws-powertools/powertools-lambda-typescript packages/parser/tests/events/apigw-rest/lambda-authorizer-auth.json
  it('REST API POST through a Lambda authorizer: principalId and its context as claims (not integrationLatency), Authorization kept as a header', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-apigw-rest-lambda-authorizer-auth.json'), () => httpResult({ status: 201, cookies: ['a=1; Path=/', 'b=2; Path=/'], body: 'made' }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/lambda-token', headers: { authorization: 'Bearer foo' }, sourceIp: '15.248.3.126' } });
    expect(ctx.principal).toEqual({ id: 'user', source: 'apigw-lambda-authorizer', claims: { tenantId: 'tenant-1' } });
    // REST API (v1) cookies: every Set-Cookie in multiValueHeaders, none folded.
    expect(run.answer).toMatchObject({ statusCode: 201, body: 'made', isBase64Encoded: false, multiValueHeaders: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] } });
  });

  // aws/aws-lambda-java-libs aws-lambda-java-tests/src/test/resources/apigw/events/apigw_event_nobody.json
  it('REST API POST with an empty body and a query: the query is the input, sourceIp from the identity', async () => {
    const run = await runOnAwsEntries(sample('aws', 'jl-apigw-event-nobody.json'), () => 'done');
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({ foo: 'bar' });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/path/to/resource', query: { foo: 'bar' }, multiQuery: { foo: ['bar'] }, rawBody: '', sourceIp: '127.0.0.1', headers: { host: '1234567890.execute-api.us-east-1.amazonaws.com', 'x-forwarded-for': '127.0.0.1, 127.0.0.2' } } });
    expect(ctx.principal).toBeUndefined();
    expect(run.answer).toMatchObject({ statusCode: 200, body: 'done', isBase64Encoded: false });
  });

  // aws-powertools/powertools-lambda-python tests/events/apiGatewayProxyV2IamEvent.json
  it('HTTP API with IAM auth through a Cognito identity pool: a CRLF-indented JSON body parsed, mixed-case headers lower-cased, cookies joined, the repeated query name kept', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ptpy-apigw-v2-iam.json'), () => httpResult({ status: 200, cookies: ['s=1', 't=2'], body: { ok: true } }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({ a: 1 });
    expect(ctx.trigger).toMatchObject({
      kind: 'http',
      source: 'apigw-v2',
      request: { method: 'GET', path: '/my/path', headers: { header1: 'value1', header2: 'value2', cookie: 'cookie1; cookie2' }, multiQuery: { parameter1: ['value1', 'value2'], parameter2: ['value'] }, rawBody: '{\r\n\t"a": 1\r\n}', sourceIp: '192.168.0.1/32' },
    });
    expect(ctx.principal).toMatchObject({ id: 'us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce', issuer: 'us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce', source: 'cognito-identity', claims: { accountId: '1234567890', principalOrgId: 'AwsOrgId', amr: ['foo'] } });
    // HTTP API (v2): cookies in `cookies`, never in a header.
    expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: ['s=1', 't=2'], body: '{"ok":true}', isBase64Encoded: false });
  });

  // aws-powertools/powertools-lambda-typescript packages/parser/tests/events/lambda/iam-auth.json
  it('Function URL POST with IAM auth: text body as input, the IAM user\'s ARN as principal, rawQueryString\'s repeated name kept', async () => {
    const run = await runOnAwsEntries(sample('aws', 'pt-lambda-url-iam-auth.json'), () => 'ok');
    const { input, ctx } = run.seen[0]!;
    expect(input).toBe('Hello from client!');
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'POST', path: '/my/path', headers: { header2: 'value1,value2', cookie: 'cookie1; cookie2' }, multiQuery: { parameter1: ['value1', 'value2'] }, sourceIp: '123.123.123.123' } });
    expect(ctx.principal).toMatchObject({ id: 'arn:aws:iam::111122223333:user/example-user', source: 'aws-iam' });
    expect(run.answer).toMatchObject({ statusCode: 200, body: 'ok', isBase64Encoded: false });
  });

  // aws/aws-lambda-go events/testdata/alb-lambda-target-request-headers-only.json
  it('ALB without multi-value headers: single-value query as input, sourceIp from X-Forwarded-For; the answer in `headers` with statusDescription, a failure likewise', async () => {
    const event = sample('aws', 'lgo-alb-lambda-target-request-headers-only.json');
    const run = await runOnAwsEntries(event, () => ({ hello: true }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({ key: 'hello' });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/', query: { key: 'hello' }, headers: { 'x-myheader': '123', 'x-imforwards': '20' }, rawBody: '', sourceIp: '25.12.198.67' } });
    expect(run.answer).toEqual({ statusCode: 200, statusDescription: '200 OK', headers: { 'content-type': 'application/json' }, body: '{"hello":true}', isBase64Encoded: false });
    const failed = await runOnAwsEntries(event, () => {
      throw new TerminalError('NOT_HERE', 'Nothing here');
    });
    const answer = failed.answer as { statusCode: number; statusDescription: string; headers?: Record<string, string>; multiValueHeaders?: unknown };
    expect(answer.statusCode).toBeGreaterThanOrEqual(400);
    expect(answer.statusDescription).toMatch(new RegExp(`^${answer.statusCode} `));
    expect(answer.headers).toBeDefined();
    expect(answer.multiValueHeaders).toBeUndefined();
  });

  // aws-powertools/powertools-lambda-python tests/events/albMultiValueHeadersEvent.json
  it('ALB with multi-value headers on, an empty query and body: the empty query as input; the answer in `multiValueHeaders` only', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ptpy-alb-multi-value-headers.json'), () => httpResult({ status: 200, headers: { vary: ['accept', 'origin'] }, cookies: ['a=1', 'b=2'], body: 'todos' }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/todos', query: {}, multiQuery: {}, headers: { 'user-agent': 'curl/7.79.1' }, rawBody: '', sourceIp: '123.123.123.123' } });
    const answer = run.answer as { multiValueHeaders: Record<string, string[]>; headers?: unknown };
    expect(answer).toMatchObject({ statusCode: 200, statusDescription: '200 OK', body: 'todos', isBase64Encoded: false });
    expect(answer.headers).toBeUndefined();
    expect(answer.multiValueHeaders).toMatchObject({ vary: ['accept', 'origin'], 'set-cookie': ['a=1', 'b=2'] });
  });
});

describe('AWS queue, schedule, event and stream samples', () => {
  // aws/aws-lambda-java-libs aws-lambda-java-tests/src/test/resources/sqs/sqs_event_product.json
  it('SQS message with a pretty-printed JSON body and empty messageAttributes: the object, keyed by messageId; a failure is its batch item failure', async () => {
    const event = sample('aws', 'jl-sqs-event-product.json');
    const run = await runOnAwsEntries(event);
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({ id: 1234, name: 'Product1234', price: 450 });
    expect(ctx.trigger).toEqual({ kind: 'queue', source: 'sqs', queue: 'TestLambda', messageId: 'd9144555-9a4f-4ec3-99a0-34ce359b4b54', attempt: 1, attributes: {}, batchIndex: 0, batchSize: 1 });
    expect(ctx.deliveryId).toBe('d9144555-9a4f-4ec3-99a0-34ce359b4b54');
    expect(run.answer).toEqual({ batchItemFailures: [] });
    const failed = await runOnAwsEntries(event, () => {
      throw new Error('down');
    });
    expect(failed.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'd9144555-9a4f-4ec3-99a0-34ce359b4b54' }] });
  });

  // aws/aws-lambda-java-libs aws-lambda-java-tests/src/test/resources/scheduler_event.json
  it('EventBridge Scheduler event whose detail is the text "{}": a schedule tick named by the schedule ARN, an empty input', async () => {
    const run = await runOnAwsEntries(sample('aws', 'jl-scheduler-event.json'));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toEqual({ kind: 'schedule', source: 'eventbridge-scheduler', scheduledTime: '2024-05-07T15:58:34Z', schedule: 'arn:aws:scheduler:eu-central-1:123456789012:schedule/default/demoschedule' });
    expect(ctx.deliveryId).toBe('arn:aws:scheduler:eu-central-1:123456789012:schedule/default/demoschedule@2024-05-07T15:58:34Z');
  });

  // aws/aws-lambda-go events/testdata/autoscaling-event-launch-successful.json
  it('Auto Scaling "EC2 Instance Launch Successful" event: its detail as input, keyed by the event id', async () => {
    const event = sample('aws', 'lgo-autoscaling-event-launch-successful.json');
    const run = await runOnAwsEntries(event, () => ({ seen: true }));
    const { input, ctx } = run.seen[0]!;
    expect(input).toEqual(event.detail);
    expect((input as { Details: Record<string, string> }).Details['Availability Zone']).toBe('us-west-2b');
    expect(ctx.trigger).toEqual({ kind: 'event', source: 'eventbridge', type: 'EC2 Instance Launch Successful', eventSource: 'aws.autoscaling', id: '12345678-1234-1234-1234-123456789012', time: '1970-01-01T00:00:00Z' });
    expect(ctx.deliveryId).toBe('12345678-1234-1234-1234-123456789012');
    expect(run.answer).toEqual({ seen: true });
  });

  // aws/aws-lambda-java-libs aws-lambda-java-tests/src/test/resources/ddb/dynamo_event.json
  it('DynamoDB stream INSERT, MODIFY, REMOVE of one item: unmarshalled images, ops, the old image on update; a failure stops the batch and names its SequenceNumber', async () => {
    const event = sample('aws', 'jl-dynamo-event.json');
    const table = 'arn:aws:dynamodb:eu-central-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';
    const run = await runOnAwsEntries(event);
    expect(run.seen.map((s) => s.input)).toEqual([{ Message: 'New item!', Id: 101 }, { Message: 'This item has changed', Id: 101 }, { Message: 'This item has changed', Id: 101 }]);
    expect(run.seen.map((s) => (s.ctx.trigger as { op: string }).op)).toEqual(['insert', 'update', 'delete']);
    expect(run.seen[1]!.ctx.trigger).toEqual({ kind: 'change', source: 'dynamodb-streams', collection: 'ExampleTableWithStream', op: 'update', key: { Id: 101 }, sequence: '4421584500000000017450439092', before: { Message: 'New item!', Id: 101 }, time: '2015-04-09T00:00:00.000Z', batchIndex: 1, batchSize: 3 });
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual(['4421584500000000017450439091', '4421584500000000017450439092', '4421584500000000017450439093'].map((n) => `${table}/${n}`));
    expect(run.answer).toEqual({ batchItemFailures: [] });
    const failed = await runOnAwsEntries(event, (_input, ctx) => {
      if ((ctx.trigger as { op: string }).op === 'update') throw new Error('down');
    });
    expect(failed.seen).toHaveLength(2);
    expect(failed.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '4421584500000000017450439092' }] });
  });
});
