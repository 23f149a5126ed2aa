/**
 * Published sample events replayed as published (their data unchanged; repository, path and
 * commit of each in test/fixtures/samples/SOURCES.md): AWS Lambda samples of aws-lambda-go and
 * the Powertools parser through the root entry and `@steadyfn/handler/aws`; Google Cloud
 * samples of google-cloudevents and the Functions Framework's own tests sent over HTTP to the
 * real Functions Framework; the Azure Functions library's own trigger metadata samples with
 * the real `@azure/functions` objects; OpenWhisk feed params. Then the same events broken the ways real senders break them:
 * `null` where a member is normally absent, empty lists, odd headers and bodies.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { allow, authorized, handler, httpResult, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { handler as azureHandler } from '../src/azure.js';
import { handler as owHandler } from '../src/openwhisk.js';
import { HttpRequest, trigger, type FunctionTrigger } from '@azure/functions';
import { invocationContext } from './support/azure.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { logs, recorder, runOnAwsEntries as aws, sample, type Json } from './support/published.js';

afterAll(closeServers);

type Seen = ReturnType<typeof recorder>['seen'];

const warnings = (lines: Json[]) => lines.filter((l) => l.level === 'warn');

describe('AWS Lambda: aws-lambda-go events/testdata', () => {
  it('apigw-request.json: JSON body with CRLF, Lambda authorizer principal, the two header maps merged', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-apigw-request.json'), (_input, ctx) => ({ caller: ctx.principal?.id ?? null }));
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ a: 1 });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/hello/world', query: { name: 'me' }, sourceIp: '192.168.196.186' } });
    if (ctx.trigger.kind !== 'http') throw new Error('not http');
    expect(ctx.trigger.request.headers['content-type']).toBe('application/json');
    expect(ctx.trigger.request.headers['x-forwarded-for']).toBe('54.240.196.186, 54.182.214.83');
    // The authorizer's principalId wins over the identity fields; its context numbers are text.
    expect(ctx.principal).toEqual({ id: 'admin', source: 'apigw-lambda-authorizer', claims: { clientId: '1', clientName: 'Exata' } });
    expect(ctx.deliveryId).toBeUndefined();
    expect(answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"caller":"admin"}', isBase64Encoded: false });
  });

  it('alb-lambda-target-request.json (both header maps, which differ): the multi-value map wins, its JSON type refuses the text body with a 400, not a 500', async () => {
    const { seen, answer, lines } = await aws(sample('aws', 'lgo-alb-lambda-target-request.json'));
    expect(seen).toHaveLength(0);
    expect(answer).toMatchObject({ statusCode: 400, statusDescription: '400 Bad Request', multiValueHeaders: { 'content-type': ['application/problem+json'] }, isBase64Encoded: false });
    expect(JSON.parse((answer as Json).body as string)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body', expected: 'a JSON document' }] });
    expect(JSON.stringify(lines)).not.toContain('Who there?');
  });

  it('the same ALB request with its headers map only: text body as text, answered in headers', async () => {
    const event = sample('aws', 'lgo-alb-lambda-target-request.json');
    delete event.multiValueHeaders;
    delete event.multiValueQueryStringParameters;
    const { seen, answer } = await aws(event, () => httpResult({ cookies: ['sid=1'], body: 'hi' }));
    expect(seen[0]!.input).toBe('Who there?');
    expect(seen[0]!.ctx.trigger).toMatchObject({ source: 'alb', request: { query: { testparam: 'true' }, sourceIp: '72.21.198.66', headers: { cookie: 'cookies' } } });
    expect(answer).toEqual({ statusCode: 200, statusDescription: '200 OK', headers: { 'content-type': 'text/plain; charset=utf-8', 'set-cookie': 'sid=1' }, body: 'hi', isBase64Encoded: false });
  });

  it('apigw-v2-request.json: cookies joined into the cookie header, a repeated query parameter kept whole, a JWT without sub is no principal', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-apigw-v2-request.json'), () => httpResult({ cookies: ['a=1', 'b=2'], body: { ok: true } }));
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({ a: 1 });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'GET', path: '/my/path', multiQuery: { parameter1: ['value1', 'value2'], parameter2: ['value'] }, sourceIp: 'IP' } });
    if (ctx.trigger.kind !== 'http') throw new Error('not http');
    expect(ctx.trigger.request.headers).toMatchObject({ header1: 'value1', header2: 'value2', cookie: 'cookie1; cookie2' });
    expect(ctx.principal).toBeUndefined();
    expect(answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: ['a=1', 'b=2'], body: '{"ok":true}', isBase64Encoded: false });
  });

  it('s3-event-with-decoded.json: the key percent-decoded, the sequencer in the delivery id; a failure is thrown for Lambda to retry', async () => {
    const { seen } = await aws(sample('aws', 'lgo-s3-event-with-decoded.json'));
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'sourcebucket', key: 'Happy Face.jpg', size: 1024, etag: 'd41d8cd98f00b204e9800998ecf8427e', versionId: 'version', time: '1970-01-01T00:00:00.123Z' });
    expect(seen[0]!.ctx.deliveryId).toBe('sourcebucket/Happy Face.jpg@Happy Sequencer');
    const failed = await aws(sample('aws', 'lgo-s3-event-with-decoded.json'), () => {
      throw new Error('down');
    });
    expect(failed.answer).toEqual({ thrown: 'INTERNAL' });
  });
});

describe('AWS Lambda: aws-lambda-go events/testdata, event sources and authorizers', () => {
  it('kafka-event.json: base64 key and value as text, header byte arrays as text attributes and as bytes', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-kafka-event.json'));
    expect(seen[0]!.input).toBe('8d5596b4-1813-4238-b24b-6dad8e3d1c0c');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'stream', source: 'kafka', stream: 'AWSKafkaTopic', partition: '0', sequence: '0', key: '8d5596b4-1813-4238-b24b-6dad8e3d1c0c', time: '2020-07-18T01:29:09.700Z', attributes: { headerKey: 'headerValue' } });
    expect(seen[0]!.ctx.trigger.kind === 'stream' && seen[0]!.ctx.trigger.headers).toEqual([{ key: 'headerKey', value: Buffer.from('headerValue') }]);
    expect(seen[0]!.ctx.deliveryId).toBe('arn:aws:kafka:us-west-2:012345678901:cluster/ExampleMSKCluster/e9f754c6-d29a-4430-a7db-958a19fd2c54-4/AWSKafkaTopic/0/0');
    expect(answer).toBeUndefined();
  });

  it('sqs-event.json: typed attributes (the reserved list values ignored), receive count as attempt', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-sqs-event.json'));
    expect(seen[0]!.input).toBe('Message Body');
    expect(seen[0]!.ctx.trigger).toMatchObject({
      kind: 'queue',
      source: 'sqs',
      queue: 'SQSQueue',
      messageId: 'MessageID_1',
      attempt: 2,
      attributes: { Attribute1: 'AttributeValue1', Attribute2: '123' },
      binaryAttributes: { Attribute3: Buffer.from('1100') },
      attributeTypes: { Attribute1: 'String', Attribute2: 'Number', Attribute3: 'Binary' },
    });
    expect(seen[0]!.ctx.deliveryId).toBe('MessageID_1');
    expect(answer).toEqual({ batchItemFailures: [] });
  });

  it('cloudwatch-alarm-sns-payload-single-metric.json: the alarm JSON in the SNS message as the input', async () => {
    const { seen } = await aws(sample('aws', 'lgo-cloudwatch-alarm-sns-payload-single-metric.json'));
    expect(seen[0]!.input).toMatchObject({ AlarmName: 'EXAMPLE', NewStateValue: 'ALARM', Trigger: { MetricName: 'NetworkOut', Threshold: 0 } });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'notification', source: 'sns', topic: 'arn:aws:sns:EXAMPLE', subject: 'TestInvoke', messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' });
  });

  it('apigw-custom-auth-request-type-request.json: a REQUEST authorizer, answered with an IAM policy', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-apigw-custom-auth-request-type-request.json'), () => allow('user-1'));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'authorizer', source: 'apigw-request', resource: 'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request' });
    expect(seen[0]!.input).toMatchObject({ type: 'REQUEST', method: 'GET', path: '/request', query: { QueryString1: 'queryValue1' }, stageVariables: { StageVar1: 'stageValue1' } });
    expect((seen[0]!.input as Json).headers).toMatchObject({ headerauth1: 'headerValue1', 'content-type': 'application/x-www-form-urlencoded' });
    expect(answer).toMatchObject({ principalId: 'user-1', policyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: ['arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request'] }] } });
  });

  it('apigw-v2-custom-authorizer-v2-request.json: an HTTP API 2.0 authorizer (mTLS), answered simply; a throw is Unauthorized', async () => {
    const { seen, answer } = await aws(sample('aws', 'lgo-apigw-v2-custom-authorizer-v2-request.json'), () => authorized(true, { tenant: 'a' }));
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'authorizer', source: 'apigw-request-v2' });
    expect(seen[0]!.input).toMatchObject({ identitySource: ['user1', '123'], method: 'POST', path: '/my/path', pathParameters: { parameter1: 'value1' } });
    expect((seen[0]!.input as Json).headers).toMatchObject({ cookie: 'cookie1; cookie2' });
    expect(answer).toEqual({ isAuthorized: true, context: { tenant: 'a' } });
  });
});

describe('AWS Lambda: Powertools parser test events', () => {
  it('s3/s3-lifecycle-event.json: a lifecycle expiration is a delete without size', async () => {
    const { seen } = await aws(sample('aws', 'pt-s3-lifecycle.json'));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'storage', source: 's3', op: 'deleted', eventType: 'LifecycleExpiration:Delete', bucket: 'amzn-s3-demo-bucket', key: 'expiration/delete', batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('amzn-s3-demo-bucket/expiration/delete@0055AED6DCD90281E5');
  });

  it('s3/s3EventBridgeNotificationObjectDeletedEvent.json: a delete marker via EventBridge', async () => {
    const { seen } = await aws(sample('aws', 'pt-s3-eventbridge-deleted.json'));
    expect(seen[0]!.input).toEqual({ op: 'deleted', bucket: 'example-bucket', key: 'IMG_m7fzo3.jpg', time: '2021-11-12T00:00:00Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 's3', via: 'eventbridge', eventType: 'Object Deleted' });
    expect(seen[0]!.ctx.deliveryId).toBe('example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E');
  });

  it('sqs/sns-body.json: the SNS envelope (Subject null) unwrapped; deliveryId the SNS id, the failure named by the SQS id', async () => {
    const { seen, answer } = await aws(sample('aws', 'pt-sqs-sns-body.json'));
    expect(seen[0]!.input).toEqual({ message: 'hello world' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'sqs', messageId: '79406a00-bf15-46ca-978c-22c3613fcb30', attempt: 1, sns: { topic: 'arn:aws:sns:eu-west-1:231436140809:powertools265', messageId: 'd88d4479-6ec0-54fe-b63f-1cf9df4bb16e' } });
    expect(seen[0]!.ctx.deliveryId).toBe('d88d4479-6ec0-54fe-b63f-1cf9df4bb16e');
    expect(answer).toEqual({ batchItemFailures: [] });
    const failed = await aws(sample('aws', 'pt-sqs-sns-body.json'), () => {
      throw new Error('down');
    });
    expect(failed.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '79406a00-bf15-46ca-978c-22c3613fcb30' }] });
  });

  it('alb/multi-value-header.json: an empty body is no body; two cookies go out in multiValueHeaders', async () => {
    const { seen, answer } = await aws(sample('aws', 'pt-alb-multi-value-header.json'), () => httpResult({ cookies: ['a=1', 'b=2'], body: { n: 1 } }));
    expect(seen[0]!.input).toEqual({});
    expect(seen[0]!.ctx.trigger).toMatchObject({ source: 'alb', request: { method: 'GET', path: '/todos', sourceIp: '123.123.123.123', rawBody: '' } });
    expect(answer).toEqual({ statusCode: 200, statusDescription: '200 OK', multiValueHeaders: { 'content-type': ['application/json'], 'set-cookie': ['a=1', 'b=2'] }, body: '{"n":1}', isBase64Encoded: false });
  });

  it('alb/multi-fields.json: a body without a content type is text', async () => {
    const { seen } = await aws(sample('aws', 'pt-alb-multi-fields.json'));
    expect(seen[0]!.input).toBe('Test');
  });

  it('apigw-rest/console-test-ui.json: every map null, body null; the IAM caller from the console', async () => {
    const { seen, answer } = await aws(sample('aws', 'pt-apigw-rest-console-test-ui.json'), (_input, ctx) => ({ caller: ctx.principal?.id ?? null }));
    const { input, ctx } = seen[0]!;
    expect(input).toEqual({});
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/no-auth', headers: {}, query: {}, multiQuery: {}, rawBody: undefined, sourceIp: 'test-invoke-source-ip' } });
    expect(ctx.principal).toMatchObject({ id: 'arn:aws:sts::123456789012:assumed-role/Admin/aamorosi', source: 'aws-iam' });
    expect(answer).toMatchObject({ statusCode: 200, body: '{"caller":"arn:aws:sts::123456789012:assumed-role/Admin/aamorosi"}' });
  });

  it('apigw-rest/websocket.json: a WebSocket route (eventType MESSAGE), null body and query', async () => {
    const { seen, answer } = await aws(sample('aws', 'pt-apigw-rest-websocket.json'));
    expect(seen[0]!.input).toEqual({});
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'apigw-websocket', request: { method: 'MESSAGE', path: '$connect', sourceIp: '15.248.3.126' }, websocket: { connectionId: 'GgCJcFJGoAMCJ8w=', routeKey: '$connect' } });
    expect(answer).toMatchObject({ statusCode: 204 });
  });

  it('lambda/base.json: a Function URL POST with IAM auth and body null; cookies answered in cookies', async () => {
    const { seen, answer } = await aws(sample('aws', 'pt-lambda-url-iam.json'), () => httpResult({ status: 201, cookies: ['x=1'], body: 'ok' }));
    const { input, ctx } = seen[0]!;
    // No body: the query parameters are the input, a repeated one as every value.
    expect(input).toEqual({ parameter1: ['value1', 'value2'], parameter2: 'value' });
    expect(ctx.trigger).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'POST', path: '/', rawBody: undefined, sourceIp: '123.123.123.123' } });
    if (ctx.trigger.kind !== 'http') throw new Error('not http');
    expect(ctx.trigger.request.headers).toMatchObject({ header2: 'value1,value2', cookie: 'cookie1; cookie2' });
    expect(ctx.principal).toMatchObject({ id: 'arn:aws:iam::111122223333:user/example-user', source: 'aws-iam' });
    expect(answer).toEqual({ statusCode: 201, headers: { 'content-type': 'text/plain; charset=utf-8' }, cookies: ['x=1'], body: 'ok', isBase64Encoded: false });
  });

  it('kinesis/dynamodb-stream.json: DynamoDB changes through a Kinesis stream are stream records (JSON data), stopped at the first failure', async () => {
    const { seen } = await aws(sample('aws', 'pt-kinesis-dynamodb-stream.json'));
    expect(seen).toHaveLength(2);
    expect(seen[0]!.input).toMatchObject({ eventName: 'INSERT', tableName: 'PowertoolsEventsStack-DynamoDBTable59784FC0-8NKAMTERTAXY', dynamodb: { Keys: { id: { S: 'record-1qit2y819gi' } } } });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'stream', source: 'kinesis', partition: 'shardId-000000000000', sequence: '49657828409187701520019995242508390119953358325192589314', key: '859F7C064A4818874FA67ABEC9BF2AF1', time: '2024-11-18T10:09:15.932Z' });
    expect(seen[1]!.ctx.deliveryId).toBe(
      'arn:aws:kinesis:eu-west-1:1234567789012:stream/PowertoolsEventsStack-KinesisStream46752A3E-u0C9B3ZKjgG0/shardId-000000000000:49657828409187701520019995242509599045772972954367295490',
    );
    const failed = await aws(sample('aws', 'pt-kinesis-dynamodb-stream.json'), () => {
      throw new Error('down');
    });
    expect(failed.seen).toHaveLength(1);
    expect(failed.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49657828409187701520019995242508390119953358325192589314' }] });
  });

  it('dynamodb/tumbling-window.json: runs whole as direct (logged), so the function answers { state, batchItemFailures } itself', async () => {
    const answerOf = (input: unknown) => ({ state: { count: String((input as Json).Records.length) }, batchItemFailures: [] });
    const { seen, answer, lines } = await aws(sample('aws', 'pt-dynamodb-tumbling-window.json'), answerOf);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: 'Kinesis or DynamoDB Streams tumbling window' });
    expect(answer).toEqual({ state: { count: '3' }, batchItemFailures: [] });
    expect(warnings(lines)).toMatchObject([{ msg: 'event not recognised; running it as a direct invocation', shape: 'Kinesis or DynamoDB Streams tumbling window' }]);
  });

  it('vpc-lattice/base.json and base-v2.json: an HTTP trigger (source vpc-lattice), not logged as unrecognised (see review-vpc-lattice.test.ts)', async () => {
    for (const name of ['pt-vpc-lattice-v1.json', 'pt-vpc-lattice-v2.json']) {
      const { seen, lines, answer } = await aws(sample('aws', name), () => 'ok');
      expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'vpc-lattice', request: { method: 'GET', query: { 'order-id': '1' } } });
      expect(answer).toMatchObject({ statusCode: 200, statusDescription: '200 OK', body: 'ok' });
      expect(warnings(lines)).toEqual([]);
    }
  });
});

describe('AWS Lambda: published samples broken the ways senders break them', () => {
  /** The Records of Powertools' dynamodb/tumbling-window.json as a plain DynamoDB Streams batch. */
  function dynamoDbBatch(): Json {
    return { Records: sample('aws', 'pt-dynamodb-tumbling-window.json').Records as Json[] };
  }

  it('DynamoDB Streams: an image that is null (as the .NET/Java event classes and hand-built events write it) is no image, not a failed batch', async () => {
    const event = dynamoDbBatch();
    const [insert, modify, remove] = event.Records as [Json, Json, Json];
    insert.dynamodb.OldImage = null;
    remove.dynamodb.NewImage = null;
    modify.dynamodb.ApproximateCreationDateTime = null;
    const { seen, answer } = await aws(event);
    expect(seen.map((s) => [s.ctx.trigger.kind === 'change' && s.ctx.trigger.op, s.input])).toEqual([
      ['insert', { Message: 'New item!', Id: 101 }],
      ['update', { Message: 'This item has changed', Id: 101 }],
      ['delete', { Message: 'This item has changed', Id: 101 }],
    ]);
    expect(seen[0]!.ctx.trigger).not.toHaveProperty('before');
    expect(seen[2]!.ctx.trigger).toMatchObject({ before: { Message: 'This item has changed', Id: 101 }, sequence: '333' });
    expect(answer).toEqual({ batchItemFailures: [] });
  });

  it('DynamoDB Streams KEYS_ONLY with both images null: the key is the input', async () => {
    const event = dynamoDbBatch();
    for (const record of event.Records as Json[]) Object.assign(record.dynamodb, { NewImage: null, OldImage: null, StreamViewType: 'KEYS_ONLY' });
    const { seen } = await aws(event);
    expect(seen.map((s) => s.input)).toEqual([{ Id: 101 }, { Id: 101 }, { Id: 101 }]);
  });

  it('a DynamoDB image that is neither an object nor null fails its record with MALFORMED_EVENT, reported by its sequence number', async () => {
    const event = dynamoDbBatch();
    (event.Records as Json[])[1]!.dynamodb.NewImage = 'not an item';
    const { seen, answer } = await aws(event);
    expect(seen.map((s) => s.ctx.trigger.kind === 'change' && s.ctx.trigger.sequence)).toEqual(['111']);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '222' }] });
  });

  it('REST API: multiValueHeaders entries null or holding null (API Gateway sends null lists), headers null: read as absent', async () => {
    const event = sample('aws', 'lgo-apigw-request.json');
    event.multiValueHeaders = { Accept: null, 'X-Trace': [null, 'a'], 'Content-Type': ['application/json'] };
    event.headers = null;
    event.multiValueQueryStringParameters = { name: null, page: ['2'] };
    event.queryStringParameters = null;
    const { seen, answer } = await aws(event);
    if (seen[0]!.ctx.trigger.kind !== 'http') throw new Error('not http');
    expect(seen[0]!.ctx.trigger.request.headers).toEqual({ 'x-trace': 'a', 'content-type': 'application/json' });
    expect(seen[0]!.ctx.trigger.request.multiQuery).toEqual({ page: ['2'] });
    expect(seen[0]!.input).toEqual({ a: 1 });
    expect(answer).toMatchObject({ statusCode: 204 });
  });

  it('REST API: a body marked base64 that is not is a 400 naming the field; an empty base64 body is no body', async () => {
    const bad = sample('aws', 'lgo-apigw-request.json');
    Object.assign(bad, { body: '%%% not base64', isBase64Encoded: true });
    const refused = await aws(bad);
    expect(refused.seen).toHaveLength(0);
    expect(refused.answer).toMatchObject({ statusCode: 400, headers: { 'content-type': 'application/problem+json' } });
    expect(JSON.parse((refused.answer as Json).body as string)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body' }] });
    const empty = sample('aws', 'lgo-apigw-request.json');
    Object.assign(empty, { body: '', isBase64Encoded: true });
    const { seen } = await aws(empty);
    expect(seen[0]!.input).toEqual({ name: 'me' });
  });

  it('REST API: a 64 KB header value and a header named __proto__ pass through as data', async () => {
    const event = sample('aws', 'lgo-apigw-request.json');
    const big = 'v'.repeat(64 * 1024);
    event.headers = { ...event.headers, 'X-Big': big };
    event.multiValueHeaders = { ...event.multiValueHeaders, 'X-Big': [big] };
    Object.defineProperty(event.multiValueHeaders, '__proto__', { value: ['p'], enumerable: true, configurable: true, writable: true });
    const { seen } = await aws(event);
    if (seen[0]!.ctx.trigger.kind !== 'http') throw new Error('not http');
    const headers = seen[0]!.ctx.trigger.request.headers;
    expect(headers['x-big']).toHaveLength(64 * 1024);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  it('Function URL: cookies, headers, query and body null; requestContext.http null is not HTTP (direct, logged)', async () => {
    const event = sample('aws', 'pt-lambda-url-iam.json');
    Object.assign(event, { cookies: null, headers: null, queryStringParameters: null, rawQueryString: '' });
    const { seen } = await aws(event);
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source: 'function-url', request: { headers: {}, query: {} } });
    expect(seen[0]!.input).toEqual({});
    const broken = sample('aws', 'pt-lambda-url-iam.json');
    broken.requestContext.http = null;
    const direct = await aws(broken);
    expect(direct.seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: 'requestContext without a known HTTP or WebSocket shape' });
    expect(warnings(direct.lines)).toHaveLength(1);
  });

  it('Records empty, or holding only null: direct with a warn, never a crash', async () => {
    for (const event of [{ Records: [] }, { Records: [null] }]) {
      const { seen, lines } = await aws(event, () => 'ran');
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: 'Records' });
      expect(warnings(lines)).toMatchObject([{ shape: 'Records' }]);
    }
  });

  it('SQS: body, attributes and messageAttributes null, and a Java-serialised attribute (binaryValue null, list values null)', async () => {
    const event = sample('aws', 'pt-sqs-sns-body.json');
    const record = (event.Records as Json[])[0]!;
    Object.assign(record, {
      body: 'plain',
      attributes: { ApproximateReceiveCount: '3', AWSTraceHeader: null },
      messageAttributes: { kind: { stringValue: 'order', binaryValue: null, stringListValues: null, binaryListValues: null, dataType: 'String' } },
    });
    const { seen } = await aws(event);
    expect(seen[0]!.input).toBe('plain');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', attempt: 3, attributes: { kind: 'order' }, attributeTypes: { kind: 'String' } });
    Object.assign(record, { body: null, attributes: null, messageAttributes: null });
    const nulls = await aws(event);
    expect(nulls.seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', messageId: '79406a00-bf15-46ca-978c-22c3613fcb30', attributes: {} });
    expect(nulls.answer).toEqual({ batchItemFailures: [] });
  });
});

