/**
 * Review finding (rvh): an Amazon DocumentDB change stream event from the Lambda event source
 * mapping (`eventSource: 'aws:docdb'`) ran as `direct`: the function got the whole event, no
 * change trigger, no delivery id (so no idempotency key), and no order. Each event is now a
 * `change` like the other change sources. The sample is the AWS Lambda Developer Guide's
 * ("Using Lambda with Amazon DocumentDB", Example Amazon DocumentDB event), unchanged, in
 * test/fixtures/samples/aws/lambda-documentdb.json (see SOURCES.md there).
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { handler } from '../src/aws.js';
import { lambdaContext, NOT_RECOGNISED, recorder, runOnAwsEntries, sample } from './support/published.js';

const ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:canaryclusterb2a659a2-qo5tcmqkcl03';
const KEY = { _id: { $oid: '63eeb6e7d418cd98afb1c1d7' } };

/** The sample's event with `change` members replaced (another event of the same stream). */
function another(change: Record<string, unknown>) {
  const event = sample('aws', 'lambda-documentdb.json');
  return { ...structuredClone(event.events[0].event), ...change };
}

describe('Lambda: a DocumentDB change stream event', () => {
  it('the published sample: one insert change, keyed by documentKey, named by the cluster and resume token', async () => {
    const run = await runOnAwsEntries(sample('aws', 'lambda-documentdb.json'));
    expect(run.seen).toHaveLength(1);
    expect(run.seen[0]!.ctx.trigger).toEqual({
      kind: 'change',
      source: 'documentdb',
      collection: 'test_collection',
      op: 'insert',
      key: KEY,
      sequence: '0163eeb6e7000000090100000009000041e1',
      time: '2023-02-16T23:06:15.000Z',
      batchIndex: 0,
      batchSize: 1,
    });
    expect(run.seen[0]!.input).toEqual({ _id: { $oid: '63eeb6e7d418cd98afb1c1d7' }, anyField: 'sampleValue' });
    expect(run.seen[0]!.ctx.deliveryId).toBe(`${ARN}/0163eeb6e7000000090100000009000041e1`);
    expect(run.lines.filter((l) => l.msg === NOT_RECOGNISED)).toEqual([]);
  });

  it('update, replace and delete in order; a failure stops the batch and is thrown', async () => {
    const event = sample('aws', 'lambda-documentdb.json');
    event.events.push(
      { event: another({ _id: { _data: 'tok-2' }, operationType: 'update', fullDocument: undefined, updateDescription: { updatedFields: { anyField: 'x' } } }) },
      { event: another({ _id: { _data: 'tok-3' }, operationType: 'replace', fullDocument: { ...KEY, anyField: 'y' } }) },
      { event: another({ _id: { _data: 'tok-4' }, operationType: 'delete', fullDocument: undefined }) },
    );
    const all = await runOnAwsEntries(event);
    expect(all.seen.map((s) => [s.ctx.trigger.kind === 'change' && s.ctx.trigger.op, s.input])).toEqual([
      ['insert', { ...KEY, anyField: 'sampleValue' }],
      ['update', KEY],
      ['update', { ...KEY, anyField: 'y' }],
      ['delete', KEY],
    ]);
    expect(all.seen.map((s) => s.ctx.deliveryId)).toEqual([`${ARN}/0163eeb6e7000000090100000009000041e1`, `${ARN}/tok-2`, `${ARN}/tok-3`, `${ARN}/tok-4`]);
    const failing = await runOnAwsEntries(event, (_input: unknown, ctx: Context) => {
      if (ctx.trigger.kind === 'change' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(failing.seen).toHaveLength(2);
    expect(failing.answer).toEqual({ thrown: 'INTERNAL' });
  });

  it('an event of an operation it does not know fails with MALFORMED_EVENT, not run; one without a resume token fails the batch', async () => {
    // drop, rename, dropDatabase and invalidate are changes too: review-documentdb-collection-events.test.ts.
    const event = sample('aws', 'lambda-documentdb.json');
    event.events.push({ event: another({ _id: { _data: 'tok-9' }, operationType: 'shardCollection', fullDocument: undefined }) });
    const run = await runOnAwsEntries(event);
    expect(run.seen).toHaveLength(1);
    expect(run.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
    // With terminalErrors: 'ack' it is acknowledged (logged), and the stream moves on.
    const { seen, fn } = recorder();
    await expect(handler({ terminalErrors: 'ack', logSink: () => undefined }, fn)(structuredClone(event), lambdaContext())).resolves.toBeUndefined();
    expect(seen).toHaveLength(1);
    const broken = sample('aws', 'lambda-documentdb.json');
    delete broken.events[0].event._id;
    const none = await runOnAwsEntries(broken);
    expect(none.seen).toHaveLength(0);
    expect(none.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
  });
});
