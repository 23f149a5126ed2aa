/**
 * `@steadyfn/handler/schemas` against what every provider's adapter produces: each provider
 * fixture of a trigger kind is delivered through its real runtime (the Lambda adapter, the
 * `@azure/functions` objects, the Functions Framework test server, the OpenWhisk action
 * contract) once to a function without a schema and once to one with the kind's schema; the
 * schema must accept every record and hand over the same value. Then what it refuses: other
 * triggers carrying the same-looking payload, and other shapes, as `VALIDATION_FAILED`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { trigger as azureTrigger, type FunctionTrigger } from '@azure/functions';
import { z, type ZodType } from 'zod';
import { invocationContext } from '../test/support/azure.js';
import { closeServers, serve, serveBackground } from '../test/support/gcp-server.js';
import { lambdaContext, recorder, type Json } from '../test/support/published.js';
import { allow, handler, ValidationError, type AuthorizerRequest, type ChangeTrigger, type StorageObject, type Plugin, type StorageTrigger, type Trigger, type TriggerKind } from './index.js';
import { authorizerRequest, changeRecord, notification, queueMessage, storageObject, streamRecord } from './schemas.js';

afterAll(closeServers);

type Provider = 'aws' | 'azure' | 'gcp' | 'openwhisk';
const read = (provider: Provider, name: string): Json => JSON.parse(readFileSync(new URL(`../test/fixtures/${provider}/${name}`, import.meta.url), 'utf8')) as Json;
const silent = { logSink: () => undefined };
type Main = ReturnType<typeof handler>;

/** One provider event, delivered to `main` the way its runtime delivers it; resolves to what the runtime got back. */
interface Delivery {
  name: string;
  run(main: Main): Promise<unknown>;
}

const aws = (name: string): Delivery => ({ name: `aws ${name}`, run: (main) => main.aws(read('aws', name), lambdaContext()) });
const openwhisk = (name: string): Delivery => ({ name: `openwhisk ${name}`, run: (main) => main.openwhisk(read('openwhisk', name)) });

/** An Azure fixture (`{ <input>, context }`) with the trigger options the library's `trigger.*` builders make. */
function azure(name: string, input: string, options: () => FunctionTrigger, decode: (value: unknown) => unknown = structuredClone): Delivery {
  return {
    name: `azure ${name}`,
    run: (main) => {
      const f = read('azure', name);
      return main.azure(decode(f[input]), invocationContext(f.context, options())).catch((error: { code?: string }) => ({ thrown: error.code }));
    },
  };
}

/** A Cloud Functions fixture posted to the real Functions Framework: as a CloudEvent function and as a background function. */
function gcp(name: string): Delivery[] {
  return (['cloudEvent', 'event'] as const).map((signature) => ({
    name: `gcp ${name} (${signature})`,
    run: async (main) => {
      const f = read('gcp', name);
      const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
      const binary = f.headers !== undefined && f.body !== undefined;
      const headers = binary ? (f.headers as Record<string, string>) : { 'content-type': typeof f.specversion === 'string' ? 'application/cloudevents+json' : 'application/json' };
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(binary ? f.body : f) });
      await res.arrayBuffer();
      return res.status;
    },
  }));
}

const blob = () => azureTrigger.storageBlob({ path: 'photos/{name}', connection: 'AzureWebJobsStorage' });
const eventGrid = () => azureTrigger.eventGrid({});
const cosmos = () => azureTrigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'shop', containerName: 'orders', createLeaseContainerIfNotExists: true });
const eventHub = () => azureTrigger.eventHub({ eventHubName: 'readings', connection: 'EventHubConnection', cardinality: 'many' });
const storageQueue = () => azureTrigger.storageQueue({ queueName: 'jobs', connection: 'AzureWebJobsStorage' });
const serviceBus = (cardinality: 'one' | 'many') => () => azureTrigger.serviceBusQueue({ queueName: 'payments', connection: 'ServiceBus', cardinality });

