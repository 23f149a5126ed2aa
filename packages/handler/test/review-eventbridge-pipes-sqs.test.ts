/**
 * EventBridge Pipes with an SQS source and a Lambda target invoke the function with a JSON
 * array of SQS records — "even if the batch size is 1" — instead of `{ Records: [...] }`, and
 * read a `{ batchItemFailures: [{ itemIdentifier }] }` answer as the partial batch failure
 * (Amazon EventBridge User Guide, "Amazon EventBridge Pipes batching and concurrency": Partial
 * batch failure). The samples are the guide's own, unchanged ("Amazon Simple Queue Service as a
 * source in EventBridge Pipes", eb-pipes-sqs.md, Example events: Standard queue, FIFO queue),
 * in test/fixtures/samples/aws/ebpipes-sqs-*.json. They ran as one `direct` call with the whole
 * array as input, unlogged, and a failure failed every message.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { runOnAwsEntries, sample } from './support/published.js';

const failSecond = (_input: unknown, ctx: Context) => {
  if (ctx.trigger.kind === 'queue' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
};

describe('EventBridge Pipes: an array of SQS records', () => {
  it('standard queue: one queue invocation per message; the failed one alone in batchItemFailures', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ebpipes-sqs-standard.json'), failSecond);
    expect(run.seen.map((s) => s.input)).toEqual(['Test message.', 'Test message.']);
    expect(run.seen.map((s) => s.ctx.trigger)).toMatchObject([
      { kind: 'queue', source: 'sqs', queue: 'my-queue', messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', attempt: 1, batchIndex: 0, batchSize: 2 },
      { kind: 'queue', source: 'sqs', queue: 'my-queue', messageId: '2e1424d4-f796-459a-8184-9c92662be6da', attempt: 1, batchIndex: 1, batchSize: 2 },
    ]);
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual(['059f36b4-87a3-44ab-83d2-661975830a7d', '2e1424d4-f796-459a-8184-9c92662be6da']);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: '2e1424d4-f796-459a-8184-9c92662be6da' }] });
  });

  it('FIFO queue (a batch of one, still an array): a queue message of the .fifo queue', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ebpipes-sqs-fifo.json'));
    expect(run.seen).toHaveLength(1);
    expect(run.seen[0]!.input).toBe('Test message.');
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'sqs', queue: 'fifo.fifo', messageId: '11d6ee51-4cc7-4302-9e22-7cd8afdaadf5', batchIndex: 0, batchSize: 1 });
    expect(run.answer).toEqual({ batchItemFailures: [] });
  });

  it('a plain array a caller passes is still a direct input', async () => {
    const run = await runOnAwsEntries([{ eventSource: 'aws:sqs' }, { id: 1 }], (input) => input);
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'direct' });
  });
});
