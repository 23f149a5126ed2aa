/**
 * More published sample events replayed as published (their data unchanged; repository, path
 * and commit of each in test/fixtures/samples/SOURCES.md, third table of each provider):
 * aws/aws-lambda-go `events/testdata` and the Powertools parser's test events through the root
 * entry and `@steadyfn/handler/aws` (both must agree, see `runOnAwsEntries`); google-cloudevents
 * `examples/binary` through the real Functions Framework. Table-driven: each row names the
 * sample, what the function answers, and what the handler must make of it — the trigger kind
 * and its key fields, the delivery id, and the answer in the provider's own shape (batch item
 * failures naming the failed record, HTTP responses in the format of the request's
 * integration). Samples of kinds the handler does not normalise must run as `direct` with the
 * shape they look like logged, never as another kind.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { allow, authorized, handler, httpResult, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { handler as owHandler } from '../src/openwhisk.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { FIRESTORE_COMPLEX_DOCUMENT, logs, NOT_RECOGNISED, recorder, runOnAwsEntries, sample, type Json } from './support/published.js';

afterAll(closeServers);

type Run = Awaited<ReturnType<typeof runOnAwsEntries>>;
type Answer = (input: unknown, ctx: Context) => unknown;

/** Fails the record whose position in the batch is `index`. */
const failAt =
  (index: number): Answer =>
  (_input, ctx) => {
    if ('batchIndex' in ctx.trigger && ctx.trigger.batchIndex === index) throw new Error('asked to fail');
  };

const down: Answer = () => {
  throw new Error('down');
};

const triggers = (run: Run) => run.seen.map((s) => s.ctx.trigger);
const notRecognised = (run: Run) => run.lines.filter((l) => l.msg === NOT_RECOGNISED).map((l) => l.shape);

interface AwsCase {
  /** File under test/fixtures/samples/aws. */
  file: string;
  /** What the row checks. */
  what: string;
  /** What the function does with each record (default: answers nothing). */
  answer?: Answer;
  check: (run: Run) => void;
}

const QUEUE_CASES: AwsCase[] = [
  {
    file: 'pt-sqs-base.json',
    what: 'SQS batch of two: text and JSON bodies, a Number attribute (its stray binaryValue ignored); the second failing is the only batch item failure',
    answer: failAt(1),
    check: (run) => {
      expect(run.seen.map((s) => s.input)).toEqual(['Test message.', { message: 'foo1' }]);
      expect(triggers(run)).toMatchObject([
        { kind: 'queue', source: 'sqs', queue: 'my-queue', messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', attempt: 1, attributes: { testAttr: '100' }, attributeTypes: { testAttr: 'Number' }, batchIndex: 0, batchSize: 2 },
        { kind: 'queue', source: 'sqs', queue: 'my-queue', messageId: '2e1424d4-f796-459a-8184-9c92662be6da', attempt: 1, attributes: {}, batchIndex: 1, batchSize: 2 },
      ]);
      expect(triggers(run)[0]).not.toHaveProperty('binaryAttributes');
      expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual(['059f36b4-87a3-44ab-83d2-661975830a7d', '2e1424d4-f796-459a-8184-9c92662be6da']);
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2e1424d4-f796-459a-8184-9c92662be6da' }] });
    },
  },
  {
    file: 'pt-sqs-sns-event-fifo.json',
    what: 'SNS FIFO topic → SQS FIFO queue: the envelope unwrapped with its sequence number; the failure named by the SQS message id',
    answer: down,
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ message: 'hello world', username: 'lessa' });
      expect(triggers(run)[0]).toMatchObject({
        kind: 'queue',
        source: 'sqs',
        queue: 'Test.fifo',
        messageId: '69bc4bbd-ed69-4325-a434-85c3b428ceab',
        sns: { topic: 'arn:aws:sns:eu-west-1:231436140809:Test.fifo', messageId: 'a7c9d2fa-77fa-5184-9de9-89391027cc7d', sequenceNumber: '10000000000000004000', time: '2022-10-14T13:35:25.419Z' },
      });
      expect(run.seen[0]!.ctx.deliveryId).toBe('a7c9d2fa-77fa-5184-9de9-89391027cc7d');
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '69bc4bbd-ed69-4325-a434-85c3b428ceab' }] });
    },
  },
  {
    file: 'pt-sns-base.json',
    what: 'SNS to Lambda: text message, a String and a Binary attribute (base64 decoded); a failure is thrown for Lambda to retry',
    answer: down,
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello from SNS!');
      expect(triggers(run)[0]).toMatchObject({
        kind: 'notification',
        source: 'sns',
        topic: 'arn:aws:sns:us-east-2:123456789012:ExampleTopic',
        messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
        subject: 'TestInvoke',
        time: '2019-01-02T12:45:07.000Z',
        attributes: { Test: 'TestString' },
        binaryAttributes: { TestBinary: Buffer.from('TestBinary', 'base64') },
        attributeTypes: { Test: 'String', TestBinary: 'Binary' },
      });
      expect(run.seen[0]!.ctx.deliveryId).toBe('95df01b4-ee98-5cb9-9903-4c221d41eb5e');
      expect(run.answer).toEqual({ thrown: 'INTERNAL' });
    },
  },
  {
    file: 'pt-s3-sqs-event.json',
    what: 'S3 notification delivered through SQS: a storage object; its failure named by the SQS message id',
    answer: down,
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ op: 'created', bucket: 'xxx', key: 'test.pdf', size: 104681, etag: '2e3ad1e983318bbd8e73b080e2997980', versionId: 'yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV', time: '2023-04-12T20:43:38.021Z' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'storage', source: 's3', via: 'sqs', op: 'created', eventType: 'ObjectCreated:Put', bucket: 'xxx', key: 'test.pdf' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('xxx/test.pdf@00643717F9F8B85354');
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'ca3e7a89-c358-40e5-8aa0-5da01403c267' }] });
    },
  },
  {
    file: 'ptpy-eventbridge-scheduler.json',
    what: "EventBridge Scheduler with its detail as the text '{}': a schedule tick keyed by schedule and time",
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({});
      expect(triggers(run)).toEqual([{ kind: 'schedule', source: 'eventbridge-scheduler', scheduledTime: '2025-02-20T16:03:00Z', schedule: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/aaaaa' }]);
      expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:scheduler:us-east-1:123456789012:schedule/default/aaaaa@2025-02-20T16:03:00Z');
    },
  },
  {
    file: 'jl-sqs-event-nobody.json',
    what: 'SQS message with an empty body: the empty text, not a failure',
    check: (run) => {
      expect(run.seen[0]!.input).toBe('');
      expect(triggers(run)[0]).toMatchObject({ kind: 'queue', source: 'sqs', queue: 'TestLambda', messageId: 'd9144555-9a4f-4ec3-99a0-fc4e625a8db2', attempt: 1 });
      expect(run.answer).toEqual({ batchItemFailures: [] });
    },
  },
  {
    file: 'jl-sns-event.json',
    what: 'SNS as the Java event library writes it: JSON message parsed, subject and String attribute',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ id: 42, name: 'Bob' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'notification', source: 'sns', topic: 'arn:aws:sns:eu-central-1:123456789012:TopicSendToMe', messageId: 'dc918f50-80c6-56a2-ba33-d8a9bbf013ab', subject: 'Test sns message', attributes: { name: 'Bob' } });
    },
  },
  {
    file: 'jl-cloudwatch-event.json',
    what: 'EventBridge (CloudWatch Events) scheduled rule: a schedule tick keyed by rule and time',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({});
      expect(triggers(run)).toEqual([{ kind: 'schedule', source: 'eventbridge', scheduledTime: '2020-09-30T15:58:34.000Z', schedule: 'arn:aws:events:eu-central-1:123456789012:rule/demoschedule' }]);
      expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:events:eu-central-1:123456789012:rule/demoschedule@2020-09-30T15:58:34.000Z');
    },
  },
  {
    file: 'jl-s3-event.json',
    what: 'S3 notification as the Java event library writes it (versionId empty text for an unversioned object): no versionId, a slash in the key kept',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ op: 'created', bucket: 'example-bucket', key: 'test/key', size: 1024, etag: '0123456789abcdef0123456789abcdef', time: '1970-01-01T00:00:00.000Z' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('example-bucket/test/key@0A1B2C3D4E5F678901');
    },
  },
];