const cases: Array<{ kind: TriggerKind; schema: () => ZodType; answer?: () => unknown; deliveries: Delivery[] }> = [
  {
    kind: 'storage',
    schema: storageObject,
    deliveries: [
      ...['s3-put.json', 's3-delete.json', 'sns-s3.json', 'sqs-s3.json', 'eventbridge-s3-object-created.json', 'eventbridge-s3-object-deleted.json', 'published/s3-keys.json', 'published/eventbridge-s3-created.json'].map(aws),
      azure('blob-trigger.json', 'content', blob, (content) => Buffer.from(content as string, 'base64')),
      azure('event-grid-blob-created.json', 'event', eventGrid),
      azure('event-grid-cloudevent-blob-deleted.json', 'event', eventGrid),
      ...['storage-object-finalized.json', 'storage-object-deleted.json', 'storage-photo-finalized.json', 'published/storage-binary.json', 'published/legacy-storage-delete.json'].flatMap(gcp),
    ],
  },
  {
    kind: 'authorizer',
    schema: authorizerRequest,
    answer: () => allow('service-a'),
    deliveries: [
      'apigw-authorizer-token.json',
      'apigw-authorizer-request-v1.json',
      'apigw-authorizer-request-v2.json',
      'published/authorizer-token.json',
      'published/authorizer-request-v1.json',
      'published/authorizer-http-v1.json',
      'published/authorizer-http-v2.json',
    ].map(aws),
  },
  {
    kind: 'change',
    schema: changeRecord,
    deliveries: [
      ...['dynamodb-streams-batch.json', 'published/dynamodb-stream.json', 'published/dynamodb-keys-only.json'].map(aws),
      azure('cosmosdb-batch.json', 'documents', cosmos),
      azure('published/cosmos-latest.json', 'documents', cosmos),
      ...['firestore-document-written.json', 'rtdb-ref-written.json', 'published/firestore-json.json', 'published/legacy-firestore.json', 'published/legacy-rtdb.json'].flatMap(gcp),
      ...['cloudant-change.json', 'cloudant-change-bare.json', 'cloudant-change-deleted.json', 'published/cloudant-change.json'].map(openwhisk),
    ],
  },
  {
    kind: 'stream',
    schema: streamRecord,
    deliveries: [
      ...['kinesis-batch.json', 'msk-batch.json', 'self-managed-kafka-batch.json', 'published/kinesis.json', 'published/msk.json', 'published/self-managed-kafka.json'].map(aws),
      azure('event-hubs-batch.json', 'events', eventHub),
      ...['kafka-json.json', 'kafka-text.json', 'kafka-binary.json', 'published/kafka-feed.json'].map(openwhisk),
    ],
  },
  {
    kind: 'notification',
    schema: notification,
    deliveries: [
      ...['sns-notification.json', 'published/sns.json'].map(aws),
      azure('event-grid-custom.json', 'event', eventGrid),
      azure('published/event-grid-cloudevent.json', 'event', eventGrid),
    ],
  },
  {
    kind: 'queue',
    schema: queueMessage,
    deliveries: [
      ...['sqs-standard-batch.json', 'sqs-fifo-batch.json', 'published/sqs-fifo.json', 'published/sqs-no-attributes.json'].map(aws),
      azure('storage-queue-message.json', 'message', storageQueue),
      azure('published/storage-queue.json', 'message', storageQueue),
      azure('service-bus-message.json', 'message', serviceBus('one')),
      azure('published/service-bus-one.json', 'message', serviceBus('one')),
      azure('service-bus-batch.json', 'messages', serviceBus('many')),
      ...['pubsub-message-published.json', 'published/pubsub-structured.json', 'published/pubsub-binary.json', 'published/legacy-pubsub.json'].flatMap(gcp),
    ],
  },
];

