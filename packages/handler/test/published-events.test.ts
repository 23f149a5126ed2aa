/**
 * AWS Lambda events shaped exactly like the published samples (aws-lambda-go testdata,
 * aws-sam-cli generated events, DefinitelyTyped `aws-lambda`, Powertools parser test events;
 * see test/fixtures/aws/published/SOURCES.md), each run through `main.aws`, through the
 * auto-detecting root and through `@steadyfn/handler/aws`: trigger kind, normalised fields
 * (ids byte-exact, keys decoded, sizes as numbers, ops), input, deliveryId and the answer
 * Lambda reads. GCP, Azure and OpenWhisk: published-events.*.test.ts beside this file.
 */
import { describe, expect, it } from 'vitest';
import { allow, authorized, handler, httpResult, type Context } from '../src/index.js';
import { handler as awsHandler } from '../src/aws.js';
import { failWhenAsked, lambdaContext, logs, published, recorder, type Json } from './support/published.js';

/** Runs `event` through the three AWS entries with fresh functions; all three must agree. */
async function allEntries(event: Json, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const runs = [] as Array<{ seen: ReturnType<typeof recorder>['seen']; answer: unknown; lines: Json[] }>;
  for (const entry of ['explicit', 'root', 'aws'] as const) {
    const { seen, fn } = recorder(result);
    const { lines, logSink } = logs();
    const options = { logSink, logLevel: 'debug' as const };
    const copy = structuredClone(event);
    const answer =
      entry === 'explicit'
        ? await handler(options, fn).aws(copy, lambdaContext())
        : entry === 'root'
          ? await handler(options, fn)(copy, lambdaContext())
          : await awsHandler(options, fn)(copy, lambdaContext());
    runs.push({ seen, answer, lines });
  }
  const [first, ...others] = runs;
  for (const other of others) {
    expect(other.answer).toEqual(first!.answer);
    expect(other.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId])).toEqual(first!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]));
  }
  return first!;
}

/** The same, for an event whose answer is a thrown error: every entry rejects alike. */
async function allEntriesReject(event: Json, result: (input: unknown, ctx: Context) => unknown) {
  const errors: unknown[] = [];
  for (const entry of ['explicit', 'root', 'aws'] as const) {
    const fn = recorder(result).fn;
    const options = { logSink: () => undefined };
    const copy = structuredClone(event);
    const call =
      entry === 'explicit' ? handler(options, fn).aws(copy, lambdaContext()) : entry === 'root' ? handler(options, fn)(copy, lambdaContext()) : awsHandler(options, fn)(copy, lambdaContext());
    errors.push(await call.then(() => 'resolved', (e: unknown) => e));
  }
  for (const e of errors) expect(e).toBeInstanceOf(Error);
  return errors[0] as Error & { code?: string };
}

describe('API Gateway REST (v1)', () => {
  it('a GET with headers, query, path parameters and body all null (aws-lambda-go apigw-request shape)', async () => {
    const { seen, answer } = await allEntries(published('aws', 'apigw-rest-nulls.json'), () => ({ pong: true }));
    expect(seen).toHaveLength(1);
    const t = seen[0]!.ctx.trigger;
    expect(t.kind).toBe('http');
    if (t.kind !== 'http') return;
    expect(t.source).toBe('apigw-v1');
    expect(t.request).toMatchObject({ method: 'GET', path: '/ping', headers: {}, query: {}, multiQuery: {}, rawBody: undefined, rawBytes: undefined, sourceIp: '198.51.100.23' });
    expect(seen[0]!.input).toEqual({});
    expect(seen[0]!.ctx.deliveryId).toBeUndefined();
    expect(seen[0]!.ctx.requestId).toBe('c0ffee00-1111-4222-8333-444455556666');
    expect(answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"pong":true}', isBase64Encoded: false });
  });

  it('a POST with repeated query values, a cookie header and a JSON body; cookies answered in multiValueHeaders', async () => {
    const { seen, answer } = await allEntries(published('aws', 'apigw-rest-post.json'), () =>
      httpResult({ status: 201, headers: { location: '/orders/ord-771' }, cookies: ['sid=1; HttpOnly', 'seen=1'], body: { ok: true } }),
    );
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.request.query).toEqual({ tag: 'blue', dry: '1' });
    expect(t.request.multiQuery).toEqual({ tag: ['red', 'blue'], dry: ['1'] });
    expect(t.request.headers.cookie).toBe('theme=dark; lang=fr');
    expect(t.request.headers['x-forwarded-for']).toBe('198.51.100.23, 130.176.12.40');
    expect(seen[0]!.input).toEqual({ sku: 'lamp-04', qty: 2, ref: 12345678901234567890 });
    expect(answer).toEqual({
      statusCode: 201,
      headers: { location: '/orders/ord-771', 'content-type': 'application/json' },
      multiValueHeaders: { 'set-cookie': ['sid=1; HttpOnly', 'seen=1'] },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });

  it('a hand-built event whose multiValueHeaders is {} still reads headers and query (both maps merged)', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    event.multiValueHeaders = {};
    event.multiValueQueryStringParameters = {};
    const { seen } = await allEntries(event);
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.request.headers['content-type']).toBe('application/json');
    expect(t.request.query).toEqual({ tag: 'blue', dry: '1' });
    expect(seen[0]!.input).toEqual({ sku: 'lamp-04', qty: 2, ref: 12345678901234567890 });
  });
});