const CHANGE_AND_STREAM_CASES: AwsCase[] = [
  {
    file: 'pt-dynamodb-base.json',
    what: 'DynamoDB Streams INSERT then MODIFY (NEW_AND_OLD_IMAGES): plain images, the second failing is reported by its SequenceNumber',
    answer: failAt(1),
    check: (run) => {
      expect(run.seen.map((s) => s.input)).toEqual([
        { Message: 'New item!', Id: 101 },
        { Message: 'This item has changed', Id: 101 },
      ]);
      expect(triggers(run)).toMatchObject([
        { kind: 'change', source: 'dynamodb-streams', op: 'insert', key: { Id: 101 }, sequence: '111', time: '2023-09-06T10:45:55.000Z' },
        { kind: 'change', source: 'dynamodb-streams', op: 'update', key: { Id: 101 }, sequence: '222', before: { Message: 'New item!', Id: 101 } },
      ]);
      expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual(['eventsource_arn/111', 'source_arn/222']);
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '222' }] });
    },
  },
  {
    file: 'lgo-dynamodb-event.json',
    what: 'DynamoDB Streams as the Go/Java event classes write it (every type member present, all but one null): each attribute is its one non-null member',
    answer: failAt(1),
    check: (run) => {
      expect(run.seen).toHaveLength(2);
      const sequence = '1405400000000002063282832';
      expect(triggers(run)).toMatchObject([
        { kind: 'change', source: 'dynamodb-streams', collection: 'Example-Table', op: 'insert', key: { val: 'data', key: 'binary' }, sequence, time: '2016-12-02T01:27:00.000Z' },
        { kind: 'change', source: 'dynamodb-streams', collection: 'Example-Table', op: 'insert', key: { val: 'data', key: 'binary' }, sequence },
      ]);
      expect(run.seen[0]!.input).toEqual({ val: 'data', asdf1: Buffer.from('AAEqQQ==', 'base64'), asdf2: [Buffer.from('AAEqQQ==', 'base64'), Buffer.from('QSoBAA==', 'base64')], key: 'binary' });
      expect(run.seen[1]!.input).toMatchObject({
        b2: Buffer.from('test', 'base64'),
        Boolean: true,
        List: ['Cookies', 'Coffee', 3.14159],
        Map: { Name: 'Joe', Age: 35 },
        FloatNumber: 123.45,
        IntegerNumber: 123,
        NumberSet: [1234, 567.8],
        Null: null,
        String: 'Hello',
        StringSet: ['Giraffe', 'Zebra'],
        EmptyStringSet: [],
      });
      expect(run.seen[0]!.ctx.deliveryId).toBe(`arn:aws:dynamodb:us-east-1:123456789012:table/Example-Table/stream/2016-12-01T00:00:00.000/${sequence}`);
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: sequence }] });
    },
  },
  {
    file: 'pt-kinesis-stream-one-record.json',
    what: 'Kinesis: base64 JSON data parsed, partition key and shard; a failure named by its sequence number',
    answer: down,
    check: (run) => {
      const sequence = '49590338271490256608559692538361571095921575989136588898';
      expect(run.seen[0]!.input).toEqual({ message: 'test message', username: 'test' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'stream', source: 'kinesis', stream: 'lambda-stream', partition: 'shardId-000000000006', sequence, key: '1', time: '2018-12-17T22:10:50.987Z' });
      expect(run.seen[0]!.ctx.deliveryId).toBe(`arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream/shardId-000000000006:${sequence}`);
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: sequence }] });
    },
  },
  {
    file: 'pt-kafka-self-managed.json',
    what: "self-managed Kafka as Powertools publishes it (eventSource 'aws:SelfManagedKafka'): a Kafka stream record, not a direct invocation",
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ key: 'value' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'stream', source: 'kafka', stream: 'mytopic', partition: '0', sequence: '15', key: 'recordKey', time: '2018-12-17T22:10:50.987Z', attributes: { headerKey: 'headerValue' } });
      expect(run.seen[0]!.ctx.deliveryId).toBe('b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092/mytopic/0/15');
      expect(notRecognised(run)).toEqual([]);
    },
  },
  {
    file: 'pt-s3-eventbridge-created.json',
    what: 'S3 Object Created via EventBridge: a storage object, keyed by bucket, key and sequencer',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ op: 'created', bucket: 'example-bucket', key: 'IMG_m7fzo3.jpg', size: 184662, etag: '4e68adba0abe2dc8653dc3354e14c01d', time: '2023-03-08T17:50:14Z' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'storage', source: 's3', via: 'eventbridge', op: 'created', eventType: 'Object Created' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E');
    },
  },
  {
    file: 'lgo-kinesis-time-window-event.json',
    what: 'Kinesis tumbling window: runs whole as direct (logged), the function answers { state, batchItemFailures } itself',
    answer: (input) => ({ state: { seen: String((input as Json).Records.length) }, batchItemFailures: [] }),
    check: (run) => {
      expect(triggers(run)).toEqual([{ kind: 'direct', source: 'lambda-invoke', unrecognised: 'Kinesis or DynamoDB Streams tumbling window' }]);
      expect(run.answer).toEqual({ state: { seen: '1' }, batchItemFailures: [] });
    },
  },
  {
    file: 'ptpy-kafka-msk.json',
    what: 'Amazon MSK with schema metadata, a key absent and a key null: three stream records in order; a failure stops the batch and is thrown (Kafka has no partial batch answer)',
    answer: failAt(1),
    check: (run) => {
      expect(run.seen.map((s) => s.input)).toEqual([{ key: 'value' }, { key: 'value' }]);
      expect(triggers(run)).toMatchObject([
        { kind: 'stream', source: 'kafka', stream: 'mytopic', partition: '0', sequence: '15', key: 'recordKey', attributes: { headerKey: 'headerValue' }, batchIndex: 0, batchSize: 3 },
        { kind: 'stream', source: 'kafka', stream: 'mytopic', partition: '0', sequence: '15', batchIndex: 1, batchSize: 3 },
      ]);
      expect(triggers(run)[1]).not.toHaveProperty('key');
      expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:kafka:us-east-1:0123456789019:cluster/SalesCluster/abcd1234-abcd-cafe-abab-9876543210ab-4/mytopic/0/15');
      expect(run.answer).toEqual({ thrown: 'INTERNAL' });
    },
  },
  {
    file: 'ptpy-eventbridge-ec2.json',
    what: 'EventBridge service event (EC2 state change, replayed from an archive): an event keyed by its id scoped by the replay, detail as input',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ instance_id: 'i-1234567890abcdef0', state: 'terminated' });
      expect(triggers(run)).toEqual([{ kind: 'event', source: 'eventbridge', type: 'EC2 Instance State-change Notification', eventSource: 'aws.ec2', id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718', time: '2017-12-22T18:43:48Z', replayName: 'replay_archive' }]);
      // A replay is asked for: its own delivery (review-eventbridge-direct-replay.test.ts).
      expect(run.seen[0]!.ctx.deliveryId).toBe('replay/replay_archive#6a7e8feb-b491-4cf7-a9f1-bf3703467718');
    },
  },
  {
    file: 'pt-kinesis-stream-cloudwatch-logs.json',
    what: 'Kinesis carrying gzipped CloudWatch Logs: the exact bytes (not UTF-8) as a Buffer; the second failing is the only batch item failure',
    answer: failAt(1),
    check: (run) => {
      const inputs = run.seen.map((s) => s.input as Buffer);
      expect(inputs.every((b) => Buffer.isBuffer(b))).toBe(true);
      expect(JSON.parse(gunzipSync(inputs[0]!).toString('utf8'))).toMatchObject({ messageType: 'DATA_MESSAGE', logEvents: expect.any(Array) });
      expect(triggers(run)).toMatchObject([
        { kind: 'stream', source: 'kinesis', stream: 'pt-1488-KinesisStreamCloudWatchLogs-D8tHs0im0aJG', key: 'da10bf66b1f54bff5d96eae99149ad1f', sequence: '49635052289529725553291405521504870233219489715332317186' },
        { kind: 'stream', source: 'kinesis', key: 'cf4c4c2c9a49bdfaf58d7dbbc2b06081', sequence: '49635052289529725553291405520881064510298312199003701250' },
      ]);
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '49635052289529725553291405520881064510298312199003701250' }] });
    },
  },
  {
    file: 'lgo-s3-glacier-event.json',
    what: "S3 restore from Glacier ('s3:'-prefixed eventName, percent-encoded key): an update of the object, its key decoded",
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ op: 'updated', bucket: 'example-bucket', key: 'glacier-test.txt', size: 1024, etag: '0123456789abcdef0123456789abcdef', versionId: 'abcdeH0Xp66ep__QDjR76LK7Gc9X4wKO', time: '2023-05-10T15:00:00.123Z' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'storage', source: 's3', op: 'updated', eventType: 's3:ObjectRestore:Completed', key: 'glacier-test.txt' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('example-bucket/glacier-test.txt@0A1B2C3D4E5F678901#restore-completed');
    },
  },
  {
    file: 'ptpy-s3-eventbridge-restore-completed.json',
    what: 'S3 Object Restore Completed via EventBridge: an update, as the same restore through a notification',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ op: 'updated', bucket: 'example-bucket', key: 'IMG_m7fzo3.jpg', size: 184662, etag: '4e68adba0abe2dc8653dc3354e14c01d', time: '2021-11-12T00:00:00Z' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'storage', source: 's3', via: 'eventbridge', op: 'updated', eventType: 'Object Restore Completed' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E#restore-completed');
    },
  },
  {
    file: 'jl-dynamo-event-roundtrip.json',
    what: 'DynamoDB Streams as the Java event library round-trips it (creation times in exponent notation): insert, update, delete; the delete failing is reported alone',
    answer: failAt(2),
    check: (run) => {
      expect(triggers(run)).toMatchObject([
        { kind: 'change', op: 'insert', collection: 'ExampleTableWithStream', key: { Id: 101 }, sequence: '4421584500000000017450439091', time: '2015-04-09T00:00:00.000Z' },
        { kind: 'change', op: 'update', sequence: '4421584500000000017450439092', before: { Message: 'New item!', Id: 101 }, time: '2021-11-01T02:40:07.123Z' },
        { kind: 'change', op: 'delete', sequence: '4421584500000000017450439093', before: { Message: 'This item has changed', Id: 101 } },
      ]);
      expect(run.seen[2]!.input).toEqual({ Message: 'This item has changed', Id: 101 });
      expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '4421584500000000017450439093' }] });
    },
  },
  {
    file: 'jl-kinesis-event-roundtrip.json',
    what: 'Kinesis as the Java event library round-trips it (an ARN without a stream name): text data, the ARN kept whole as the stream, and in the delivery id',
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello, this is a test 123.');
      expect(triggers(run)[0]).toMatchObject({ kind: 'stream', source: 'kinesis', stream: 'arn:aws:kinesis:EXAMPLE', partition: 'shardId-000000000000', key: 'partitionKey-03', time: '2015-04-09T00:00:00.000Z' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:kinesis:EXAMPLE/shardId-000000000000:49545115243490985018280067714973144582180062593244200961');
      expect(run.answer).toEqual({ batchItemFailures: [] });
    },
  },
  {
    file: 'jl-kafka-event-roundtrip.json',
    what: 'MSK as the Java event library writes it (a header value as base64 text, how Jackson writes byte[]): the header kept, as text and as bytes',
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello from Kafka !!');
      expect(triggers(run)[0]).toMatchObject({ kind: 'stream', source: 'kafka', stream: 'mytopic', partition: '0', sequence: '15', attributes: { headerKey: 'headerValue' }, headers: [{ key: 'headerKey', value: Buffer.from('headerValue') }] });
      expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:kafka:us-east-1:123456789012:cluster/vpc-3432434/4834-3547-3455-9872-7929/mytopic/0/15');
    },
  },
];