describe.each(cases)('$kind: the schema accepts what every adapter produces', ({ kind, schema, answer, deliveries }) => {
  it.each(deliveries)('$name', async (delivery) => {
    const plain = recorder(answer);
    const typed = recorder(answer);
    const plainOutcome = await delivery.run(handler(silent, plain.fn));
    const typedOutcome = await delivery.run(handler({ input: schema(), ...silent }, typed.fn));
    // The fixture is of this kind through this adapter, and every record of it ran with the same value.
    expect(plain.seen.length).toBeGreaterThan(0);
    expect(plain.seen.map((s) => s.ctx.trigger.kind)).toEqual(plain.seen.map(() => kind));
    expect(typed.seen.map((s) => [s.input, s.ctx.trigger])).toEqual(plain.seen.map((s) => [s.input, s.ctx.trigger]));
    expect(typedOutcome).toEqual(plainOutcome);
  });
});

/** A storage object as a payload of some other trigger. */
const photo: StorageObject = { op: 'created', bucket: 'photos', key: '2025/summer photo (1).jpg', size: 48213, contentType: 'image/jpeg' };
const storageTrigger: StorageTrigger = { kind: 'storage', source: 's3', op: 'created', eventType: 'ObjectCreated:Put', bucket: 'photos', key: photo.key, batchIndex: 0, batchSize: 1 };

/** The issues of a rejected plain call (`main.invoke`), or a failure when it resolved. */
async function rejected(run: Promise<unknown>): Promise<{ code: string; errors: Json[] }> {
  const error = (await run.then(
    () => expect.fail('expected the call to be refused'),
    (e: unknown) => e,
  )) as { code: string; errors?: Json[] };
  return { code: error.code, errors: error.errors ?? [] };
}