describe('API Gateway HTTP API (v2) and Function URLs', () => {
  it('a base64 PNG upload with cookies and a repeated query parameter', async () => {
    const { seen, answer } = await allEntries(published('aws', 'apigw-http-v2.json'), () => httpResult({ cookies: ['a=1', 'b=2'], body: 'stored' }));
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.source).toBe('apigw-v2');
    expect(t.request.method).toBe('POST');
    expect(t.request.multiQuery).toEqual({ v: ['1', '2'], note: ['a b'] });
    expect(t.request.headers.cookie).toBe('session=s3cr3t; theme=light');
    expect(t.request.sourceIp).toBe('203.0.113.9');
    expect(Buffer.isBuffer(seen[0]!.input)).toBe(true);
    expect([...(seen[0]!.input as Buffer)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(answer).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, cookies: ['a=1', 'b=2'], body: 'stored', isBase64Encoded: false });
  });

  it('a GET without body, cookies or query parameters (the optional members absent)', async () => {
    const { seen, answer } = await allEntries(published('aws', 'apigw-http-v2-minimal.json'));
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.request).toMatchObject({ method: 'GET', path: '/', query: {}, rawBody: undefined });
    expect(seen[0]!.input).toEqual({});
    expect(answer).toEqual({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
  });

  it('a Function URL form post, base64: repeated fields keep every value', async () => {
    const { seen } = await allEntries(published('aws', 'function-url-post.json'));
    const t = seen[0]!.ctx.trigger;
    expect(t.kind === 'http' && t.source).toBe('function-url');
    expect(seen[0]!.input).toEqual({ t: ['a', 'b'], u: 'c' });
  });
});

describe('Application Load Balancer', () => {
  it('multi-value mode: query names and values percent-decoded, cookie joined with "; ", answer in multiValueHeaders', async () => {
    const { seen, answer } = await allEntries(published('aws', 'alb-multi-value.json'), () => ({ hits: 0 }));
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.source).toBe('alb');
    expect(t.request.multiQuery).toEqual({ q: ['café noir'], page: ['2'], tag: ['a', 'b+c'] });
    expect(t.request.headers.cookie).toBe('a=1; b=2');
    // The last X-Forwarded-For hop, the one the ALB appends (the first is client-written).
    expect(t.request.sourceIp).toBe('10.0.0.1');
    expect(seen[0]!.input).toEqual({ q: 'café noir', page: '2', tag: ['a', 'b+c'] });
    expect(answer).toEqual({ statusCode: 200, statusDescription: '200 OK', multiValueHeaders: { 'content-type': ['application/json'] }, body: '{"hits":0}', isBase64Encoded: false });
  });

  it('headers-only mode: a JSON body, the answer in headers', async () => {
    const { seen, answer } = await allEntries(published('aws', 'alb-headers-only.json'), () => httpResult({ status: 404 }));
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.request.query).toEqual({ src: 'mail link' });
    expect(seen[0]!.input).toEqual({ ok: true });
    expect(answer).toEqual({ statusCode: 404, statusDescription: '404 Not Found', headers: {}, body: '', isBase64Encoded: false });
  });
});

describe('API Gateway WebSocket routes', () => {
  it.each([
    ['websocket-connect.json', 'CONNECT', '$connect', { room: 'lobby' }],
    ['websocket-message.json', 'MESSAGE', 'sendMessage', { action: 'sendMessage', text: 'hi' }],
    ['websocket-disconnect.json', 'DISCONNECT', '$disconnect', {}],
  ])('%s runs as an http trigger naming the route and connection', async (file, eventType, routeKey, input) => {
    const { seen, answer } = await allEntries(published('aws', file));
    const t = seen[0]!.ctx.trigger;
    if (t.kind !== 'http') throw new Error('not http');
    expect(t.source).toBe('apigw-websocket');
    expect(t.websocket).toMatchObject({ connectionId: 'Zx9Yw8Vu7Ts=', eventType, routeKey, stage: 'prod' });
    expect(t.request).toMatchObject({ method: eventType, path: routeKey });
    expect(seen[0]!.input).toEqual(input);
    expect(answer).toMatchObject({ statusCode: 204 });
  });
});

describe('API Gateway authorizers', () => {
  it('TOKEN: an IAM policy for the method ARN', async () => {
    const { seen, answer } = await allEntries(published('aws', 'authorizer-token.json'), () => allow('user-1'));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'authorizer', source: 'apigw-token', resource: 'arn:aws:execute-api:eu-west-1:210987654321:m3ab1c2d3e/prod/GET/orders' });
    expect(seen[0]!.input).toMatchObject({ type: 'TOKEN', token: 'Bearer eyJhbGciOiJub25lIn0.e30.' });
    expect(answer).toEqual({
      principalId: 'user-1',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['arn:aws:execute-api:eu-west-1:210987654321:m3ab1c2d3e/prod/GET/orders'] }] },
    });
  });

  it('REST REQUEST: headers lower-cased, query, path parameters and stage variables', async () => {
    const { seen } = await allEntries(published('aws', 'authorizer-request-v1.json'), () => allow('user-2'));
    expect(seen[0]!.input).toMatchObject({
      type: 'REQUEST',
      method: 'GET',
      path: '/orders/ord-1',
      headers: { 'x-api-key': 'k-1', cookie: 'a=1' },
      query: { q: 'x' },
      pathParameters: { id: 'ord-1' },
      stageVariables: { env: 'prod' },
    });
  });

  it('HTTP API payload 2.0: a simple response, identity sources as a list, cookies joined', async () => {
    const { seen, answer } = await allEntries(published('aws', 'authorizer-http-v2.json'), () => authorized(true, { tenant: 'tenant-9' }));
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'authorizer', source: 'apigw-request-v2' });
    expect(seen[0]!.input).toMatchObject({ identitySource: ['k-2', 'tenant-9'], method: 'GET', path: '/things', headers: { cookie: 'c1=v1; c2=v2' } });
    expect(answer).toEqual({ isAuthorized: true, context: { tenant: 'tenant-9' } });
  });

  it('HTTP API payload 1.0: identitySource as comma-separated text', async () => {
    const { seen } = await allEntries(published('aws', 'authorizer-http-v1.json'), () => allow('user-3'));
    expect(seen[0]!.input).toMatchObject({ type: 'REQUEST', identitySource: ['k-3', 'tenant-1'] });
  });

  it('a rejection is the error API Gateway turns into 401', async () => {
    const error = await allEntriesReject(published('aws', 'authorizer-token.json'), () => {
      throw Object.assign(new Error('no'), {});
    });
    // An unexpected error is a 500 (not Unauthorized): the token was not judged.
    expect(error.message).not.toBe('Unauthorized');
  });
});

