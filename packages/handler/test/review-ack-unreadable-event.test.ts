/**
 * `terminalErrors: 'ack'` covers an event that cannot be read (review rva). SNS, S3 (direct or
 * through EventBridge), Kafka, DocumentDB, Kinesis and DynamoDB stream events whose records cannot
 * be read threw MALFORMED_EVENT (a terminal 400) whatever `terminalErrors` said: Lambda retried
 * them and sent them to the on-failure destination, and a stream's batch was retried until it
 * expired, blocking its shard or partition. Under `'ack'` they are acknowledged — logged by code
 * and field, never the payload — and the function does not run; under `'fail'` they still throw.
 * Built from the published samples in test/fixtures/samples/aws.
 */
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { lambdaContext, logs, recorder, sample, type Json } from './support/published.js';

/** Each event kind, damaged so that its records cannot be read, and its acknowledged answer. */
const UNREADABLE: Array<[name: string, event: () => Json, acknowledged: unknown]> = [
  ['sns (a Binary attribute that is not base64)', () => {
    const e = sample('aws', 'pt-sns-base.json');
    e.Records[0].Sns.MessageAttributes = { a: { Type: 'Binary', Value: '***' } };
    return e;
  }, undefined],
  ['s3 (a record without a bucket)', () => ({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: '2025-03-02T12:00:00Z', s3: { object: { key: 'k' } } }] }), undefined],
  ['s3 through EventBridge (an object without a key)', () => {
    const e = sample('aws', 'pt-s3-eventbridge-created.json');
    delete e.detail.object.key;
    return e;
  }, undefined],
  ['kafka (a record without an offset)', () => {
    const e = sample('aws', 'lgo-kafka-event.json');
    delete e.records['AWSKafkaTopic-0'][0].offset;
    return e;
  }, undefined],
  ['documentdb (a change event that is not an object)', () => ({ ...sample('aws', 'lambda-documentdb.json'), events: ['not a change event'] }), undefined],
  ['kinesis (a record without a sequence number)', () => {
    const e = sample('aws', 'pt-kinesis-stream-one-record.json');
    delete e.Records[0].kinesis.sequenceNumber;
    return e;
  }, { batchItemFailures: [] }],
  ['dynamodb-streams (its only record without a sequence number)', () => {
    const e = sample('aws', 'pt-dynamodb-base.json');
    e.Records = [e.Records[0]];
    delete e.Records[0].dynamodb.SequenceNumber;
    return e;
  }, { batchItemFailures: [] }],
];

async function run(terminalErrors: 'fail' | 'ack', event: Json) {
  const { seen, fn } = recorder(() => 1);
  const { lines, logSink } = logs();
  const answer = await Promise.resolve(handler({ terminalErrors, logSink, logLevel: 'warn' }, fn)(event, lambdaContext())).then(
    (value) => ({ value }),
    (error: unknown) => ({ thrown: (error as { code?: string }).code }),
  );
  return { answer, seen, lines };
}

describe("terminalErrors: 'ack' acknowledges an event that cannot be read", () => {
  for (const [name, event, acknowledged] of UNREADABLE) {
    it(name, async () => {
      const failed = await run('fail', event());
      expect(failed.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
      expect(failed.seen).toEqual([]);

      const acked = await run('ack', event());
      expect(acked.answer).toEqual({ value: acknowledged });
      expect(acked.seen).toEqual([]);
      const line = acked.lines.find((l) => l.msg === 'unreadable event acknowledged');
      expect(line).toMatchObject({ level: 'warn', code: 'MALFORMED_EVENT', field: expect.any(String) });
      // The payload is not logged: neither the damaged value nor the records' data.
      expect(JSON.stringify(acked.lines)).not.toContain('***');
      expect(JSON.stringify(acked.lines)).not.toContain('eyJtZXNzYWdl');
    });
  }
});

/**
 * Review rvm3: one record that cannot be placed (no sequence number, no offset) in a batch whose
 * other records can be read. Acknowledging the whole event answered it empty, so every readable
 * record was checkpointed as done without running. Under `'ack'` it is now thrown as under
 * `'fail'` (retried whole, nothing lost): the unplaceable record cannot be named in a partial answer.
 */
const SECOND_SEQUENCE = '49590338271490256608559692540925702759324208523137515619';
const PARTLY_READABLE: Array<[name: string, event: () => Json]> = [
  ['kinesis (two readable records, then one without a sequence number)', () => {
    const e = sample('aws', 'pt-kinesis-stream-one-record.json');
    const good = e.Records[0];
    const second = structuredClone(good);
    second.kinesis.sequenceNumber = SECOND_SEQUENCE;
    second.eventID = `shardId-000000000006:${SECOND_SEQUENCE}`;
    const bad = structuredClone(good);
    delete bad.kinesis.sequenceNumber;
    e.Records = [good, second, bad];
    return e;
  }],
  ['dynamodb-streams (the last record without a sequence number)', () => {
    const e = sample('aws', 'pt-dynamodb-base.json');
    expect(e.Records.length).toBeGreaterThan(1);
    delete e.Records[e.Records.length - 1].dynamodb.SequenceNumber;
    return e;
  }],
  ['kafka (one readable record, then one without an offset)', () => {
    const e = sample('aws', 'lgo-kafka-event.json');
    const [key] = Object.keys(e.records);
    const good = e.records[key!][0];
    const bad = structuredClone(good);
    delete bad.offset;
    e.records = { [key!]: [good, bad] };
    return e;
  }],
  ['documentdb (one readable change event, then one that is not an object)', () => {
    const e = sample('aws', 'lambda-documentdb.json');
    e.events = [e.events[0], 'not a change event'];
    return e;
  }],
];

describe("terminalErrors: 'ack' does not acknowledge a batch whose other records can be read", () => {
  for (const [name, event] of PARTLY_READABLE) {
    it(name, async () => {
      for (const terminalErrors of ['fail', 'ack'] as const) {
        const result = await run(terminalErrors, event());
        expect(result.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
        expect(result.seen).toEqual([]);
        expect(result.lines.find((l) => l.msg === 'unreadable event acknowledged')).toBeUndefined();
      }
    });
  }

  it('still acknowledges a batch none of whose records can be read', async () => {
    const e = sample('aws', 'pt-kinesis-stream-one-record.json');
    const bad = e.Records[0];
    delete bad.kinesis.sequenceNumber;
    e.Records = [bad, structuredClone(bad)];
    const acked = await run('ack', e);
    expect(acked.answer).toEqual({ value: { batchItemFailures: [] } });
    expect(acked.seen).toEqual([]);
    expect(acked.lines.find((l) => l.msg === 'unreadable event acknowledged')).toMatchObject({ code: 'MALFORMED_EVENT' });
  });
});