describe('what a trigger schema refuses', () => {
  it('an SQS message whose body looks like a storage object: every message fails, the function never runs', async () => {
    const event = read('aws', 'sqs-standard-batch.json');
    for (const record of event.Records as Json[]) record.body = JSON.stringify(photo);
    const { seen, fn } = recorder();
    const outcome = await handler({ input: storageObject(), ...silent }, fn).aws(event, lambdaContext());
    expect(seen).toEqual([]);
    expect(outcome).toEqual({ batchItemFailures: (event.Records as Json[]).map((r) => ({ itemIdentifier: r.messageId })) });
  });

  it('an HTTP request with a storage object as its body: 400 naming the trigger it expected', async () => {
    const event = { ...read('aws', 'apigw-v2-post.json'), body: JSON.stringify(photo), isBase64Encoded: false };
    const { seen, fn } = recorder();
    const res = (await handler({ input: storageObject(), ...silent }, fn).aws(event, lambdaContext())) as Json;
    expect(seen).toEqual([]);
    expect(res.statusCode).toBe(400);
    const problem = JSON.parse(res.body as string) as Json;
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ field: '', message: 'Expected a storage event trigger; this invocation is an HTTP request (apigw-v2)', expected: 'storage trigger' }]);
  });

  it('in an Event Grid array, the blob event runs and the other event fails validation', async () => {
    const f = read('azure', 'published/event-grid-array.json');
    const { seen, fn } = recorder();
    const thrown = await handler({ input: storageObject(), ...silent }, fn)
      .azure(f.events, invocationContext(f.context, eventGrid()))
      .then(() => undefined, (e: { code?: string }) => e.code);
    expect(seen.map((s) => s.ctx.trigger.kind)).toEqual(['storage']);
    expect(thrown).toBe('VALIDATION_FAILED');
  });

  it('an S3 notification carried by SQS is a storage trigger, not a queue message', async () => {
    const event = read('aws', 'sqs-s3.json');
    const { seen, fn } = recorder();
    const outcome = await handler({ input: queueMessage(), ...silent }, fn).aws(event, lambdaContext());
    expect(seen).toEqual([]);
    expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });

  it('a DynamoDB record the record schema refuses fails, and the ordered batch stops there', async () => {
    const event = read('aws', 'dynamodb-streams-batch.json');
    const Placed = z.object({ orderId: z.string(), status: z.literal('placed') });
    const { seen, fn } = recorder();
    const outcome = (await handler({ input: changeRecord(Placed), ...silent }, fn).aws(event, lambdaContext())) as Json;
    const records = event.Records as Json[];
    const refused = records.findIndex((r) => r.dynamodb.NewImage?.status?.S !== 'placed');
    expect(refused).toBeGreaterThan(0);
    expect(seen).toHaveLength(refused);
    expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: records[refused]!.dynamodb.SequenceNumber }] });
  });

  it('a plain call, unless it is given the trigger to run as', async () => {
    const main = handler({ input: storageObject(), ...silent }, (upload) => upload.key);
    const refused = await rejected(main.invoke(photo));
    expect(refused.code).toBe('VALIDATION_FAILED');
    expect(refused.errors[0]!.message).toBe('Expected a storage event trigger; this invocation is a plain call (give main.invoke a `trigger` option to test with one)');
    expect(await main.invoke(photo, { trigger: storageTrigger })).toBe(photo.key);
  });

  it.each([
    ['an unknown op', { ...photo, op: 'moved' }, 'op'],
    ['an empty bucket', { ...photo, bucket: '' }, 'bucket'],
    ['no key', { op: 'created', bucket: 'photos' }, 'key'],
    ['a negative size', { ...photo, size: -1 }, 'size'],
    ['a fractional size', { ...photo, size: 1.5 }, 'size'],
    ['a size as text', { ...photo, size: '48213' }, 'size'],
    ['a numeric etag', { ...photo, etag: 5 }, 'etag'],
    ['null', null, ''],
    ['a string', 'photos/a.jpg', ''],
  ])('a storage object with %s', async (_what, value, field) => {
    const refused = await rejected(handler({ input: storageObject(), ...silent }, () => 'ran').invoke(value, { trigger: storageTrigger }));
    expect(refused.code).toBe('VALIDATION_FAILED');
    expect(refused.errors.map((e) => e.field)).toEqual([field]);
  });

  it.each([
    ['an unknown type', { type: 'JWT' }, 'type'],
    ['no resource', { resource: undefined }, 'resource'],
    // A header name is a record key the caller chose: masked like any (review-validation-record-keys.test.ts).
    ['a header that is not text', { headers: { 'x-api-key': 42 } }, 'headers.*'],
    ['identity sources that are not a list', { identitySource: 'k-1' }, 'identitySource'],
  ])('an authorizer request with %s', async (_what, change, field) => {
    const request = { type: 'REQUEST', resource: 'arn:aws:execute-api:eu-west-1:1:api/prod/GET/things', headers: {}, query: {}, multiQuery: {}, pathParameters: {}, stageVariables: {}, ...change };
    const main = handler({ input: authorizerRequest(), ...silent }, () => allow('a'));
    const trigger: Trigger = { kind: 'authorizer', source: 'apigw-request', resource: 'arn:aws:execute-api:eu-west-1:1:api/prod/GET/things' };
    const refused = await rejected(main.invoke(request, { trigger }));
    expect(refused.errors.map((e) => e.field)).toEqual([field]);
  });

  it('an authorizer request built by hand without multiQuery (the shape before it existed) passes, multiQuery {}', async () => {
    const resource = 'arn:aws:execute-api:eu-west-1:1:api/prod/GET/things';
    const seen: AuthorizerRequest[] = [];
    const main = handler({ input: authorizerRequest(), ...silent }, (req) => {
      seen.push(req);
      return allow('a');
    });
    const trigger: Trigger = { kind: 'authorizer', source: 'apigw-request', resource };
    await main.invoke({ type: 'REQUEST', resource, headers: {}, query: {}, pathParameters: {}, stageVariables: {} }, { trigger });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.multiQuery).toEqual({});
    expect(authorizerRequest().safeParse({ type: 'REQUEST', resource, headers: {}, query: {}, multiQuery: { p: [1] }, pathParameters: {}, stageVariables: {} }).success).toBe(false);
  });

  it('an HTTP request to an authorizer-only function is a 400, never an allow', async () => {
    const event = { ...read('aws', 'apigw-v2-post.json'), body: JSON.stringify({ type: 'TOKEN', resource: 'arn', token: 't', headers: {}, query: {}, pathParameters: {}, stageVariables: {} }), isBase64Encoded: false };
    const res = (await handler({ input: authorizerRequest(), ...silent }, () => allow('a')).aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(400);
  });

  it('a refinement keeps the trigger check', async () => {
    const images = storageObject().refine((o) => o.contentType?.startsWith('image/') === true, { message: 'Not an image', path: ['contentType'] });
    const main = handler({ input: images, ...silent }, (upload) => upload.key);
    expect(await main.invoke(photo, { trigger: storageTrigger })).toBe(photo.key);
    expect((await rejected(main.invoke({ ...photo, contentType: 'application/pdf' }, { trigger: storageTrigger }))).errors).toEqual([{ field: 'contentType', message: 'Not an image' }]);
    expect((await rejected(main.invoke(photo))).errors[0]!.expected).toBe('storage trigger');
  });

  it('outside an invocation only the shape is checked', () => {
    expect(storageObject().safeParse(photo)).toEqual({ success: true, data: photo });
    expect(storageObject().safeParse({ ...photo, op: 'moved' }).success).toBe(false);
    expect(changeRecord(z.object({ id: z.string() })).safeParse({ id: 'o-1' }).success).toBe(true);
  });

  it('the error is the handler’s ValidationError inside the pipeline (a plugin sees it in onError)', async () => {
    const errors: unknown[] = [];
    const spy: Plugin = { name: 'spy', onError: (_ctx, error) => void errors.push(error) };
    const main = handler({ input: storageObject(), use: [spy], ...silent }, () => 'ran');
    await main.invoke(photo).catch(() => undefined);
    expect(errors[0]).toBeInstanceOf(ValidationError);
  });
});