/**
 * Sends `{ headers, body }` to a CloudEvent function and to a background function (the `event`
 * signature), each wrapped by the root entry and by `@steadyfn/handler/gcp`.
 */
async function gcp(request: { headers: Record<string, string>; body: unknown }, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const runs: Array<{ how: string; seen: Seen; status: number; lines: Json[] }> = [];
  for (const entry of ['root', 'gcp'] as const) {
    for (const signature of ['cloudEvent', 'event'] as const) {
      const { seen, fn } = recorder(result);
      const { lines, logSink } = logs();
      const main = entry === 'root' ? handler({ logSink, logLevel: 'debug' }, fn) : gcpHandler({ logSink, logLevel: 'debug' }, fn);
      const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
      const res = await fetch(url, { method: 'POST', headers: request.headers, body: JSON.stringify(request.body) });
      await res.arrayBuffer();
      runs.push({ how: `${entry}/${signature}`, seen, status: res.status, lines });
    }
  }
  return runs;
}

/** A google-cloudevents `examples/binary` data file as Eventarc pushes it: binary content mode. */
function binaryMode(type: string, source: string, id: string, data: unknown, subject?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': type, 'ce-source': source, 'ce-id': id, 'ce-time': '2021-02-05T04:06:14.109Z' };
  if (subject) headers['ce-subject'] = subject;
  return { headers, body: data };
}