describe('ctx.principal from the authorizer results API Gateway writes into requestContext', () => {
  // Each through the three entries; the principal is what the function reads while it runs.
  const principalOf = async (file: string) => {
    const { seen, answer } = await allEntries(published('aws', file), (_input, ctx) => ({ principal: ctx.principal ?? null }));
    expect(seen).toHaveLength(1);
    return (JSON.parse((answer as { body: string }).body) as { principal: unknown }).principal;
  };

  it('REST Lambda authorizer (aws-lambda-go apigw-request.json shape): principalId, context values as text, identity fields ignored', async () => {
    expect(await principalOf('apigw-rest-lambda-authorizer-context.json')).toEqual({
      id: 'acct-5521',
      source: 'apigw-lambda-authorizer',
      claims: { stringKey: 'gold', numberKey: '123', booleanKey: 'true', clientId: '1', clientName: 'Northwind' },
    });
  });

  it('REST Cognito user pool authorizer: sub, iss, the claims', async () => {
    expect(await principalOf('apigw-rest-cognito.json')).toMatchObject({
      id: '4c8d2a1e-90b7-4f36-a2c5-7e1d9b3f6a08',
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Qx7Lm2Pz9',
      source: 'apigw-cognito',
      claims: { 'cognito:username': 'dana', token_use: 'id', email_verified: 'true' },
    });
  });

  it('HTTP API payload 1.0, JWT authorizer (authorizer.claims + scopes): a JWT principal, not Cognito', async () => {
    expect(await principalOf('apigw-http-v1-jwt.json')).toMatchObject({
      id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d1',
      issuer: 'https://orders.eu.auth0.com/',
      source: 'apigw-jwt',
      claims: { gty: 'client-credentials', scope: 'orders:write orders:read' },
      scopes: ['orders:write'],
    });
  });

  it('HTTP API payload 1.0, Lambda authorizer: principalId and context', async () => {
    expect(await principalOf('apigw-http-v1-lambda-authorizer.json')).toEqual({ id: 'svc-ledger', source: 'apigw-lambda-authorizer', claims: { tenant: 'acme', tier: '2' } });
  });

  it('HTTP API payload 2.0: JWT authorizer (authorizer.jwt) and IAM (authorizer.iam)', async () => {
    expect(await principalOf('apigw-http-v2-jwt.json')).toMatchObject({ id: 'auth0|65f0a1b2c3d4e5f6a7b8c9d0', source: 'apigw-jwt', scopes: ['orders:write'] });
    expect(await principalOf('apigw-http-v2-iam.json')).toMatchObject({ id: 'arn:aws:iam::210987654321:user/report-runner', source: 'aws-iam', claims: { accountId: '210987654321', principalOrgId: 'o-a1b2c3d4e5' } });
  });

  it('REST IAM (requestContext.identity): userArn, account and caller; a Cognito identity pool caller by its identity id', async () => {
    expect(await principalOf('apigw-rest-iam.json')).toEqual({ id: 'arn:aws:iam::210987654321:user/ci-deployer', source: 'aws-iam', claims: { accountId: '210987654321', caller: 'AIDAQ3EXAMPLE7KLMNOP2', user: 'AIDAQ3EXAMPLE7KLMNOP2' } });
    expect(await principalOf('apigw-rest-cognito-identity.json')).toMatchObject({
      id: 'eu-west-1:7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
      issuer: 'eu-west-1:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      source: 'cognito-identity',
      claims: { cognitoAuthenticationType: 'authenticated' },
    });
  });

  it('no authorizer (the unauthenticated samples): none', async () => {
    for (const file of ['apigw-rest-post.json', 'apigw-http-v2.json']) expect(await principalOf(file), file).toBeNull();
  });
});

