/**
 * EventBridge Pipes with a DynamoDB stream source send a Lambda target a JSON array of the same
 * records the Lambda event source mapping wraps in `{ Records }`, and read `batchItemFailures`
 * as the partial batch failure — naming the failed record by its `eventID`, not its sequence
 * number as the event source mapping does ("Amazon EventBridge Pipes batching and concurrency",
 * Partial batch failure: "For Kinesis and DynamoDB, this is the eventID"). The sample is the
 * Amazon EventBridge User Guide's, unchanged ("Amazon DynamoDB stream as a source for
 * EventBridge Pipes", eb-pipes-dynamodb.md, Example event), in
 * test/fixtures/samples/aws/ebpipes-dynamodb.json.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { runOnAwsEntries, sample } from './support/published.js';

describe('EventBridge Pipes: an array of DynamoDB stream records', () => {
  it('one change per record, in order; a failure stops the batch and names its eventID', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ebpipes-dynamodb.json'), (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'change' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.seen.map((s) => s.input)).toEqual([{ Message: 'New item!', Id: 101 }, { Message: 'This item has changed', Id: 101 }]);
    expect(run.seen.map((s) => s.ctx.trigger)).toMatchObject([
      { kind: 'change', source: 'dynamodb-streams', collection: 'EventSourceTable', op: 'insert', key: { Id: 101 }, sequence: '111', batchIndex: 0, batchSize: 2 },
      { kind: 'change', source: 'dynamodb-streams', collection: 'EventSourceTable', op: 'update', key: { Id: 101 }, sequence: '222', before: { Message: 'New item!', Id: 101 }, batchIndex: 1, batchSize: 2 },
    ]);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });

  it('a record without an eventID is named by its sequence number', async () => {
    const records = sample('aws', 'ebpipes-dynamodb.json') as unknown as Array<Record<string, unknown>>;
    delete records[1]!.eventID;
    const run = await runOnAwsEntries(records, (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'change' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '222' }] });
  });

  it('the same records under { Records } (the event source mapping) are still named by sequence number', async () => {
    const run = await runOnAwsEntries({ Records: sample('aws', 'ebpipes-dynamodb.json') }, (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'change' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '222' }] });
  });
});