describe('Google Cloud: google-cloudevents examples through the Functions Framework', () => {
  it('storage/StorageObjectData-complex.json: finalized and deleted; numbers where the schema has strings', async () => {
    const data = sample('gcp', 'storage-object-complex.json');
    for (const [type, op] of [['google.cloud.storage.object.v1.finalized', 'created'], ['google.cloud.storage.object.v1.deleted', 'deleted']] as const) {
      const runs = await gcp(binaryMode(type, '//storage.googleapis.com/projects/_/buckets/sample-bucket', `1588778055917163-${op}`, data, 'objects/MyFile'));
      for (const run of runs) {
        expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 204 });
        // `generation` is a number here (96883251): still the versionId (s55-fxz).
        expect(run.seen[0]!.input).toEqual({ op, bucket: 'sample-bucket', key: 'MyFile', size: 0, etag: 'COu8mb3Dn+kCEAE=', contentType: 'text/plain', versionId: '96883251', time: '2021-02-05T04:06:14.109Z' });
        expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op, eventType: type });
        expect(run.seen[0]!.ctx.deliveryId).toBe(`//storage.googleapis.com/projects/_/buckets/sample-bucket#1588778055917163-${op}`);
      }
    }
  });

  it('pubsub/MessagePublishedData-simple.json and -text.json: message id, attributes, data decoded', async () => {
    const cases = [
      ['pubsub-message-simple.json', 'projects/test-project', Buffer.from('AQIDBA==', 'base64'), {}],
      ['pubsub-message-text.json', 'projects/my-project', 'test message 3', { attr1: 'attr1-value' }],
    ] as const;
    for (const [file, project, input, attributes] of cases) {
      const data = sample('gcp', file);
      const runs = await gcp(binaryMode('google.cloud.pubsub.topic.v1.messagePublished', `//pubsub.googleapis.com/${project}/topics/my-topic`, 'message-id', data));
      for (const run of runs) {
        expect(run.status).toBe(204);
        expect(run.seen[0]!.input).toEqual(input);
        expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: 'message-id', attributes });
        expect(run.seen[0]!.ctx.deliveryId).toBe(`//pubsub.googleapis.com/${project}/topics/my-topic#message-id`);
      }
      // Only the CloudEvent carries the subscription; a background function gets the topic.
      expect(runs.find((r) => r.how === 'root/cloudEvent')!.seen[0]!.ctx.trigger).toMatchObject({ queue: `${project}/subscriptions/my-subscription` });
    }
  });

  it('pubsub: a failing function answers 500 so Pub/Sub redelivers', async () => {
    const runs = await gcp(binaryMode('google.cloud.pubsub.topic.v1.messagePublished', '//pubsub.googleapis.com/projects/p/topics/t', 'message-id', sample('gcp', 'pubsub-message-text.json')), () => {
      throw new Error('down');
    });
    for (const run of runs) expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 500 });
  });

  it('firestore/DocumentEventData-simple.json (JSON): an update with before and after as plain values', async () => {
    const data = sample('gcp', 'firestore-document-simple.json');
    const runs = await gcp(binaryMode('google.cloud.firestore.document.v1.written', '//firestore.googleapis.com/projects/project-id/databases/(default)', 'fs-1', data, 'documents/gcf-test/2Vm2mI1d0wIaK2Waj5to'));
    for (const run of runs) {
      expect(run.seen[0]!.input).toEqual({ 'another test': 'asd', count: 4, foo: 'bar' });
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', collection: 'gcf-test', key: 'gcf-test/2Vm2mI1d0wIaK2Waj5to', op: 'update', before: { 'another test': 'asd', count: 3, foo: 'bar' } });
      expect(run.seen[0]!.ctx.deliveryId).toBe('//firestore.googleapis.com/projects/project-id/databases/(default)#fs-1');
    }
  });
});