describe('SQS', () => {
  it('runs each message; ids byte-exact, bodies lossless, only the failed message reported', async () => {
    const { seen, answer } = await allEntries(published('aws', 'sqs-no-attributes.json'), failWhenAsked);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['9007199254740993', '2e1424d4-f796-459a-8184-9c92662be6da', 'c80e8021-a70a-42c7-a470-796e1186f753']);
    expect(seen.map((s) => s.input)).toEqual(['89e7073266', { orderId: 'o-2', total: 1.5 }, { orderId: 'o-3', fail: true }]);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'queue', source: 'sqs', queue: 'orders', messageId: '9007199254740993', attempt: 3, attributes: {}, batchIndex: 0, batchSize: 3 });
    expect(seen[1]!.ctx.trigger).toMatchObject({ attempt: 1, attributes: { tenant: 'acme' }, binaryAttributes: { blob: Buffer.from([0x00, 0x01]) } });
    expect(seen[2]!.ctx.trigger).toMatchObject({ attributes: {} });
    expect(seen[0]!.ctx.requestId).toBe('c0ffee00-1111-4222-8333-444455556666:9007199254740993');
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'c80e8021-a70a-42c7-a470-796e1186f753' }] });
  });

  it('a FIFO queue stops at the first failure and reports it and every later message', async () => {
    const { seen, answer } = await allEntries(published('aws', 'sqs-fifo.json'), failWhenAsked);
    expect(seen.map((s) => s.input)).toEqual(['first', 'second-fails']);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '22d6ee51-4cc7-4302-9e22-7cd8afdaadf5' }, { itemIdentifier: '33d6ee51-4cc7-4302-9e22-7cd8afdaadf5' }] });
  });

  it('typed message attributes: text for String and Number (exact), bytes for Binary, every declared data type kept', async () => {
    const { seen, answer } = await allEntries(published('aws', 'sqs-typed-attributes.json'));
    expect(answer).toEqual({ batchItemFailures: [] });
    const [first, second] = seen.map((s) => s.ctx.trigger);
    expect(first).toMatchObject({
      attributes: {
        tenant: 'acme',
        amount: '12345678901234567890.0000000001',
        ratio: '0.1e-3',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      binaryAttributes: {
        thumbnail: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pixel: Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0xff]),
      },
      attributeTypes: { tenant: 'String', amount: 'Number', ratio: 'Number.float', thumbnail: 'Binary', pixel: 'Binary.gif', traceparent: 'String' },
    });
    // A binary attribute is never also in the text map.
    expect(Object.keys((first as { attributes: object }).attributes)).not.toContain('thumbnail');
    expect(second).toMatchObject({ attributes: {}, binaryAttributes: { checksum: Buffer.from([0x00, 0xff, 0xfe, 0x7f]) }, attributeTypes: { checksum: 'Binary' } });
    // The trace context still comes from the String attribute.
    expect(seen[0]!.ctx.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('a message with a malformed attribute fails alone with MALFORMED_EVENT naming the field; the others run', async () => {
    const event = published('aws', 'sqs-typed-attributes.json');
    event.Records[1].messageAttributes.checksum.binaryValue = 'not base64!';
    const { seen, answer, lines } = await allEntries(event);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['5b6c7d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0e']);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '6c7d8e9f-2a3b-4c4d-8e5f-6a7b8c9d0e1f' }] });
    expect(JSON.stringify(lines)).toContain('MALFORMED_EVENT');

    for (const [damage, field, expected] of [
      [(a: Json) => (a.checksum = 'AP/+fw=='), 'Records.1.messageAttributes.checksum', 'an SQS message attribute'],
      [(a: Json) => delete a.checksum.binaryValue, 'Records.1.messageAttributes.checksum.binaryValue', 'base64 text'],
      [(a: Json) => (a.checksum = { stringListValues: [], dataType: 'String' }), 'Records.1.messageAttributes.checksum.stringValue', 'a string'],
      [(a: Json) => delete a.checksum.dataType, 'Records.1.messageAttributes.checksum.dataType', 'String, Number or Binary'],
    ] as const) {
      const bad = published('aws', 'sqs-typed-attributes.json');
      damage(bad.Records[1].messageAttributes);
      let error: Json | undefined;
      const main = handler({ logSink: () => undefined }, () => undefined);
      const plugin = { name: 'catch', onError: (_ctx: unknown, e: unknown) => void (error = e as Json) };
      const withPlugin = handler({ logSink: () => undefined, use: [plugin] }, () => undefined);
      expect(await main.aws(structuredClone(bad), lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: '6c7d8e9f-2a3b-4c4d-8e5f-6a7b8c9d0e1f' }] });
      await withPlugin.aws(bad, lambdaContext());
      expect(error, field).toMatchObject({ code: 'MALFORMED_EVENT' });
      expect(error!.issues, field).toEqual([expect.objectContaining({ field, expected: expect.stringContaining(expected) })]);
    }
  });

  it("S3's test message on a queue is acknowledged without running the function", async () => {
    const { seen, answer } = await allEntries(published('aws', 's3-test-event-in-sqs.json'));
    expect(seen).toHaveLength(0);
    expect(answer).toEqual({ batchItemFailures: [] });
  });
});

