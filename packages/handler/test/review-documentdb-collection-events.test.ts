/**
 * Review finding (s52, left alone in rvh): a DocumentDB change stream's `drop`, `rename`,
 * `dropDatabase` and `invalidate` events carry no `documentKey`, and the whole Lambda batch
 * failed with MALFORMED_EVENT on them — for ever, as Lambda redelivers the same batch. A
 * function watching a collection never saw its drop and never got past it. Each is now a
 * `change` like the document events: `op` named as the event names it, no `key`, keyed by its
 * resume token, `input` the change event itself. The shapes are the MongoDB manual's
 * ("Change Events": drop, rename, dropDatabase, invalidate), whose events DocumentDB change
 * streams give ("Using change streams with Amazon DocumentDB", Supported operations: every
 * change event of `db.collection.watch()`, `db.watch()` and `client.watch()`), in the Lambda
 * envelope of the published sample (test/fixtures/samples/aws/lambda-documentdb.json).
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';

const ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:canaryclusterb2a659a2-qo5tcmqkcl03';
const clusterTime = { $timestamp: { t: 1676588780, i: 1 } };
const TIME = '2023-02-16T23:06:20.000Z';

const drop = { _id: { _data: 'tok-drop' }, operationType: 'drop', clusterTime, ns: { db: 'test_database', coll: 'test_collection' } };
const rename = { _id: { _data: 'tok-rename' }, operationType: 'rename', clusterTime, ns: { db: 'test_database', coll: 'old_orders' }, to: { db: 'test_database', coll: 'orders' } };
const dropDatabase = { _id: { _data: 'tok-dropdb' }, operationType: 'dropDatabase', clusterTime, ns: { db: 'test_database' } };
const invalidate = { _id: { _data: 'tok-invalidate' }, operationType: 'invalidate', clusterTime };

/** The published sample's batch (one insert) followed by `changes`. */
function batch(...changes: Array<Record<string, unknown>>) {
  const event = sample('aws', 'lambda-documentdb.json');
  event.events.push(...changes.map((change) => ({ event: change })));
  return event;
}

describe('Lambda: DocumentDB collection and database events', () => {
  it('drop, rename, dropDatabase and invalidate run in order as changes without a key, keyed by their resume token', async () => {
    const run = await runOnAwsEntries(batch(rename, drop, dropDatabase, invalidate));
    expect(run.answer).toBeUndefined();
    expect(run.seen).toHaveLength(5);
    const base = { kind: 'change', source: 'documentdb', time: TIME, batchSize: 5 };
    expect(run.seen.slice(1).map((s) => s.ctx.trigger)).toEqual([
      { ...base, collection: 'old_orders', op: 'rename', sequence: 'tok-rename', batchIndex: 1 },
      { ...base, collection: 'test_collection', op: 'drop', sequence: 'tok-drop', batchIndex: 2 },
      { ...base, collection: 'test_database', op: 'dropDatabase', sequence: 'tok-dropdb', batchIndex: 3 },
      { ...base, collection: '', op: 'invalidate', sequence: 'tok-invalidate', batchIndex: 4 },
    ]);
    for (const s of run.seen.slice(1)) expect(s.ctx.trigger).not.toHaveProperty('key');
    // The input is the change event itself: a rename's new name is there.
    expect(run.seen.slice(1).map((s) => s.input)).toEqual([rename, drop, dropDatabase, invalidate]);
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual([
      `${ARN}/0163eeb6e7000000090100000009000041e1`,
      `${ARN}/tok-rename`,
      `${ARN}/tok-drop`,
      `${ARN}/tok-dropdb`,
      `${ARN}/tok-invalidate`,
    ]);
  });

  it('a collection event without a resume token, or without an operationType, still fails the batch with MALFORMED_EVENT', async () => {
    const { _id: _token, ...noToken } = drop;
    const { operationType: _op, ...noOp } = drop;
    for (const broken of [noToken, noOp, { ...drop, _id: {} }]) {
      const run = await runOnAwsEntries(batch(broken));
      expect(run.seen).toHaveLength(0);
      expect(run.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
    }
  });

  it('a document change without a documentKey still fails the batch with MALFORMED_EVENT', async () => {
    const run = await runOnAwsEntries(batch({ _id: { _data: 'tok-del' }, operationType: 'delete', clusterTime, ns: drop.ns }));
    expect(run.seen).toHaveLength(0);
    expect(run.answer).toEqual({ thrown: 'MALFORMED_EVENT' });
  });
});