describe("Google Cloud: the Functions Framework's own test requests", () => {
  it('a Firebase Realtime Database CloudEvent ({ data: null, delta }): an insert whose value is the delta', async () => {
    const runs = await gcp(sample('gcp', 'ff-firebase-db-ce.json') as { headers: Record<string, string>; body: unknown });
    for (const run of runs) {
      expect(run.status).toBe(204);
      expect(run.seen[0]!.input).toBe(10);
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firebase-rtdb', collection: 'gcf-test', key: 'gcf-test/xyz', op: 'insert' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('//firebasedatabase.googleapis.com/projects/_/instances/my-project-id#aaaaaa-1111-bbbb-2222-cccccccccccc');
    }
  });

  it('a raw Pub/Sub push body without a topic in the path: the message, its id and attributes; no made-up queue', async () => {
    const runs = await gcp(sample('gcp', 'ff-raw-pubsub-no-topic.json') as { headers: Record<string, string>; body: unknown });
    for (const run of runs) {
      expect(run.status).toBe(204);
      expect(run.seen[0]!.input).toEqual({ foo: 'bar' });
      // The framework drops the body's subscription and has no topic: the source is a bare
      // `//pubsub.googleapis.com/`, which names no queue (it used to be the queue).
      expect(run.seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'pubsub', messageId: '1', attributes: { test: '123' }, batchIndex: 0, batchSize: 1 });
      expect(run.seen[0]!.ctx.deliveryId).toBe('1');
    }
  });

  it('legacy GCF events of a type no converter knows: a background function gets an `event` trigger keyed by its resource and event id', async () => {
    for (const file of ['ff-gcf-legacy-event.json', 'ff-gcf-event-resource-json.json']) {
      const runs = await gcp(sample('gcp', file) as { headers: Record<string, string>; body: unknown });
      for (const run of runs.filter((r) => r.how.endsWith('/event'))) {
        expect(run.status).toBe(204);
        expect(run.seen[0]!.input).toEqual({ some: 'payload' });
        expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', type: 'testEventType', id: 'testEventId' });
        expect(run.seen[0]!.ctx.deliveryId).toBe(`${(run.seen[0]!.ctx.trigger as { eventSource: string }).eventSource}#testEventId`);
      }
    }
  });
});