describe('SQS carrying an SNS notification (SNS → SQS without raw message delivery)', () => {
  const ENVELOPE_FIXTURE = 'sqs-sns-envelope.json';
  const SNS_ID = '1b6f7a8e-2c3d-5e4f-9a0b-1c2d3e4f5a6b';
  const SQS_ID = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
  /** The fixture with record `index`'s envelope changed by `damage`. */
  const withEnvelope = (index: number, damage: (envelope: Json) => void): Json => {
    const event = published('aws', ENVELOPE_FIXTURE);
    const envelope = JSON.parse(event.Records[index].body) as Json;
    damage(envelope);
    event.Records[index].body = JSON.stringify(envelope);
    return event;
  };

  it('the function gets the Message; SNS attributes, topic, id, subject and time on the trigger; deliveryId is the SNS message id', async () => {
    const { seen, answer } = await allEntries(published('aws', ENVELOPE_FIXTURE));
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.input)).toEqual([
      { orderId: 'o-sns1', quantity: 2 },
      // The Message text under the body option: a number past 2^53 stays text.
      '12345678901234567890',
      // EventBridge → SQS is no SNS envelope: the whole event, as before.
      expect.objectContaining({ 'detail-type': 'OrderPlaced', detail: { orderId: 'o-eb1', quantity: 1 } }),
      // A user body with Type, TopicArn, MessageId and Message but no signature members is no envelope either.
      { Type: 'Notification', TopicArn: 'arn:aws:sns:eu-west-1:210987654321:orders-topic', Message: 'not an envelope', MessageId: 'user-1', orderId: 'o-user1' },
    ]);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'queue',
      source: 'sqs',
      queue: 'orders-from-topic',
      messageId: SQS_ID,
      attempt: 1,
      attributes: {
        orderType: 'order.created',
        amount: '12345678901234567890.5',
        regions: '["eu-west-1","us-east-1"]',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      binaryAttributes: { digest: Buffer.from([0x00, 0xff, 0xfe, 0x7f]) },
      attributeTypes: { orderType: 'String', amount: 'Number', regions: 'String.Array', digest: 'Binary', traceparent: 'String' },
      sns: { topic: 'arn:aws:sns:eu-west-1:210987654321:orders-topic', messageId: SNS_ID, subject: 'order created', time: '2025-03-02T12:10:00.000Z' },
      batchIndex: 0,
      batchSize: 4,
    });
    expect(seen[1]!.ctx.trigger).toEqual({
      kind: 'queue',
      source: 'sqs',
      queue: 'orders-from-topic',
      messageId: 'd2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a',
      attempt: 2,
      attributes: {},
      sns: { topic: 'arn:aws:sns:eu-west-1:210987654321:orders-topic', messageId: '2c7a8b9f-3d4e-5f6a-8b1c-2d3e4f5a6b7c', time: '2025-03-02T12:10:00.000Z' },
      batchIndex: 1,
      batchSize: 4,
    });
    for (const other of seen.slice(2)) expect(other.ctx.trigger).not.toHaveProperty('sns');
    // The EventBridge event in SQS is keyed by its event id (EventBridge's retries send new SQS copies).
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual([SNS_ID, '2c7a8b9f-3d4e-5f6a-8b1c-2d3e4f5a6b7c', '3f9a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', 'f4a5b6c7-d8e9-4f0a-9b2c-3d4e5f6a7b8c']);
    // The attempt is still the SQS message's; the trace comes from the publisher's attribute.
    expect(seen[0]!.ctx.requestId).toBe(`c0ffee00-1111-4222-8333-444455556666:${SQS_ID}`);
    expect(seen[0]!.ctx.traceparent.split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    // ctx.raw is the Lambda event as it came: the envelope text in the body.
    expect((seen[0]!.ctx.raw as Json).event.Records[0].body).toBe(published('aws', ENVELOPE_FIXTURE).Records[0].body);
  });

  it('one SNS message fanned out to two queues, and delivered twice to one, is one delivery id; requestIds stay per SQS message', async () => {
    const event = published('aws', ENVELOPE_FIXTURE);
    const first = event.Records[0];
    const otherQueue = { ...structuredClone(first), messageId: '0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e', eventSourceARN: 'arn:aws:sqs:eu-west-1:210987654321:orders-audit' };
    const again = { ...structuredClone(first), messageId: '0b0b0b0b-1c1c-4d2d-8e3e-4f4f4f4f4f4f' };
    event.Records = [first, otherQueue, again];
    const { seen } = await allEntries(event);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual([SNS_ID, SNS_ID, SNS_ID]);
    expect(new Set(seen.map((s) => s.ctx.requestId)).size).toBe(3);
    expect(seen.map((s) => (s.ctx.trigger.kind === 'queue' ? s.ctx.trigger.queue : ''))).toEqual(['orders-from-topic', 'orders-audit', 'orders-from-topic']);
  });

  it('an SNS FIFO topic\'s envelope (SequenceNumber, no signature members) is unwrapped too: the Message, the SNS id as deliveryId', async () => {
    const { seen, answer } = await allEntries(published('aws', 'sqs-sns-envelope-fifo.json'));
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-fifo1', quantity: 3 }]);
    expect(seen[0]!.ctx.deliveryId).toBe('5d1e9c7a-3b2f-5a48-8c6d-0e1f2a3b4c5d');
    expect(seen[0]!.ctx.trigger).toMatchObject({
      messageId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
      sns: { topic: 'arn:aws:sns:eu-west-1:210987654321:orders-topic.fifo', messageId: '5d1e9c7a-3b2f-5a48-8c6d-0e1f2a3b4c5d', time: '2025-03-02T12:20:00.123Z', sequenceNumber: '10000000000000012000' },
    });
  });

  it('without signature members, only a FIFO topic\'s envelope counts: a standard topic ARN or no SequenceNumber stays a user body', async () => {
    const fifo = (damage: (envelope: Json) => void): Json => {
      const event = published('aws', 'sqs-sns-envelope-fifo.json');
      const envelope = JSON.parse(event.Records[0].body) as Json;
      damage(envelope);
      event.Records[0].body = JSON.stringify(envelope);
      return event;
    };
    for (const event of [fifo((e) => void (e.TopicArn = 'arn:aws:sns:eu-west-1:210987654321:orders-topic')), fifo((e) => void delete e.SequenceNumber), fifo((e) => void delete e.UnsubscribeURL)]) {
      const { seen } = await allEntries(event);
      expect(seen[0]!.input).toMatchObject({ Type: 'Notification' });
      expect(seen[0]!.ctx.deliveryId).toBe('9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b');
    }
  });

  it("snsEnvelope: 'keep' hands the body over as it is (the envelope), with the SQS message's id and attributes", async () => {
    const { seen, fn } = recorder();
    await handler({ snsEnvelope: 'keep' }, fn).aws(published('aws', ENVELOPE_FIXTURE), lambdaContext());
    expect(seen[0]!.input).toMatchObject({ Type: 'Notification', MessageId: SNS_ID, Message: '{"orderId": "o-sns1", "quantity": 2}' });
    expect(seen[0]!.ctx.trigger).not.toHaveProperty('sns');
    expect(seen[0]!.ctx.trigger).toMatchObject({ attributes: {} });
    expect(seen[0]!.ctx.deliveryId).toBe(SQS_ID);
    expect(() => handler({ snsEnvelope: 'raw' as never }, () => 1)).toThrow(/snsEnvelope/);
  });

  it('an SQS attribute and an SNS attribute of one name: the SNS one wins, in one map only', async () => {
    const event = published('aws', ENVELOPE_FIXTURE);
    event.Records[0].messageAttributes = {
      digest: { stringValue: 'sqs-text', stringListValues: [], binaryListValues: [], dataType: 'String' },
      orderType: { binaryValue: 'AQI=', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      tenant: { stringValue: 'acme', stringListValues: [], binaryListValues: [], dataType: 'String' },
    };
    const { seen } = await allEntries(event);
    const t = seen[0]!.ctx.trigger as Json;
    expect(t.attributes).toMatchObject({ orderType: 'order.created', tenant: 'acme' });
    expect(Object.hasOwn(t.attributes, 'digest')).toBe(false);
    expect(t.binaryAttributes).toEqual({ digest: Buffer.from([0x00, 0xff, 0xfe, 0x7f]) });
    expect(t.attributeTypes).toMatchObject({ orderType: 'String', digest: 'Binary', tenant: 'String' });
  });

  it('a malformed envelope part fails that message alone with MALFORMED_EVENT naming the member; the others run', async () => {
    for (const [damage, field, expected] of [
      [(e: Json) => (e.MessageAttributes.digest.Value = 'not base64!'), 'Records.0.body.MessageAttributes.digest.Value', 'base64'],
      [(e: Json) => (e.MessageAttributes.orderType = 'order.created'), 'Records.0.body.MessageAttributes.orderType', 'an SNS message attribute'],
      [(e: Json) => (e.MessageAttributes = ['x']), 'Records.0.body.MessageAttributes', 'an object of SNS message attributes'],
      [(e: Json) => (e.TopicArn = 'orders-topic'), 'Records.0.body.TopicArn', 'arn:'],
      [(e: Json) => (e.Timestamp = 'yesterday'), 'Records.0.body.Timestamp', 'ISO 8601'],
      [(e: Json) => (e.Subject = 42), 'Records.0.body.Subject', 'a string or null'],
      [(e: Json) => (e.MessageId = ''), 'Records.0.body.MessageId', 'the SNS message id'],
    ] as const) {
      const bad = withEnvelope(0, damage);
      let error: Json | undefined;
      const plugin = { name: 'catch', onError: (_ctx: unknown, e: unknown) => void (error = e as Json) };
      const { seen, fn } = recorder();
      const answer = await handler({ logSink: () => undefined, use: [plugin] }, fn).aws(bad, lambdaContext());
      expect(answer, field).toEqual({ batchItemFailures: [{ itemIdentifier: SQS_ID }] });
      expect(seen.map((s) => s.ctx.trigger.kind === 'queue' && s.ctx.trigger.messageId), field).not.toContain(SQS_ID);
      expect(seen, field).toHaveLength(3);
      expect(error, field).toMatchObject({ code: 'MALFORMED_EVENT' });
      expect(error!.issues, field).toEqual([expect.objectContaining({ field, expected: expect.stringContaining(expected) })]);
    }
  });

  it('an S3 notification inside the SNS envelope inside SQS is a storage trigger via sns-sqs', async () => {
    const event = published('aws', ENVELOPE_FIXTURE);
    const s3Body = published('aws', 's3-keys.json');
    event.Records = [withEnvelope(1, (e) => (e.Message = JSON.stringify(s3Body))).Records[1]];
    const { seen } = await allEntries(event);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.ctx.trigger).toMatchObject({ kind: 'storage', source: 's3', via: 'sns-sqs' });
  });
});

