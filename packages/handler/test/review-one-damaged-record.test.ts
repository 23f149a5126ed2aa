/**
 * One damaged record of a batch fails only itself (review rvq): a record the answer can name —
 * an SQS message by its messageId, a DynamoDB stream record by its SequenceNumber (a Pipe: its
 * eventID), a Kafka record by its partition and offset — whose content cannot be read is an item
 * whose payload throws MALFORMED_EVENT. Before, the whole batch was thrown and nothing ran, so
 * Lambda retried every record until the damaged one expired. Built from the published samples
 * in test/fixtures/samples/aws, damaged as each test says.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { handler as awsHandler } from '../src/aws.js';
import { lambdaContext, recorder, runOnAwsEntries, sample, type Json } from './support/published.js';

/** An S3 notification as S3 writes it into an SQS body (Powertools' s3-sqs sample), its key not URL-encoded text. */
function damagedS3Body(): string {
  const body = JSON.parse(sample('aws', 'pt-s3-sqs-event.json').Records[0].body as string) as Json;
  body.Records[0].s3.object.key = 'bad%E0%A4%A';
  return JSON.stringify(body);
}

/** Three SQS messages m1, m2, m3 after Powertools' sqs base sample; m2's body is `body2`. */
function sqsBatch(body2: string, arn?: string): Json {
  const template = sample('aws', 'pt-sqs-base.json').Records[1] as Json;
  const records = [
    ['m1', 'hello'],
    ['m2', body2],
    ['m3', 'world'],
  ].map(([messageId, body]) => ({ ...structuredClone(template), messageId, body, ...(arn ? { eventSourceARN: arn, attributes: { ...template.attributes, MessageGroupId: 'g' } } : {}) }));
  return { Records: records };
}

describe('SQS: a damaged S3 notification in a body fails its message alone', () => {
  it('a notification whose key is not URL-encoded: m2 reported, m1 and m3 run', async () => {
    const run = await runOnAwsEntries(sqsBatch(damagedS3Body()));
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(run.seen.map((s) => s.input)).toEqual(['hello', 'world']);
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual(['m1', 'm3']);
  });

  it('the same notification inside an SNS envelope (SNS → SQS without raw delivery)', async () => {
    const envelope = JSON.parse(sample('aws', 'pt-sqs-sns-body.json').Records[0].body as string) as Json;
    envelope.Message = damagedS3Body();
    const run = await runOnAwsEntries(sqsBatch(JSON.stringify(envelope)));
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(run.seen.map((s) => s.input)).toEqual(['hello', 'world']);
  });

  it('an EventBridge S3 event whose bucket has no name', async () => {
    const event = sample('aws', 'pt-s3-eventbridge-created.json');
    delete event.detail.bucket.name;
    const run = await runOnAwsEntries(sqsBatch(JSON.stringify(event)));
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(run.seen.map((s) => s.input)).toEqual(['hello', 'world']);
  });

  it('on a FIFO queue the damaged message and every later one are reported; m3 does not run', async () => {
    const run = await runOnAwsEntries(sqsBatch(damagedS3Body(), 'arn:aws:sqs:us-east-2:123456789012:my-queue.fifo'));
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] });
    expect(run.seen.map((s) => s.input)).toEqual(['hello']);
  });

  it('the failure is logged as the typed MALFORMED_EVENT, for m2', async () => {
    const run = await runOnAwsEntries(sqsBatch(damagedS3Body()));
    const rejected = run.lines.filter((l) => l.msg === 'invocation rejected');
    expect(rejected).toMatchObject([{ deliveryId: 'm2', trigger: 'queue', code: 'MALFORMED_EVENT', issues: [{ field: 'Records.1.body.Records.0.s3.object.key', expected: 'a URL-encoded key' }] }]);
  });
});

/** Powertools' DynamoDB sample as three records of one table, sequence numbers 100, 200, 300. */
function dynamoBatch(): Json[] {
  const [insert, modify] = sample('aws', 'pt-dynamodb-base.json').Records as Json[];
  return [insert, modify, insert].map((record, i) => {
    const r = structuredClone(record!);
    r.eventSourceARN = 'arn:aws:dynamodb:us-west-2:123456789012:table/Orders/stream/2024-01-01T00:00:00.000';
    r.eventID = String(i + 1);
    r.dynamodb.SequenceNumber = String((i + 1) * 100);
    return r;
  });
}

describe('DynamoDB Streams: a damaged record is reported by its sequence number', () => {
  const failures = { batchItemFailures: [{ itemIdentifier: '200' }] };

  it('a number that is not a number: 200 reported, 100 run, 300 not run (the source resumes at 200)', async () => {
    const records = dynamoBatch();
    records[1]!.dynamodb.NewImage.V = { N: 'abc' };
    const run = await runOnAwsEntries({ Records: records });
    expect(run.answer).toEqual(failures);
    expect(run.seen.map((s) => s.ctx.trigger)).toMatchObject([{ kind: 'change', sequence: '100' }]);
  });

  it('an eventName that is not INSERT, MODIFY or REMOVE, and Keys missing, the same', async () => {
    const records = dynamoBatch();
    records[1]!.eventName = 'UPSERT';
    expect((await runOnAwsEntries({ Records: records })).answer).toEqual(failures);
    const noKeys = dynamoBatch();
    delete noKeys[1]!.dynamodb.Keys;
    expect((await runOnAwsEntries({ Records: noKeys })).answer).toEqual(failures);
  });

  it('EventBridge Pipes (the array of records): reported by its eventID', async () => {
    const records = sample('aws', 'ebpipes-dynamodb.json') as unknown as Json[];
    records[1]!.dynamodb.OldImage.Id = { N: 'abc' };
    const run = await runOnAwsEntries(records);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect(run.seen.map((s) => s.input)).toEqual([{ Message: 'New item!', Id: 101 }]);
  });
});

/** Powertools' MSK sample with offsets 15, 16, 17 (the sample repeats 15); 16's key is not base64. */
function kafkaEvent(): Json {
  const event = sample('aws', 'ptpy-kafka-msk.json');
  (event.records['mytopic-0'] as Json[]).forEach((record, i) => (record.offset = 15 + i));
  event.records['mytopic-0'][1].key = '!!!';
  return event;
}

describe('Kafka: a key that is not base64 fails its record alone', () => {
  it('with kafkaBatchItemFailures: the record named by its offset; 15 run, 17 not (partition order)', async () => {
    const { seen, fn } = recorder();
    const answer = await awsHandler({ kafkaBatchItemFailures: true, logSink: () => {} }, fn)(kafkaEvent(), lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 16 } }] });
    expect(seen.map((s) => (s.ctx as Context).trigger)).toMatchObject([{ kind: 'stream', sequence: '15', key: 'recordKey' }]);
  });

  it('without it: the records before it run, then the batch is thrown as MALFORMED_EVENT', async () => {
    const run = await runOnAwsEntries(kafkaEvent());
    expect(run.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
    expect(run.seen.map((s) => s.input)).toEqual([{ key: 'value' }]);
  });

  it('a key that is not text at all, the same', async () => {
    const event = kafkaEvent();
    event.records['mytopic-0'][1].key = 42;
    const answer = await awsHandler({ kafkaBatchItemFailures: true, logSink: () => {} }, () => undefined)(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 16 } }] });
  });
});