const HTTP_CASES: AwsCase[] = [
  {
    file: 'pt-apigw-http-no-auth.json',
    what: 'HTTP API 2.0 without a body and with `authorizer.lambda: null`: the (empty) query as input, no principal, answered in the 2.0 format with cookies',
    answer: () => httpResult({ status: 201, cookies: ['a=1', 'b=2'], body: { ok: true } }),
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({});
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'POST', path: '/lambda', sourceIp: '15.248.3.126', headers: { authorization: 'Bearer foo' } } });
      expect(run.seen[0]!.ctx.principal).toBeUndefined();
      expect(run.answer).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json' }, cookies: ['a=1', 'b=2'], body: '{"ok":true}', isBase64Encoded: false });
    },
  },
  {
    file: 'pt-apigw-rest-no-auth.json',
    what: 'REST API with both header maps and every identity field null: no principal; two cookies answered in multiValueHeaders',
    answer: () => httpResult({ cookies: ['a=1', 'b=2'], body: 'ok' }),
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({});
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/no-auth', query: {}, sourceIp: '15.248.3.126', headers: { 'x-forwarded-for': '15.248.3.126, 130.176.209.21' } } });
      expect(run.seen[0]!.ctx.principal).toBeUndefined();
      expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] }, body: 'ok', isBase64Encoded: false });
    },
  },
  {
    file: 'pt-alb-base.json',
    what: 'ALB with the headers map only: text body as text; answered in headers with a statusDescription',
    answer: () => httpResult({ status: 201, body: { made: true } }),
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Test');
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/lambda', query: { query: '1234ABCD' }, sourceIp: '72.12.164.125' } });
      expect(run.answer).toEqual({ statusCode: 201, statusDescription: '201 Created', headers: { 'content-type': 'application/json' }, body: '{"made":true}', isBase64Encoded: false });
    },
  },
  {
    file: 'lgo-alb-lambda-target-request-multivalue-headers.json',
    what: 'ALB with multi-value headers enabled (empty body): the query as input; answered in multiValueHeaders only',
    answer: (_input, ctx) => httpResult({ status: 404, headers: { 'x-seen': ctx.trigger.kind === 'http' ? (ctx.trigger.request.headers['x-myheader'] ?? '') : '' }, body: 'nope' }),
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ key: 'hello' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/', multiQuery: { key: ['hello'] }, sourceIp: '72.21.198.67', rawBody: '' } });
      expect(run.answer).toEqual({ statusCode: 404, statusDescription: '404 Not Found', multiValueHeaders: { 'x-seen': ['123'], 'content-type': ['text/plain; charset=utf-8'] }, body: 'nope', isBase64Encoded: false });
    },
  },
  {
    file: 'lgo-lambda-urls-request.json',
    what: 'Function URL with IAM auth: text body, the IAM user as principal, a repeated query parameter kept whole',
    answer: (input) => ({ echoed: input }),
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello from client!');
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'POST', path: '/my/path', multiQuery: { parameter1: ['value1', 'value2'], parameter2: ['value'] }, headers: { cookie: 'cookie1; cookie2' } } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'arn:aws:iam::111122223333:user/example-user', source: 'aws-iam' });
      expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"echoed":"Hello from client!"}', isBase64Encoded: false });
    },
  },
  {
    file: 'lgo-apigw-v2-request-iam.json',
    what: 'HTTP API with IAM auth by Cognito identity pool credentials: the identity id as principal, JSON body with CRLF',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ a: 1 });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'GET', path: '/my/path', headers: { header1: 'value1' } } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce', issuer: 'us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce', source: 'cognito-identity' });
      expect(run.answer).toEqual({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
    },
  },
  {
    file: 'lgo-apigw-websocket-request.json',
    what: 'WebSocket $connect with a Lambda authorizer: the route, connection and principal; a failure answers 500',
    answer: down,
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ a: 1 });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-websocket', request: { method: 'CONNECT', path: '$connect' }, websocket: { connectionId: 'TWegAcC4EowCHnA=', routeKey: '$connect', eventType: 'CONNECT' } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'admin', source: 'apigw-lambda-authorizer' });
      expect(run.answer).toMatchObject({ statusCode: 500, headers: { 'content-type': 'application/problem+json' } });
    },
  },
  {
    file: 'lgo-apigw-restapi-openapi-request.json',
    what: 'REST API (OpenAPI import, operationName): both header maps agree; a Lambda authorizer principal; two cookies in multiValueHeaders',
    answer: () => httpResult({ cookies: ['a=1', 'b=2'], body: { ok: true } }),
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ a: 1 });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/hello/world', query: { name: 'me' }, sourceIp: '192.168.196.186' } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'admin', source: 'apigw-lambda-authorizer' });
      expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] }, body: '{"ok":true}', isBase64Encoded: false });
    },
  },
  ...(['lgo-apigw-v2-request-jwt-authorizer.json', 'lgo-apigw-v2-request-lambda-authorizer.json'] as const).map(
    (file): AwsCase => ({
      file,
      what: 'HTTP API with a JWT without sub / a Lambda authorizer context without principalId: no principal, the request read whole',
      check: (run) => {
        expect(run.seen[0]!.input).toEqual({ a: 1 });
        expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'GET', path: '/my/path', multiQuery: { parameter1: ['value1', 'value2'], parameter2: ['value'] } } });
        expect(run.seen[0]!.ctx.principal).toBeUndefined();
      },
    }),
  ),
  {
    file: 'lgo-apigw-websocket-request-send-message.json',
    what: 'WebSocket $default MESSAGE: JSON body, connection id; no headers at all',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ a: 1 });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-websocket', request: { method: 'MESSAGE', path: '$default', headers: {}, sourceIp: '49.105.91.154' }, websocket: { connectionId: 'R1kmxc2VNjMCFIA=', routeKey: '$default', eventType: 'MESSAGE' } });
      expect(run.answer).toMatchObject({ statusCode: 204 });
    },
  },
  {
    file: 'ptpy-alb-multi-value-query-string.json',
    what: 'ALB multi-value mode, a repeated query parameter: every value in the input; a failure answers 500 in multiValueHeaders with its statusDescription',
    answer: down,
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ parameter1: ['value1', 'value2'], parameter2: 'value' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/todos', multiQuery: { parameter1: ['value1', 'value2'], parameter2: ['value'] } } });
      expect(run.answer).toMatchObject({ statusCode: 500, statusDescription: '500 Internal Server Error', multiValueHeaders: { 'content-type': ['application/problem+json'] }, isBase64Encoded: false });
      expect(run.answer).not.toHaveProperty('headers');
    },
  },
  {
    file: 'pt-apigw-rest-cognito-authorizer.json',
    what: 'REST API behind a Cognito user pool authorizer: sub as principal id, iss as issuer; the Authorization header kept as data',
    answer: (_input, ctx) => ({ caller: ctx.principal?.id ?? null }),
    check: (run) => {
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v1', request: { method: 'POST', path: '/cognito' } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'd2f50444-0041-7036-aea2-a955fca33d37', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_y0bLG4i27', source: 'apigw-cognito', claims: { 'cognito:username': 'aamorosi' } });
      expect(run.answer).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"caller":"d2f50444-0041-7036-aea2-a955fca33d37"}', isBase64Encoded: false });
    },
  },
  {
    file: 'pt-lambda-url-iam-authorizer.json',
    what: 'Function URL (routeKey and stage $default, cognitoIdentity and authentication null): a Function URL, not an HTTP API; the IAM user as principal',
    check: (run) => {
      expect(run.seen[0]!.input).toEqual({ parameter1: ['value1', 'value2'], parameter2: 'value' });
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'function-url', request: { method: 'GET', path: '/my/path' } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'arn:aws:iam::111122223333:user/example-user', source: 'aws-iam' });
    },
  },
  {
    file: 'jl-elb-event.json',
    what: 'ALB with a header given twice in two casings (accept, Accept): one header holding both values; answered in headers',
    answer: () => httpResult({ body: 'ok' }),
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello from ELB');
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'alb', request: { method: 'GET', path: '/', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8, application/json', cookie: 'name=value' } } });
      expect(run.answer).toEqual({ statusCode: 200, statusDescription: '200 OK', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok', isBase64Encoded: false });
    },
  },
  {
    file: 'jl-apigw-websocket-event.json',
    what: 'WebSocket $connect as the Java event library writes it (httpMethod GET beside eventType CONNECT): a WebSocket route, the Cognito identity as principal',
    check: (run) => {
      expect(run.seen[0]!.input).toBe('request body');
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-websocket', request: { method: 'CONNECT', path: '$connect', query: { param1: 'value1' } }, websocket: { connectionId: 'abc123=', eventType: 'CONNECT', routeKey: '$connect' } });
      expect(run.seen[0]!.ctx.principal).toMatchObject({ id: 'us-east-1:identity-id', issuer: 'us-east-1:id-pool', source: 'cognito-identity' });
    },
  },
  {
    file: 'jl-apigw-http-event.json',
    what: 'HTTP API 2.0 as the Java event library writes it (capitalised header names, a JWT without sub): text body, no principal',
    check: (run) => {
      expect(run.seen[0]!.input).toBe('Hello from Lambda!!');
      expect(triggers(run)[0]).toMatchObject({ kind: 'http', source: 'apigw-v2', request: { method: 'POST', path: '/my/path', headers: { header1: 'value1', header2: 'value1,value2', cookie: 'cookie1; cookie2' } } });
      expect(run.seen[0]!.ctx.principal).toBeUndefined();
    },
  },
  {
    file: 'jl-apigw-rest-event.json',
    what: 'HTTP API payload 1.0 whose body is marked base64 but is not: a 400 naming the body, not a 500, and the function is not run',
    check: (run) => {
      expect(run.seen).toHaveLength(0);
      expect(run.answer).toMatchObject({ statusCode: 400, headers: { 'content-type': 'application/problem+json' }, isBase64Encoded: false });
      expect(JSON.parse((run.answer as Json).body as string)).toMatchObject({ code: 'MALFORMED_EVENT', errors: [{ field: 'body' }] });
      expect(JSON.stringify(run.lines)).not.toContain('Hello from Lambda');
    },
  },
];

const AUTHORIZER_CASES: AwsCase[] = [
  {
    file: 'pt-apigw-websocket-connect-authorizer.json',
    what: 'WebSocket $connect REQUEST authorizer: an authorizer, not a WebSocket message; answered with an IAM policy for its methodArn',
    answer: () => allow('user-1'),
    check: (run) => {
      const resource = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect';
      expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-request', resource }]);
      expect(run.seen[0]!.input).toMatchObject({ type: 'REQUEST', query: { QueryString1: 'queryValue1' }, headers: { upgrade: 'websocket' } });
      expect(run.answer).toMatchObject({ principalId: 'user-1', policyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [resource] }] } });
    },
  },
  {
    file: 'lgo-apigw-v2-custom-authorizer-v1-request.json',
    what: 'HTTP API REQUEST authorizer, payload 1.0 (an authorizationToken beside type REQUEST): a REQUEST authorizer; a simple answer goes out as a policy, the only form 1.0 takes',
    answer: () => authorized(true),
    check: (run) => {
      const resource = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request';
      expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-request', resource }]);
      expect(run.seen[0]!.input).toMatchObject({ type: 'REQUEST', identitySource: ['user1', '123'], method: 'GET', path: '/request', query: { QueryString1: 'queryValue1' }, headers: { headerauth1: 'headerValue1' } });
      expect(run.answer).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow', Resource: [resource] }] } });
    },
  },
  {
    file: 'pt-apigw-http-authorizer-request.json',
    what: 'HTTP API REQUEST authorizer, payload 2.0 (routeArn): answered simply',
    answer: () => authorized(true),
    check: (run) => {
      expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-request-v2', resource: 'arn:aws:execute-api:eu-west-1:123456789012:lsw1ro4ipb/$default/POST/lambda' }]);
      expect(run.seen[0]!.input).toMatchObject({ type: 'REQUEST', identitySource: ['Bearer foo'], method: 'POST', path: '/lambda', headers: { authorization: 'Bearer foo' } });
      expect(run.answer).toEqual({ isAuthorized: true });
    },
  },
  {
    file: 'pt-apigw-rest-authorizer-request.json',
    what: 'REST API REQUEST authorizer with both header maps and empty maps: answered with a policy',
    answer: () => allow('user-1'),
    check: (run) => {
      const resource = 'arn:aws:execute-api:eu-west-1:123456789012:puhdx84jy9/prod/POST/lambda-request';
      expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-request', resource }]);
      expect(run.seen[0]!.input).toMatchObject({ type: 'REQUEST', method: 'POST', path: '/lambda-request', query: {}, headers: { authorization: 'Bearer foo' } });
      expect(run.answer).toMatchObject({ principalId: 'user-1', policyDocument: { Statement: [{ Effect: 'Allow', Resource: [resource] }] } });
    },
  },
  {
    file: 'jl-apigw-auth-v2.json',
    what: 'HTTP API 2.0 REQUEST authorizer with one header in two casings: one header holding both values; answered simply',
    answer: () => authorized(true),
    check: (run) => {
      expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-request-v2', resource: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request' }]);
      expect(run.seen[0]!.input).toMatchObject({ identitySource: ['user1', '123'], headers: { header1: 'value1, Value1', header2: 'value2', cookie: 'cookie1; cookie2' }, pathParameters: { parameter1: 'value1' } });
      expect(run.answer).toEqual({ isAuthorized: true });
    },
  },
  ...(
    [
      ['lgo-apigw-custom-auth-request.json', 'allow', 'arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/'],
      ['pt-apigw-rest-authorizer-token.json', 'Bearer foo', 'arn:aws:execute-api:eu-west-1:123456789012:puhdx84jy9/prod/POST/lambda-token'],
    ] as const
  ).map(
    ([file, token, resource]): AwsCase => ({
      file,
      what: 'TOKEN authorizer: the token and methodArn; answered with an IAM policy',
      answer: () => allow('user-1'),
      check: (run) => {
        expect(triggers(run)).toEqual([{ kind: 'authorizer', source: 'apigw-token', resource }]);
        expect(run.seen[0]!.input).toMatchObject({ type: 'TOKEN', token, resource });
        expect(run.answer).toMatchObject({ principalId: 'user-1', policyDocument: { Statement: [{ Effect: 'Allow', Resource: [resource] }] } });
      },
    }),
  ),
];