describe('SNS', () => {
  it('a notification: the message text kept exact, attributes as text, a null Subject left out', async () => {
    const { seen } = await allEntries(published('aws', 'sns.json'));
    expect(seen[0]!.input).toBe('12345678901234567890');
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'notification',
      source: 'sns',
      topic: 'arn:aws:sns:eu-west-1:210987654321:alerts',
      messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      type: 'Notification',
      time: '2025-03-02T12:00:00.000Z',
      attributes: { level: 'warn', n: '3' },
      attributeTypes: { level: 'String', n: 'Number' },
      batchIndex: 0,
      batchSize: 1,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('95df01b4-ee98-5cb9-9903-4c221d41eb5e');
  });

  it('typed message attributes: String, String.Array and Number as their exact text, Binary as bytes, types kept', async () => {
    const { seen } = await allEntries(published('aws', 'sns-typed-attributes.json'));
    expect(seen[0]!.input).toEqual({ alert: 'disk' });
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'notification',
      source: 'sns',
      topic: 'arn:aws:sns:eu-west-1:210987654321:alerts',
      messageId: 'a7c0e2d4-1b3f-5e6a-8c9d-0e1f2a3b4c5d',
      type: 'Notification',
      subject: 'disk alert',
      time: '2025-03-02T12:05:00.000Z',
      attributes: { level: 'warn', hosts: '["web-1","web-2",7,true]', threshold: '9007199254740993' },
      binaryAttributes: { signature: Buffer.from([0x00, 0xff, 0xfe, 0x7f]) },
      attributeTypes: { level: 'String', hosts: 'String.Array', threshold: 'Number', signature: 'Binary' },
      batchIndex: 0,
      batchSize: 1,
    });
  });

  it('a malformed attribute is a thrown MALFORMED_EVENT naming the field', async () => {
    for (const [damage, field] of [
      [(a: Json) => (a.signature.Value = 'AP/+fw=!'), 'Records.0.Sns.MessageAttributes.signature.Value'],
      [(a: Json) => (a.level = 'warn'), 'Records.0.Sns.MessageAttributes.level'],
      [(a: Json) => (a.threshold.Value = 3), 'Records.0.Sns.MessageAttributes.threshold.Value'],
      [(a: Json) => delete a.level.Type, 'Records.0.Sns.MessageAttributes.level.Type'],
    ] as const) {
      const event = published('aws', 'sns-typed-attributes.json');
      damage(event.Records[0].Sns.MessageAttributes);
      const error = (await allEntriesReject(event, () => undefined)) as Error & { code?: string; errors?: Json[] };
      expect(error.code, field).toBe('MALFORMED_EVENT');
      expect(error.errors, field).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('a failure is thrown so SNS retries', async () => {
    const error = await allEntriesReject(published('aws', 'sns.json'), () => {
      throw new Error('down');
    });
    expect(error.code).toBe('INTERNAL');
  });
});

describe('S3 notifications', () => {
  it('keys decoded (unicode, spaces as +, %2B as a plus, %25/%3F/%23), sizes as numbers, ops from eventName', async () => {
    const { seen } = await allEntries(published('aws', 's3-keys.json'));
    expect(seen.map((s) => s.input)).toEqual([
      { op: 'created', bucket: 'media-in', key: 'résumés/Jane Doe + Co+.pdf', size: 1048576, etag: '9b2cf535f27731c974343645a3985328', versionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd', time: '2025-03-02T12:30:00.000Z' },
      { op: 'deleted', bucket: 'media-in', key: 'a%b?c#d', versionId: '4IL5lruKmdqYspEUEnkWCI51Oskgle', time: '2025-03-02T12:31:00.000Z' },
    ]);
    expect(seen[1]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 's3', op: 'deleted', eventType: 'ObjectRemoved:DeleteMarkerCreated', key: 'a%b?c#d' });
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['media-in/résumés/Jane Doe + Co+.pdf@0067C44F9D1E2A3B4C', 'media-in/a%b?c#d@0067C44FDA00000000']);
  });

  it('an EventBridge Object Created event: the key as sent, via eventbridge', async () => {
    const { seen } = await allEntries(published('aws', 'eventbridge-s3-created.json'));
    expect(seen[0]!.input).toEqual({ op: 'created', bucket: 'media-in', key: 'photos/summer 2024.jpg', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184', versionId: 'IYV3p45BhZA7F0W7Bm1YBjKYhUyS0f8P', time: '2025-03-02T12:40:00Z' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', via: 'eventbridge', eventType: 'Object Created' });
    expect(seen[0]!.ctx.deliveryId).toBe('media-in/photos/summer 2024.jpg@00617F08299329D189');
  });
});

