/**
 * The Lambda adapter with the event sources of data-sync and glue workflows, in the shapes
 * Lambda documents for them (fixtures written after the published samples: S3, SNS, SQS,
 * EventBridge, DynamoDB Streams, Kinesis, Amazon MSK / self-managed Kafka, API Gateway
 * authorizers and WebSocket APIs). The Lambda runtime itself runs a stream batch in
 * test/runtimes/lambda.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allow, authorized, deny, handler, TerminalError, type Context, type Plugin, type StorageObject } from '../index.js';
import { expectPublicError } from '../../test/support/fuzz.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = (id = 'req-1') => ({ awsRequestId: id, functionName: 'glue', getRemainingTimeInMillis: () => 30_000 });

function recorder(result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => (seen.push({ input, ctx }), result(input, ctx)) };
}

function logs() {
  const lines: Json[] = [];
  return { lines, logSink: (line: string) => void lines.push(JSON.parse(line) as Json) };
}

const photo: StorageObject = {
  op: 'created',
  bucket: 'photos',
  key: '2025/summer photo (1).jpg',
  size: 48213,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
  time: '2025-03-14T10:02:11.204Z',
};

describe('S3 notifications', () => {
  it('runs a direct S3 event as a storage trigger with the key form-decoded', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('s3-put.json'), lambdaContext());
    expect(seen[0]!.input).toEqual(photo);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'storage',
      source: 's3',
      op: 'created',
      eventType: 'ObjectCreated:Put',
      bucket: 'photos',
      key: '2025/summer photo (1).jpg',
      size: 48213,
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      batchIndex: 0,
      batchSize: 1,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('photos/2025/summer photo (1).jpg@0062E99A88DC407460');
  });

  it('decodes %2B as a plus and + as a space in a deleted key', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('s3-delete.json'), lambdaContext());
    expect(seen[0]!.input).toMatchObject({ op: 'deleted', bucket: 'photos', key: '2025/old report+1.pdf' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', op: 'deleted', eventType: 'ObjectRemoved:Delete' });
  });

  it('unwraps the same upload from SNS, from SQS (acknowledging the S3 test event) and from EventBridge, with one delivery id', async () => {
    const { seen, fn } = recorder();
    const main = handler({}, fn);
    await main.aws(fixture('sns-s3.json'), lambdaContext());
    expect(await main.aws(fixture('sqs-s3.json'), lambdaContext())).toEqual({ batchItemFailures: [] });
    await main.aws(fixture('eventbridge-s3-object-created.json'), lambdaContext());
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => (s.ctx.trigger.kind === 'storage' ? s.ctx.trigger.via : undefined))).toEqual(['sns', 'sqs', 'eventbridge']);
    for (const s of seen) expect(s.input).toMatchObject({ op: 'created', bucket: 'photos', key: '2025/summer photo (1).jpg', size: 48213 });
    expect(new Set(seen.map((s) => s.ctx.deliveryId))).toEqual(new Set(['photos/2025/summer photo (1).jpg@0062E99A88DC407460']));
  });

  it('reports the SQS message of a failed S3 change in batchItemFailures', async () => {
    const main = handler({}, () => {
      throw new Error('thumbnail failed');
    });
    const event = fixture('sqs-s3.json');
    expect(await main.aws(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });

  it('reads an EventBridge Object Deleted event, whose key is not encoded', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('eventbridge-s3-object-deleted.json'), lambdaContext());
    expect(seen[0]!.input).toEqual({ op: 'deleted', bucket: 'photos', key: '2025/old report+1.pdf', versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e', time: '2025-03-14T10:02:11Z' });
  });

  it('throws a failed direct S3 event so Lambda retries it asynchronously', async () => {
    const main = handler({}, () => {
      throw new TerminalError('CORRUPT_IMAGE', 'Not an image');
    });
    const thrown = await main.aws(fixture('s3-put.json'), lambdaContext()).catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['CORRUPT_IMAGE']) });
  });
});

describe('SNS notifications', () => {
  it('runs each record as a notification with the message as input, attributes as text and their declared types', async () => {
    const { seen, fn } = recorder();
    await handler({ input: z.object({ orderId: z.string(), status: z.string() }) }, fn).aws(fixture('sns-notification.json'), lambdaContext());
    expect(seen[0]!.input).toEqual({ orderId: 'o-7001', status: 'shipped' });
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'notification',
      source: 'sns',
      topic: 'arn:aws:sns:eu-west-1:123456789012:uploads',
      messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      type: 'Notification',
      subject: 'order shipped',
      time: '2025-03-14T10:02:11.512Z',
      attributes: { region: 'eu', priority: '2' },
      attributeTypes: { region: 'String', priority: 'Number' },
      batchIndex: 0,
      batchSize: 1,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('95df01b4-ee98-5cb9-9903-4c221d41eb5e');
  });
});

describe('DynamoDB Streams', () => {
  it('unmarshals images to plain JSON, with before images and keys, one call per record in order', async () => {
    const { seen, fn } = recorder();
    const result = await handler({}, fn).aws(fixture('dynamodb-streams-batch.json'), lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => (s.ctx.trigger.kind === 'change' ? s.ctx.trigger.op : ''))).toEqual(['insert', 'update', 'delete']);
    const inserted = seen[0]!.input as Json;
    expect(inserted).toEqual({
      orderId: 'o-42',
      status: 'placed',
      total: 19.99,
      items: [{ sku: 'sku-1', qty: 2 }],
      tags: ['gift', 'express'],
      // Beyond 2^53: kept as its exact text rather than rounded.
      big: '12345678901234567890',
      thumb: Buffer.from([0xff, 0xfe, 0x00, 0x80]),
      notes: null,
      paid: false,
    });
    const updated = seen[1]!.ctx.trigger;
    expect(updated).toMatchObject({ kind: 'change', source: 'dynamodb-streams', collection: 'Orders', op: 'update', key: { orderId: 'o-42' }, sequence: '222200000000017564138555', time: '2025-03-14T10:02:11.000Z' });
    expect(updated.kind === 'change' && updated.before).toMatchObject({ status: 'placed' });
    expect(seen[1]!.input).toMatchObject({ status: 'shipped', paid: true });
    // A delete delivers the record as it was.
    expect(seen[2]!.input).toMatchObject({ orderId: 'o-42', status: 'shipped' });
    // Scoped by the stream: sequence numbers are unique only inside one table's stream.
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['111100000000017564138432', '222200000000017564138555', '333300000000017564138678'].map((n) => `arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2025-03-14T09:12:45.311/${n}`));
    expect(seen.map((s) => s.ctx.requestId)).toEqual(seen.map((s) => `req-1:${s.ctx.deliveryId}`));
  });

  it('answers the sequence number of the first failure and does not run the records after it', async () => {
    const { seen, fn } = recorder((input) => {
      if ((input as Json).status === 'shipped' && (input as Json).paid === true) throw new Error('index down');
    });
    const result = await handler({}, fn).aws(fixture('dynamodb-streams-batch.json'), lambdaContext());
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '222200000000017564138555' }] });
    expect(seen).toHaveLength(2);
  });

  it('runs beforeBatch/afterBatch once for the batch with every record validated', async () => {
    const calls: string[] = [];
    const batch: Plugin = {
      name: 'batch',
      beforeBatch: (ctxs) => void calls.push(`before:${ctxs.map((c) => (c.trigger.kind === 'change' ? c.trigger.sequence : '')).join(',')}`),
      afterBatch: (_ctxs, outcomes) => void calls.push(`after:${outcomes.map((o) => o.ok).join(',')}`),
    };
    const main = handler({ use: [batch] }, () => 'ok');
    await main.aws(fixture('dynamodb-streams-batch.json'), lambdaContext());
    expect(calls).toEqual(['before:111100000000017564138432,222200000000017564138555,333300000000017564138678', 'after:true,true,true']);
  });
});

describe('Kinesis', () => {
  it('gives JSON values parsed, a big number as text, and bytes that are not UTF-8 as a Buffer', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('kinesis-batch.json'), lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-42', quantity: 2 }, '12345678901234567890', Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'stream',
      source: 'kinesis',
      stream: 'orders',
      partition: 'shardId-000000000006',
      sequence: '49590338271490256608559692538361571095921575989136588898',
      key: 'o-42',
      time: '2025-03-14T10:02:11.428Z',
      attributes: {},
      batchIndex: 0,
      batchSize: 3,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('arn:aws:kinesis:eu-west-1:123456789012:stream/orders/shardId-000000000006:49590338271490256608559692538361571095921575989136588898');
  });

  it('stops at the first failure of the shard and names its sequence number', async () => {
    const { seen, fn } = recorder((input) => {
      if (input === '12345678901234567890') throw new Error('boom');
    });
    const event = fixture('kinesis-batch.json');
    expect(await handler({}, fn).aws(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1].kinesis.sequenceNumber }] });
    expect(seen).toHaveLength(2);
  });

  it('acknowledges a terminal failure with terminalErrors ack and goes on', async () => {
    const { seen, fn } = recorder((input) => {
      if (input === '12345678901234567890') throw new TerminalError('BAD', 'bad record');
    });
    expect(await handler({ terminalErrors: 'ack' }, fn).aws(fixture('kinesis-batch.json'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toHaveLength(3);
  });

  it('fails the whole batch with MALFORMED_EVENT when a record has no sequence number', async () => {
    const event = fixture('kinesis-batch.json');
    delete event.Records[1].kinesis.sequenceNumber;
    const thrown = await handler({}, () => 'x').aws(event, lambdaContext()).catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['MALFORMED_EVENT']) });
  });
});

describe('Kafka (Amazon MSK, self-managed)', () => {
  it('runs records in partition order with key, headers, and lossless values', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('msk-batch.json'), lambdaContext());
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-42', quantity: 2 }, '89e7073266', Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    expect(seen[0]!.ctx.trigger).toMatchObject({
      kind: 'stream',
      source: 'kafka',
      stream: 'orders',
      partition: '0',
      sequence: '15',
      key: 'o-42',
      attributes: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    // A key that is not UTF-8 stays base64.
    expect(seen[2]!.ctx.trigger.kind === 'stream' && seen[2]!.ctx.trigger.key).toBe('/gE=');
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual(['orders/0/15', 'orders/0/16', 'orders/0/17'].map((id) => `arn:aws:kafka:eu-west-1:123456789012:cluster/orders-cluster/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE-1/${id}`));
  });

  it('throws the first failure (after stopping the partition) so Lambda retries the batch', async () => {
    const { seen, fn } = recorder((input) => {
      if (input === '89e7073266') throw new Error('boom');
    });
    const thrown = await handler({}, fn).aws(fixture('msk-batch.json'), lambdaContext()).catch((e: unknown) => e);
    expectPublicError(thrown, { codes: new Set(['INTERNAL']) });
    expect(seen).toHaveLength(2);
  });

  it('with kafkaBatchItemFailures, names the first failed record of each partition by { partition: "<topic>-<partition>", offset }, and runs nothing after it', async () => {
    const event = fixture('msk-batch.json');
    const other = { ...event.records['orders-0'][0], partition: 1, offset: 7, value: Buffer.from('{"orderId":"o-7"}').toString('base64') };
    event.records['orders-1'] = [other];
    const { seen, fn } = recorder((input) => {
      if (input === '89e7073266') throw new Error('boom');
    });
    expect(await handler({ kafkaBatchItemFailures: true }, fn).aws(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 16 } }, { itemIdentifier: { partition: 'orders-1', offset: 7 } }],
    });
    expect(seen).toHaveLength(2);
    // All succeeded: an empty list, which Lambda reads as a complete success.
    expect(await handler({ kafkaBatchItemFailures: true }, () => undefined).aws(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(() => handler({ kafkaBatchItemFailures: 'yes' as never }, () => 1)).toThrow(/kafkaBatchItemFailures/);
  });

  it('reads self-managed Kafka the same way', async () => {
    const { seen, fn } = recorder();
    await handler({}, fn).aws(fixture('self-managed-kafka-batch.json'), lambdaContext());
    expect(seen[0]!.input).toEqual({ paymentId: 'p-1' });
    expect(seen[0]!.ctx.deliveryId).toBe('kafka-1.internal:9092,kafka-2.internal:9092/payments/3/4831');
  });
});

describe('API Gateway authorizers', () => {
  it('answers a TOKEN authorizer with an IAM policy, never as HTTP', async () => {
    const main = handler({}, (input: any, ctx) => {
      expect(ctx.trigger).toEqual({ kind: 'authorizer', source: 'apigw-token', resource: fixture('apigw-authorizer-token.json').methodArn });
      return input.token === 'Bearer allow-7f3a' ? allow('user-7', { context: { tier: 'gold', admin: false } }) : deny('anonymous');
    });
    expect(await main.aws(fixture('apigw-authorizer-token.json'), lambdaContext())).toEqual({
      principalId: 'user-7',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders'] }],
      },
      context: { tier: 'gold', admin: false },
    });
  });

  it('reads a REQUEST (v1) authorizer event, classified before HTTP, with cookies joined by "; "', async () => {
    const { seen, fn } = recorder(() => deny('user-7', { resource: 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*' }));
    const answer = (await handler({}, fn).aws(fixture('apigw-authorizer-request-v1.json'), lambdaContext())) as Json;
    expect(answer.policyDocument.Statement[0]).toEqual({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ['arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*'] });
    expect(seen[0]!.input).toMatchObject({
      type: 'REQUEST',
      method: 'GET',
      path: '/orders/42',
      headers: { authorization: 'Bearer allow-7f3a', cookie: 'session=s1; theme=dark' },
      query: { expand: 'items' },
      pathParameters: { id: '42' },
      stageVariables: { tier: 'gold' },
    });
  });

  it('answers an HTTP API (v2) authorizer with a simple response, or a boolean', async () => {
    const main = handler({}, (input: any) => authorized(input.identitySource[0] === 'Bearer allow-7f3a', { user: 'u-7' }));
    expect(await main.aws(fixture('apigw-authorizer-request-v2.json'), lambdaContext())).toEqual({ isAuthorized: true, context: { user: 'u-7' } });
    expect(await handler({}, () => false).aws(fixture('apigw-authorizer-request-v2.json'), lambdaContext())).toEqual({ isAuthorized: false });
  });

  it('throws exactly "Unauthorized" for a rejected caller (API Gateway answers 401) and a typed error for a result that is no answer', async () => {
    const rejected = await handler({ input: z.object({ token: z.string().startsWith('Bearer ok') }) }, () => true)
      .aws(fixture('apigw-authorizer-token.json'), lambdaContext())
      .catch((e: unknown) => e);
    expect(rejected).toMatchObject({ message: 'Unauthorized', stack: 'Unauthorized' });
    const wrong = await handler({}, () => ({ statusCode: 200 })).aws(fixture('apigw-authorizer-token.json'), lambdaContext()).catch((e: unknown) => e);
    expectPublicError(wrong, { codes: new Set(['AUTHORIZER_RESULT_INVALID']) });
  });
});

describe('WebSocket APIs', () => {
  it('classifies connect and message routes as http with the route and connection', async () => {
    const { seen, fn } = recorder(() => 'ok');
    const main = handler({}, fn);
    const connected = (await main.aws(fixture('websocket-connect.json'), lambdaContext())) as Json;
    expect(connected.statusCode).toBe(200);
    await main.aws(fixture('websocket-message.json'), lambdaContext());
    expect(seen[0]!.ctx.trigger).toMatchObject({
      kind: 'http',
      source: 'apigw-websocket',
      request: { method: 'CONNECT', path: '$connect', headers: { cookie: 'session=s1; theme=dark' } },
      websocket: { connectionId: 'Gx1AbcD3oAMCJsg=', eventType: 'CONNECT', routeKey: '$connect', stage: 'prod' },
    });
    expect(seen[0]!.input).toEqual({ room: 'lobby' });
    expect(seen[1]!.input).toEqual({ action: 'sendMessage', text: 'hello' });
    expect(seen[1]!.ctx.trigger).toMatchObject({ request: { method: 'MESSAGE', path: 'sendMessage' } });
  });
});

describe('unrecognised events', () => {
  it('run as direct, and the log line names the shape', async () => {
    const { lines, logSink } = logs();
    const { seen, fn } = recorder();
    const ses = { Records: [{ eventSource: 'aws:ses', eventVersion: '1.0', ses: { mail: {}, receipt: {} } }] };
    await handler({ logSink, logLevel: 'info' }, fn).aws(ses, lambdaContext());
    expect(seen[0]!.ctx.trigger).toEqual({ kind: 'direct', source: 'lambda-invoke', unrecognised: 'Records of aws:ses' });
    expect(lines.find((l) => l.msg === 'event not recognised; running it as a direct invocation')).toMatchObject({ shape: 'Records of aws:ses', level: 'warn' });
  });
});