/** Runs an Azure trigger through the root entry and `@steadyfn/handler/azure`; both must agree. */
async function azure(input: unknown, triggerMetadata: Json, options: FunctionTrigger, extra: Json = {}) {
  const runs: Array<{ seen: Seen; outcome: unknown }> = [];
  for (const entry of ['root', 'azure'] as const) {
    const { seen, fn } = recorder((_i, ctx) => ({ caller: ctx.principal?.id ?? null }));
    const main = entry === 'root' ? handler({ logSink: () => undefined, ...extra }, fn) : azureHandler({ logSink: () => undefined, ...extra }, fn);
    const given = input instanceof HttpRequest ? input.clone() : structuredClone(input);
    const outcome = await Promise.resolve(main(given, invocationContext({ invocationId: 'c0ffee00-aaaa-4bbb-8ccc-ddddeeeeffff', functionName: 'sample', triggerMetadata }, options))).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: (error as { code?: string }).code }),
    );
    runs.push({ seen, outcome });
  }
  expect(runs[1]!.outcome).toEqual(runs[0]!.outcome);
  expect(runs[1]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId, s.ctx.principal])).toEqual(runs[0]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId, s.ctx.principal]));
  return runs[0]!;
}

// Azure/azure-functions-nodejs-library test/converters/fromRpcTriggerMetadata.test.ts
// (commit 8edd622e9564e56bd71031642624200295ccd1da): trigger metadata as the library converts
// the host's, used as published (the expected values of its tests).
describe('Azure Functions: the library\'s published trigger metadata', () => {
  it('queueTrigger: id, dequeue count; the message the library parsed', async () => {
    const meta = { queueTrigger: { name: 'world' }, dequeueCount: 1, expirationTime: '2022-09-01T05:06:39+00:00', id: '814b3b66-0200-4121-8ef3-405846a124bf', insertionTime: '2022-08-25T05:06:39+00:00', nextVisibleTime: '2022-08-25T05:16:40+00:00', popReceipt: 'AgAAAAMAAAAAAAAAY5ar20G42AE=', name: 'world' };
    const { seen } = await azure({ name: 'world' }, meta, trigger.storageQueue({ queueName: 'helloworldqueue', connection: 'storage_APPSETTING' }));
    expect(seen[0]!.input).toEqual({ name: 'world' });
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'azure-storage-queue', queue: 'helloworldqueue', messageId: '814b3b66-0200-4121-8ef3-405846a124bf', attempt: 1, attributes: {}, batchIndex: 0, batchSize: 1 });
    expect(seen[0]!.ctx.deliveryId).toBe('814b3b66-0200-4121-8ef3-405846a124bf');
  });

  it('serviceBusTrigger on a topic subscription: message id, delivery count, userProperties as attributes', async () => {
    const meta = {
      messageReceiver: { path: 'helloWorldTopic/Subscriptions/helloWorldSub', receiveMode: 0 },
      deliveryCount: 1,
      lockToken: '00000000-0000-0000-0000-000000000000',
      expiresAtUtc: '2022-09-08T05:06:39.775Z',
      enqueuedTimeUtc: '2022-08-25T05:06:39.775Z',
      messageId: 'a11f788b439b4c5daa6a9f173bf78d68',
      contentType: 'text/plain',
      sequenceNumber: 17,
      userProperties: { $AzureWebJobsParentId: '4cad516d-0081-4fa8-8ddb-2f898c664d2b' },
      name: 'world',
    };
    const { seen } = await azure('hello world', meta, trigger.serviceBusTopic({ topicName: 'helloWorldTopic', subscriptionName: 'helloWorldSub', connection: 'sb' }));
    expect(seen[0]!.input).toBe('hello world');
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'azure-service-bus', queue: 'helloWorldTopic/helloWorldSub', messageId: 'a11f788b439b4c5daa6a9f173bf78d68', attempt: 1, attributes: { $AzureWebJobsParentId: '4cad516d-0081-4fa8-8ddb-2f898c664d2b' } });
    // The broker's SequenceNumber scoped by the subscription: MessageId is the sender's.
    expect(seen[0]!.ctx.deliveryId).toBe('helloWorldTopic/helloWorldSub#17');
  });

  it('blobTrigger: container/name from blobTrigger, size from properties.length, the quoted ETag kept in the delivery id', async () => {
    const meta = {
      blobTrigger: 'helloworldcontainer/hello-at-2022-08-25T05-06-38Z',
      uri: 'https://test.blob.core.windows.net/helloworldcontainer/hello-at-2022-08-25T05-06-38Z',
      properties: { cacheControl: null, contentDisposition: null, contentEncoding: null, contentLanguage: null, length: 16, contentMD5: 'eCccQ+cRr78B979+7PwDNg==', contentType: 'application/octet-stream', eTag: '"0x8DA8657981E929A"', created: '2022-08-25T05:06:39+00:00', lastModified: '2022-08-25T05:06:39+00:00', blobType: 2, deletedTime: null },
      metadata: { azureWebJobsParentId: '4cad516d-0081-4fa8-8ddb-2f898c664d2b' },
      name: 'hello-at-2022-08-25T05-06-38Z',
    };
    const { seen } = await azure(Buffer.from('0123456789abcdef'), meta, trigger.storageBlob({ path: 'helloworldcontainer/{name}', connection: 'storage' }));
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'helloworldcontainer', key: 'hello-at-2022-08-25T05-06-38Z', size: 16, etag: '"0x8DA8657981E929A"', contentType: 'application/octet-stream', time: '2022-08-25T05:06:39+00:00' });
    expect(seen[0]!.ctx.deliveryId).toBe('helloworldcontainer/hello-at-2022-08-25T05-06-38Z@"0x8DA8657981E929A"');
  });
});