/** Kinds the handler does not normalise: direct, the event whole as input, the shape logged. */
const FALL_THROUGH_CASES: AwsCase[] = (
  [
    ['lgo-activemq-event.json', 'Amazon MQ'],
    ['lgo-rabbitmq-event.json', 'Amazon MQ'],
    ['lgo-kinesis-firehose-event.json', 'Kinesis Data Firehose transformation'],
    ['pt-cloudwatch-logs-base.json', 'CloudWatch Logs subscription (awslogs)'],
    // An event source mapping's on-failure destination record: batch info, no requestPayload.
    ['ptpy-dynamodb-stream-invocation-record.json', 'Lambda destination record'],
    ['lgo-cloudfront-request.json', 'CloudFront Lambda@Edge'],
    ['lgo-s3-batch-job-event-request-2.0.json', 'S3 Batch Operations'],
    ['jl-lambda-destination-event.json', 'Lambda destination record'],
  ] as const
).map(([file, shape]) => ({
  file,
  what: `not normalised: direct, logged as ${shape}, the function's own answer returned`,
  answer: () => ({ handled: true }),
  check: (run) => {
    expect(triggers(run)).toEqual([{ kind: 'direct', source: 'lambda-invoke', unrecognised: shape }]);
    expect(run.seen[0]!.input).toEqual(sample('aws', file));
    expect(notRecognised(run)).toEqual([shape]);
    expect(run.answer).toEqual({ handled: true });
  },
}));