describe('EventBridge schedules', () => {
  it('a scheduled rule tick is named by rule and time', async () => {
    const { seen } = await allEntries(published('aws', 'eventbridge-scheduled.json'));
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'schedule', source: 'eventbridge', scheduledTime: '2025-03-02T03:00:00Z', schedule: 'arn:aws:events:eu-west-1:210987654321:rule/nightly' });
    expect(seen[0]!.ctx.deliveryId).toBe('arn:aws:events:eu-west-1:210987654321:rule/nightly@2025-03-02T03:00:00Z');
    expect(seen[0]!.input).toEqual({});
  });
});

describe('DynamoDB Streams', () => {
  it('unmarshals every attribute type, keeps big numbers exact, stops at the first failure', async () => {
    const { seen, answer } = await allEntries(published('aws', 'dynamodb-stream.json'), (input) => {
      if ((input as Json).name === 'Grace H') throw new Error('cannot index');
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.input).toEqual({
      pk: 'user#1',
      sk: '9007199254740993',
      name: 'Ada',
      score: 1.5,
      tags: ['a', 'b'],
      blob: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      meta: { ok: true, gone: null, list: [1, 'x'] },
    });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'dynamodb-streams', collection: 'Users', op: 'insert', key: { pk: 'user#1', sk: '9007199254740993' }, sequence: '111100000000000000000001', time: '2025-03-02T12:53:20.000Z' });
    expect(seen[1]!.ctx.trigger).toMatchObject({ op: 'update', before: { pk: 'user#2', sk: 1, name: 'Grace' }, time: '2025-03-02T12:53:21.500Z' });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '222200000000000000000002' }] });
  });

  it('a TTL removal gives the old image; KEYS_ONLY gives the key', async () => {
    const removed = (await allEntries(published('aws', 'dynamodb-stream.json'))).seen[2]!;
    expect(removed.ctx.trigger).toMatchObject({ op: 'delete', key: { pk: 'user#3', sk: 1 } });
    expect(removed.input).toEqual({ pk: 'user#3', sk: 1, ttl: 1740919999 });
    const { seen, answer } = await allEntries(published('aws', 'dynamodb-keys-only.json'));
    expect(seen[0]!.input).toEqual({ id: 'k-1' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ op: 'update', collection: 'Sessions', sequence: '444400000000000000000004' });
    expect(seen[0]!.ctx.trigger).not.toHaveProperty('before');
    expect(answer).toEqual({ batchItemFailures: [] });
  });
});

describe('Kinesis Data Streams', () => {
  it('float arrival timestamps, bytes that are not UTF-8 as a Buffer, the first failure reported and later records not run', async () => {
    const { seen, answer } = await allEntries(published('aws', 'kinesis.json'), failWhenAsked);
    expect(seen).toHaveLength(3);
    expect(seen[0]!.input).toEqual({ n: 1 });
    expect(seen[1]!.input).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'stream',
      source: 'kinesis',
      stream: 'clicks',
      partition: 'shardId-000000000006',
      sequence: '49590338271490256608559692538361571095921575989136588898',
      key: 'pk-1',
      time: '2025-03-02T13:10:00.428Z',
      attributes: {},
      batchIndex: 0,
      batchSize: 4,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('arn:aws:kinesis:eu-west-1:210987654321:stream/clicks/shardId-000000000006:49590338271490256608559692538361571095921575989136588898');
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49590338271490256608559692541000000000000000000000000001' }] });
  });

  it('a tumbling-window batch runs whole as direct (the answer carries the window state), logged with its shape', async () => {
    const { seen, answer, lines } = await allEntries(published('aws', 'kinesis-tumbling-window.json'), (input) => ({ state: (input as Json).state, batchItemFailures: [] }));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: 'Kinesis or DynamoDB Streams tumbling window' });
    expect(answer).toEqual({ state: { count: '4' }, batchItemFailures: [] });
    expect(lines.some((l) => l.level === 'warn' && l.shape === 'Kinesis or DynamoDB Streams tumbling window')).toBe(true);
  });
});