// Azure/azure-functions-nodejs-library test/http/extractHttpUserFromHeaders.test.ts (commit
// 3d3a317d2670470de7d37dc73909d513653632dd): the client principals of its tests.
describe('Azure Functions HTTP: the library\'s published client principals', () => {
  const appService = {
    auth_typ: 'aad',
    claims: [
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'test@example.com' },
      { typ: 'name', val: 'Example Test' },
      { typ: 'nonce', val: '54b39eaa5596466f9336b9369e91d95e_20211117004911' },
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'testId' },
      { typ: 'preferred_username', val: 'test@example.com' },
      { typ: 'ver', val: '2.0' },
    ],
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  };
  const staticWebApps = { userId: 'testId', userRoles: ['anonymous', 'authenticated'], identityProvider: 'aad', userDetails: 'test@example.com' };
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
  const request = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'https://sample.azurewebsites.net/api/me?t=a&t=b', headers });

  it('App Service: the -id/-idp headers and the claims; only under its opt-in', async () => {
    const headers = { 'x-ms-client-principal-name': 'test@example.com', 'x-ms-client-principal-id': 'testId', 'x-ms-client-principal-idp': 'aad', 'x-ms-client-principal': b64(appService) };
    const trusted = await azure(request(headers), {}, trigger.http({}), { trustIdentityHeaders: ['azure-app-service'] });
    expect(trusted.seen[0]!.input).toEqual({ t: ['a', 'b'] });
    expect(trusted.seen[0]!.ctx.principal).toMatchObject({ id: 'testId', issuer: 'aad', source: 'azure-app-service', claims: { name: 'Example Test', ver: '2.0' } });
    expect(trusted.outcome).toMatchObject({ value: { status: 200, body: '{"caller":"testId"}' } });
    const untrusted = await azure(request(headers), {}, trigger.http({}));
    expect(untrusted.seen[0]!.ctx.principal).toBeUndefined();
  });

  it('Static Web Apps: userId, identityProvider, roles; a principal that is not JSON is nobody, not an error', async () => {
    const swa = await azure(request({ 'x-ms-client-principal': b64(staticWebApps) }), {}, trigger.http({}), { trustIdentityHeaders: ['azure-static-web-apps'] });
    expect(swa.seen[0]!.ctx.principal).toEqual({ id: 'testId', issuer: 'aad', source: 'azure-static-web-apps', claims: { userDetails: 'test@example.com' }, roles: ['anonymous', 'authenticated'] });
    const junk = await azure(request({ 'x-ms-client-principal': b64('not json') }), {}, trigger.http({}), { trustIdentityHeaders: ['azure-static-web-apps', 'azure-app-service'] });
    expect(junk.seen[0]!.ctx.principal).toBeUndefined();
    expect(junk.outcome).toMatchObject({ value: { status: 200 } });
  });
});