describe.each([
  ['queues, notifications, storage and schedules', QUEUE_CASES],
  ['changes and streams', CHANGE_AND_STREAM_CASES],
  ['HTTP', HTTP_CASES],
  ['authorizers', AUTHORIZER_CASES],
  ['kinds not normalised', FALL_THROUGH_CASES],
])('AWS Lambda published samples: %s', (_group, cases) => {
  it.each(cases.map((c) => [c.file, c.what, c] as const))('%s: %s', async (_file, _what, c) => {
    c.check(await runOnAwsEntries(sample('aws', c.file), c.answer));
  });
});

/**
 * Sends `{ headers, body }` to a CloudEvent function and to a background function (the `event`
 * signature), each wrapped by the root entry and by `@steadyfn/handler/gcp`.
 */
async function gcp(request: { headers: Record<string, string>; body: unknown }) {
  const runs: Array<{ how: string; seen: ReturnType<typeof recorder>['seen']; status: number; lines: Json[] }> = [];
  for (const entry of ['root', 'gcp'] as const) {
    for (const signature of ['cloudEvent', 'event'] as const) {
      const { seen, fn } = recorder();
      const { lines, logSink } = logs();
      const main = entry === 'root' ? handler({ logSink }, fn) : gcpHandler({ logSink }, fn);
      const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
      const res = await fetch(url, { method: 'POST', headers: request.headers, body: JSON.stringify(request.body) });
      await res.arrayBuffer();
      runs.push({ how: `${entry}/${signature}`, seen, status: res.status, lines });
    }
  }
  return runs;
}

