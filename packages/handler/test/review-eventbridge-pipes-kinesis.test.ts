/**
 * Review finding (left alone by an earlier review): EventBridge Pipes with a Kinesis stream
 * source send a Lambda target a JSON array of the stream's records flattened — the fields of
 * the event source mapping's `kinesis` member (`partitionKey`, `sequenceNumber`, `data`,
 * `approximateArrivalTimestamp`, `kinesisSchemaVersion`) beside the record's own `eventID`,
 * `eventSourceARN`… (Amazon EventBridge User Guide, "Amazon Kinesis stream as a source for
 * EventBridge Pipes", Example event) — and read a `{ batchItemFailures }` answer naming the
 * failed record's `eventID` (`shardId-…:<sequenceNumber>`, not the bare sequence number the
 * event source mapping reads) as the partial batch failure ("Amazon EventBridge Pipes
 * batching and concurrency", Partial batch failure: "For Kinesis and DynamoDB, this is the eventID"). The adapter read SQS and DynamoDB arrays as batches but ran a
 * Kinesis array as one direct call: the function got the whole array as `input`, undecoded,
 * with no stream trigger, and a failure failed the whole batch. Sample in
 * test/fixtures/samples/aws/ebpipes-kinesis.json (see SOURCES.md).
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { runOnAwsEntries, sample } from './support/published.js';

const FIRST = '49590338271490256608559692538361571095921575989136588898';
const SECOND = '49590338271490256608559692540925702759324208523137515618';

describe('EventBridge Pipes: an array of flattened Kinesis records', () => {
  it('one stream record per element, data decoded, in order; a failure is named by its eventID', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ebpipes-kinesis.json'), (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'stream' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.seen.map((s) => s.input)).toEqual(['Hello, this is a test.', 'This is only a test.']);
    expect(run.seen.map((s) => s.ctx.trigger)).toMatchObject([
      { kind: 'stream', source: 'kinesis', stream: 'lambda-stream', partition: 'shardId-000000000006', sequence: FIRST, key: '1', batchIndex: 0, batchSize: 2 },
      { kind: 'stream', source: 'kinesis', stream: 'lambda-stream', partition: 'shardId-000000000006', sequence: SECOND, key: '1', batchIndex: 1, batchSize: 2 },
    ]);
    expect(run.seen[0]!.ctx.deliveryId).toBe(`arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream/shardId-000000000006:${FIRST}`);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: `shardId-000000000006:${SECOND}` }] });
  });

  it('a record without an eventID is named by its sequence number', async () => {
    const records = sample('aws', 'ebpipes-kinesis.json') as unknown as Array<Record<string, unknown>>;
    delete records[1]!.eventID;
    const run = await runOnAwsEntries(records, (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'stream' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: SECOND }] });
  });
});