describe('Kafka (Amazon MSK, self-managed)', () => {
  it('records of every partition in order: keys decoded (base64 kept when not UTF-8), headers as text, tombstones as null', async () => {
    const { seen } = await allEntries(published('aws', 'msk.json'));
    // Scoped by the cluster (MSK: eventSourceArn): the same topic, partition and offset on another cluster is another record.
    const cluster = 'arn:aws:kafka:eu-west-1:210987654321:cluster/events/e9f754c6-d29a-4430-a7db-958a19fd2c54-4';
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['payments/0/15', 'payments/0/16', 'payments/1/3'].map((id) => `${cluster}/${id}`));
    expect(seen.map((s) => s.input)).toEqual([{ amount: 12.5 }, 'hello', null]);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'stream',
      source: 'kafka',
      stream: 'payments',
      partition: '0',
      sequence: '15',
      key: 'cust-42',
      time: '2025-03-02T13:26:40.123Z',
      attributes: { source: 'web, app' },
      // Every header in the order the record carries them, exact bytes (the key repeats).
      headers: [
        { key: 'source', value: Buffer.from('web') },
        { key: 'source', value: Buffer.from('app') },
      ],
      batchIndex: 0,
      batchSize: 3,
    });
    // A record without headers has no list.
    expect(seen[1]!.ctx.trigger).not.toHaveProperty('headers');
    expect(seen[1]!.ctx.trigger).not.toHaveProperty('key');
    expect(seen[2]!.ctx.trigger).toMatchObject({ key: '/w==', partition: '1', sequence: '3' });
  });

  it('a header whose bytes are not UTF-8 is kept as bytes in binaryAttributes, the UTF-8 ones stay text', async () => {
    const event = published('aws', 'msk.json');
    // Header values are byte arrays; Java's signed bytes arrive negative (0xff = -1).
    event.records['payments-0'][0].headers.push({ digest: [0, -1, 254, 127] }, { digest: [1] }, { lang: [101, 110] });
    const { seen } = await allEntries(event);
    expect(seen[0]!.ctx.trigger).toMatchObject({
      attributes: { source: 'web, app', lang: 'en' },
      // Bytes cannot be joined: a repeated binary header's last value, as Kafka's Headers.lastHeader().
      binaryAttributes: { digest: Buffer.from([0x01]) },
      // Every value of every header, in order, exact bytes.
      headers: [
        { key: 'source', value: Buffer.from('web') },
        { key: 'source', value: Buffer.from('app') },
        { key: 'digest', value: Buffer.from([0x00, 0xff, 0xfe, 0x7f]) },
        { key: 'digest', value: Buffer.from([0x01]) },
        { key: 'lang', value: Buffer.from('en') },
      ],
    });
    expect(seen[0]!.ctx.trigger).not.toHaveProperty('attributeTypes');
    expect(seen[1]!.ctx.trigger).not.toHaveProperty('binaryAttributes');
  });

  it('the same topic, partition and offset from two clusters are two deliveries', async () => {
    const a = published('aws', 'msk.json');
    const b = published('aws', 'msk.json');
    b.eventSourceArn = 'arn:aws:kafka:eu-west-1:210987654321:cluster/events-dr/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e-2';
    const selfManaged: Json = { ...published('aws', 'msk.json'), eventSource: 'SelfManagedKafka', bootstrapServers: 'kafka-dr-1.internal:9092' };
    delete selfManaged.eventSourceArn;
    const ids = [] as Array<string | undefined>;
    for (const event of [a, b, selfManaged]) ids.push((await allEntries(event)).seen[0]!.ctx.deliveryId);
    expect(new Set(ids).size).toBe(3);
    expect(ids[2]).toBe('kafka-dr-1.internal:9092/payments/0/15');
  });

  it('self-managed Kafka; a failure is thrown so Lambda retries the batch', async () => {
    const { seen } = await allEntries(published('aws', 'self-managed-kafka.json'));
    // Self-managed Kafka has no ARN: scoped by the mapping's bootstrapServers.
    expect(seen[0]!.ctx.deliveryId).toBe('kafka-1.internal:9092,kafka-2.internal:9092/audit/7/1234567');
    expect(seen[0]!.ctx.trigger).toMatchObject({ key: 'a', attributes: { traceparent: '00' } });
    const error = await allEntriesReject(published('aws', 'self-managed-kafka.json'), () => {
      throw new Error('down');
    });
    expect(error.code).toBe('INTERNAL');
  });
});

describe('events the wrapper does not normalise', () => {
  const shapes: Record<string, string> = {
    'kinesis-firehose': 'Kinesis Data Firehose transformation',
    'cloudwatch-logs': 'CloudWatch Logs subscription (awslogs)',
    'cognito-pre-signup': 'Cognito user pool trigger',
    ses: 'Records of aws:ses',
    codecommit: 'Records of aws:codecommit',
    'config-rule': 'AWS Config rule',
    'iot-custom-authorizer': 'IoT custom authorizer',
    'lex-v2': 'Lex bot',
    connect: 'Amazon Connect contact flow',
    cloudfront: 'CloudFront Lambda@Edge',
    's3-batch': 'S3 Batch Operations',
    cloudformation: 'CloudFormation custom resource',
    'secrets-rotation': 'Secrets Manager rotation',
    activemq: 'Amazon MQ',
    rabbitmq: 'Amazon MQ',
    'appsync-resolver': 'AppSync resolver',
    'appsync-authorizer': 'AppSync Lambda authorizer',
    alexa: 'Alexa skill',
    'lambda-destination': 'Lambda destination record',
    'cloudwatch-alarm': 'CloudWatch alarm action',
    'kinesis-analytics-output': 'Kinesis Data Analytics output',
  };
  const all = published('aws', 'unrecognised.json');
  it.each(Object.keys(shapes))('%s runs as direct with the whole event as input, its shape named in a warn line', async (name) => {
    const event = all[name] as Json;
    const { seen, answer, lines } = await allEntries(event, (input) => ({ echoed: Object.keys(input as Json).length }));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.input).toEqual(event);
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: shapes[name] });
    expect(answer).toEqual({ echoed: Object.keys(event).length });
    const warn = lines.find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ msg: 'event not recognised; running it as a direct invocation', shape: shapes[name] });
  });
});