/** A google-cloudevents `examples/binary` data file as Eventarc pushes it: binary content mode. */
function binaryMode(type: string, source: string, id: string, data: unknown, subject: string) {
  return {
    headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': type, 'ce-source': source, 'ce-id': id, 'ce-time': '2021-02-05T04:06:14.109Z', 'ce-subject': subject },
    body: data,
  };
}

describe('Google Cloud published samples: google-cloudevents examples through the Functions Framework', () => {
  it('storage/StorageObjectData-simple.json: an object in a folder keeps its slash; size and generation from text', async () => {
    const request = binaryMode('google.cloud.storage.object.v1.finalized', '//storage.googleapis.com/projects/_/buckets/sample-bucket', 'gcs-simple-1', sample('gcp', 'storage-object-simple.json'), 'objects/folder/Test.cs');
    const runs = await gcp(request);
    for (const run of runs) {
      expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 204 });
      expect(run.seen[0]!.input).toEqual({ op: 'created', bucket: 'sample-bucket', key: 'folder/Test.cs', size: 352, etag: 'CNHZkbuF/ugCEAE=', contentType: 'text/plain', versionId: '1587627537231057', time: '2021-02-05T04:06:14.109Z' });
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'created', eventType: 'google.cloud.storage.object.v1.finalized' });
      expect(run.seen[0]!.ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/sample-bucket#gcs-simple-1');
    }
  });

  it('firestore/DocumentEventData-complex.json: every Firestore value type as plain JSON; an empty oldValue is no document, so an insert', async () => {
    const request = binaryMode('google.cloud.firestore.document.v1.written', '//firestore.googleapis.com/projects/project-id/databases/(default)', 'fs-complex-1', sample('gcp', 'firestore-document-complex.json'), 'documents/gcf-test/IH75dRdeYJKd4uuQiqch');
    const runs = await gcp(request);
    for (const run of runs) {
      expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 204 });
      expect(run.seen[0]!.input).toEqual(FIRESTORE_COMPLEX_DOCUMENT);
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', collection: 'gcf-test', key: 'gcf-test/IH75dRdeYJKd4uuQiqch', op: 'insert' });
      expect(run.seen[0]!.ctx.trigger).not.toHaveProperty('before');
      expect(run.seen[0]!.ctx.deliveryId).toBe('//firestore.googleapis.com/projects/project-id/databases/(default)#fs-complex-1');
    }
  });
});