describe('main.invoke({ trigger })', () => {
  it('runs the plain call as that trigger', async () => {
    const change: ChangeTrigger = { kind: 'change', source: 'dynamodb-streams', collection: 'orders', op: 'insert', key: { id: 'o-1' }, sequence: '1', batchIndex: 0, batchSize: 1 };
    const main = handler({ input: changeRecord(z.object({ id: z.string() })), ...silent }, (order, ctx) => ({ id: order.id, op: ctx.trigger.op, provider: ctx.provider }));
    expect(await main.invoke({ id: 'o-1' }, { trigger: change })).toEqual({ id: 'o-1', op: 'insert', provider: 'direct' });
  });

  it.each([[null], ['storage'], [{ kind: 'upload' }], [{ source: 's3' }]])('refuses %j as a trigger with CONFIG_INVALID', async (trigger) => {
    const main = handler(silent, () => 'ran');
    await expect(main.invoke({}, { trigger: trigger as unknown as Trigger })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'trigger' });
  });
});

describe('types', () => {
  it('narrows the input and ctx.trigger to the schema’s trigger', () => {
    // Compile-time checks (the package typecheck runs this file); the functions never run.
    handler({ input: storageObject() }, (upload, ctx) => {
      expectTypeOf(upload).toEqualTypeOf<StorageObject>();
      expectTypeOf(ctx.trigger.content).toEqualTypeOf<Buffer | undefined>();
    });
    handler({ input: changeRecord(z.object({ id: z.string() })) }, (order, ctx) => {
      expectTypeOf(order).toEqualTypeOf<{ id: string }>();
      expectTypeOf(ctx.trigger.op).toEqualTypeOf<ChangeTrigger['op']>();
    });
    handler({ input: z.object({ id: z.string() }) }, (_order, ctx) => {
      expectTypeOf(ctx.trigger).toEqualTypeOf<Trigger>();
    });
    // With plugins: what they add and the narrowed trigger, both.
    const clock: Plugin<{ clock: { startedAt: number } }> = { name: 'clock', extend: () => ({ clock: { startedAt: 0 } }) };
    handler({ input: storageObject(), use: [clock] }, (_upload, ctx) => {
      expectTypeOf(ctx.clock.startedAt).toEqualTypeOf<number>();
      expectTypeOf(ctx.trigger.bucket).toEqualTypeOf<string>();
    });
  });
});