/** Runs OpenWhisk params through `main.openwhisk` and `@steadyfn/handler/openwhisk`; both must agree. */
async function openwhisk(params: Json, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const runs: Array<{ seen: Seen; answer: unknown; lines: Json[] }> = [];
  for (const entry of ['root', 'openwhisk'] as const) {
    const { seen, fn } = recorder(result);
    const { lines, logSink } = logs();
    const answer = entry === 'root' ? await handler({ logSink, logLevel: 'debug' }, fn).openwhisk(structuredClone(params)) : await owHandler({ logSink, logLevel: 'debug' }, fn)(structuredClone(params));
    runs.push({ seen, answer, lines });
  }
  expect(runs[1]!.answer).toEqual(runs[0]!.answer);
  expect(runs[1]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId])).toEqual(runs[0]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]));
  return runs[0]!;
}

// apache/openwhisk-package-kafka README.md ("Using the events") and apache/openwhisk-package-cloudant
// README.md: the params each feed fires with, broken the ways a damaged feed message would be.
describe('OpenWhisk feeds: damaged params', () => {
  const message = (offset: number, value: unknown) => ({ partition: 0, key: null, offset, topic: 'mytopic', value });

  it('a Kafka batch with one damaged message (null, or no offset) fails whole with MALFORMED_EVENT naming it — it used to run as direct params', async () => {
    for (const damaged of [null, { partition: 0, topic: 'mytopic', value: 'x' }]) {
      const { seen, answer, lines } = await openwhisk({ messages: [message(5, 'a'), damaged, message(7, 'c')] });
      expect(seen).toHaveLength(0);
      expect(answer).toMatchObject({ error: { code: 'MALFORMED_EVENT', retryable: false, errors: [{ field: 'messages.1' }] } });
      expect(warnings(lines)).toMatchObject([{ msg: 'invocation rejected', code: 'MALFORMED_EVENT' }]);
    }
  });

  it('a Kafka message whose value is null is a tombstone (input null); a messages list without a feed message stays direct', async () => {
    const { seen, answer } = await openwhisk({ messages: [message(5, null)] });
    expect(seen[0]!.input).toBeNull();
    expect(seen[0]!.ctx.deliveryId).toBe('mytopic/0/5');
    expect(answer).toEqual({ processed: 1 });
    for (const params of [{ messages: [] }, { messages: [{ text: 'hi' }] }]) {
      const plain = await openwhisk(params);
      expect(plain.seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'openwhisk' });
      expect(warnings(plain.lines)).toHaveLength(0);
    }
  });

  it('a Cloudant change with changes empty or null: direct, logged as the change it nearly was', async () => {
    for (const changes of [[], null, [{}]]) {
      const params = { dbname: 'examples', id: '6ca436c44074c4c2aa6a40c9a188b348', seq: '2-g1AAAAL9aJyV', changes };
      const { seen, lines } = await openwhisk(params);
      expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'openwhisk', unrecognised: 'Cloudant change without changes[].rev' });
      expect(seen[0]!.input).toEqual(params);
      expect(warnings(lines)).toMatchObject([{ msg: 'event not recognised; running it as a direct invocation', shape: 'Cloudant change without changes[].rev' }]);
    }
  });

  it('a Cloudant change with a numeric seq (CouchDB 1.x) is a change, its seq as text', async () => {
    const { seen } = await openwhisk({ dbname: 'examples', id: 'doc-1', seq: 12, changes: [{ rev: '1-967a00dff5e02add41819138abb3284d' }] });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'couchdb', op: 'insert', key: 'doc-1', sequence: '12' });
    expect(seen[0]!.ctx.deliveryId).toBe('examples/doc-1@1-967a00dff5e02add41819138abb3284d');
  });
});