describe("Google Cloud published samples: the Functions Framework's background-event test requests (test/middleware/background_event_to_cloudevent.ts)", () => {
  it.each(['ff-bg-pubsub.json', 'ff-bg-legacy-pubsub.json'])('%s: a Pub/Sub message (resource as object or text) whose data is not UTF-8 is its bytes; keyed by the topic and the event id', async (file) => {
    const runs = await gcp(sample('gcp', file) as { headers: Record<string, string>; body: unknown });
    for (const run of runs) {
      expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 204 });
      expect(run.seen[0]!.input).toEqual(Buffer.from('10', 'base64'));
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', queue: '//pubsub.googleapis.com/projects/sample-project/topics/gcf-test', messageId: '1215011316659232', attributes: {} });
      expect(run.seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/sample-project/topics/gcf-test#1215011316659232');
    }
  });

  it('ff-bg-firebase-auth.json: a Firebase Auth user.create is not normalised: an `event` keyed by its source and event id, with the user as input', async () => {
    const runs = await gcp(sample('gcp', 'ff-bg-firebase-auth.json') as { headers: Record<string, string>; body: unknown });
    for (const run of runs) {
      expect({ how: run.how, status: run.status }).toEqual({ how: run.how, status: 204 });
      expect(run.seen[0]!.input).toMatchObject({ email: 'test@nowhere.com', uid: 'UUpby3s4spZre6kHsgVSPetzQ8l2' });
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', id: '1215011316659232' });
      expect(run.seen[0]!.ctx.deliveryId).toBe(`${(run.seen[0]!.ctx.trigger as { eventSource: string }).eventSource}#1215011316659232`);
    }
    // The Functions Framework converts the legacy event for a CloudEvent function (type, source, field names).
    expect(runs.find((r) => r.how === 'root/cloudEvent')!.seen[0]!.ctx.trigger).toMatchObject({ type: 'google.firebase.auth.user.v1.created', eventSource: '//firebaseauth.googleapis.com/projects/my-project-id', subject: 'users/UUpby3s4spZre6kHsgVSPetzQ8l2' });
    expect(runs.find((r) => r.how === 'root/event')!.seen[0]!.ctx.trigger).toMatchObject({ type: 'providers/firebase.auth/eventTypes/user.create', eventSource: 'projects/my-project-id' });
  });
});

/** A docs/webactions.md params sample (test/fixtures/samples/openwhisk, see SOURCES.md). */
function owSample(name: string): Json {
  return JSON.parse(readFileSync(new URL(`./fixtures/samples/openwhisk/${name}`, import.meta.url), 'utf8')) as Json;
}

/** Runs OpenWhisk params through `@steadyfn/handler/openwhisk` and the root entry (detected from `__OW_ACTIVATION_ID`). */
async function openwhisk(params: Json, answer: Answer) {
  const runs: Array<{ entry: string; seen: ReturnType<typeof recorder>['seen']; result: unknown }> = [];
  const saved = process.env.__OW_ACTIVATION_ID;
  process.env.__OW_ACTIVATION_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  try {
    for (const [entry, make] of [['openwhisk', owHandler], ['root', handler]] as const) {
      const { seen, fn } = recorder(answer);
      const main = make({ logSink: () => undefined }, fn) as (p: unknown) => Promise<unknown>;
      runs.push({ entry, seen, result: await main(structuredClone(params)) });
    }
  } finally {
    if (saved === undefined) delete process.env.__OW_ACTIVATION_ID;
    else process.env.__OW_ACTIVATION_ID = saved;
  }
  return runs;
}

describe('OpenWhisk published samples: the web action params shown in apache/openwhisk docs/webactions.md', () => {
  it.each([
    ['webactions-get.json', 'GET', 'ow-web', {}, {}],
    ['webactions-get-query.json', 'GET', 'ow-web', { name: 'Jane' }, {}],
    ['webactions-post-form.json', 'POST', 'ow-web', { name: 'Jane' }, {}],
    ['webactions-post-json.json', 'POST', 'ow-web', { name: 'Jane' }, {}],
    ['webactions-post-text.json', 'POST', 'ow-web', 'Jane', {}],
    ['webactions-raw-post-json.json', 'POST', 'ow-web-raw', { name: 'Jane' }, { name: 'Jane' }],
  ] as const)('%s: %s (%s): the input and query the function sees; a result answered as an HTTP response object', async (file, method, source, input, query) => {
    const runs = await openwhisk(owSample(file), () => httpResult({ status: 201, body: { ok: true } }));
    for (const run of runs) {
      expect(run.seen).toHaveLength(1);
      expect(run.seen[0]!.input).toEqual(input);
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'http', source, request: { method, query } });
      expect(run.seen[0]!.ctx.requestId).toBe('c0ffee00c0ffee00c0ffee00c0ffee00');
      expect(run.result).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: { ok: true } });
    }
  });
});

describe('AWS Lambda published samples, as hand-built events vary them', () => {
  it("lgo-s3-glacier-event.json with its 's3:'-prefixed eventName turned into a create and a delete: the op follows the name after the prefix", async () => {
    for (const [eventName, op] of [
      ['s3:ObjectCreated:Put', 'created'],
      ['s3:ObjectRemoved:Delete', 'deleted'],
    ] as const) {
      const event = sample('aws', 'lgo-s3-glacier-event.json');
      (event.Records as Json[])[0]!.eventName = eventName;
      const run = await runOnAwsEntries(event);
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', op, eventType: eventName, key: 'glacier-test.txt' });
    }
  });
});
