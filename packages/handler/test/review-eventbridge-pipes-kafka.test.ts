/**
 * EventBridge Pipes with an Amazon MSK or a self-managed Apache Kafka source send a Lambda
 * target a JSON array of Kafka records — each the record the event source mapping groups under
 * `records["topic-partition"]`, with `eventSource`, `eventSourceArn` (MSK) or
 * `bootstrapServers` (self-managed) and `eventSourceKey` (the `topic-partition`) beside its own
 * fields, `partition` as text — and retry the entire batch when the target returns an error
 * (Amazon EventBridge User Guide, "Amazon Managed Streaming for Apache Kafka topic as a source"
 * eb-pipes-msk.md and "Self managed Apache Kafka stream as a source" eb-pipes-kafka.md, Example
 * events; partial batch failure is for SQS, Kinesis and DynamoDB sources only, "Amazon
 * EventBridge Pipes batching and concurrency"). The samples are the guide's, unchanged, in
 * test/fixtures/samples/aws/ebpipes-{msk,self-managed-kafka}.json. Such an array ran as one
 * `direct` call with the raw array as input: no stream trigger, no decoded value, no delivery id.
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { handler as awsHandler } from '../src/aws.js';
import { lambdaContext, recorder, runOnAwsEntries, sample, type Json } from './support/published.js';

const MSK_ARN = 'arn:aws:kafka:sa-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2';
const SERVERS = 'b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092';

/** The event a Lambda event source mapping sends for the same records (no `eventSourceKey` on a record; partition a number). */
function mappingEvent(pipes: Json[]): Json {
  const { eventSource, eventSourceArn, bootstrapServers } = pipes[0]!;
  const records: Record<string, Json[]> = {};
  for (const { eventSource: _s, eventSourceArn: _a, bootstrapServers: _b, eventSourceKey, ...record } of pipes) {
    (records[eventSourceKey as string] ??= []).push({ ...record, partition: Number(record.partition) });
  }
  return { eventSource, ...(eventSourceArn ? { eventSourceArn } : {}), ...(bootstrapServers ? { bootstrapServers } : {}), records };
}

/** The published record and a second one after it in the same partition. */
function twoRecords(name: string): Json[] {
  const [first] = sample('aws', name) as unknown as Json[];
  return [first!, { ...structuredClone(first!), offset: 16, value: Buffer.from('{"n":2}').toString('base64'), headers: [] }];
}

const seenOf = (run: { seen: Array<{ input: unknown; ctx: Context }> }) => run.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]);

describe('EventBridge Pipes: an array of Kafka records', () => {
  for (const [name, cluster] of [
    ['ebpipes-msk.json', MSK_ARN],
    ['ebpipes-self-managed-kafka.json', SERVERS],
  ] as const) {
    it(`${name}: one stream record per element, read as the event source mapping's`, async () => {
      const run = await runOnAwsEntries(sample('aws', name));
      expect(run.seen).toHaveLength(1);
      expect(run.seen[0]!.input).toBe('Hello, this is a test.');
      expect(run.seen[0]!.ctx.trigger).toMatchObject({
        kind: 'stream',
        source: 'kafka',
        stream: 'mytopic',
        partition: '0',
        sequence: '15',
        key: 'abcDEFghiJKLmnoPQRstuVWXyz1234==',
        time: '2018-12-17T22:10:50.987Z',
        attributes: { headerKey: 'headerValue' },
        batchIndex: 0,
        batchSize: 1,
      });
      expect(run.seen[0]!.ctx.deliveryId).toBe(`${cluster}/mytopic/0/15`);
      expect(run.answer).toBeUndefined();
      // Exactly what the event source mapping's `{ records: { 'mytopic-0': [...] } }` gives.
      const mapping = await runOnAwsEntries(mappingEvent(sample('aws', name) as unknown as Json[]));
      expect(seenOf(run)).toEqual(seenOf(mapping));
    });

    it(`${name}: records run in order and stop at a failure, which is thrown (Pipes retries the whole batch)`, async () => {
      const records = twoRecords(name);
      const run = await runOnAwsEntries(records, (input) => {
        if (input === 'Hello, this is a test.') throw new Error('asked to fail');
      });
      expect(run.seen.map((s) => s.input)).toEqual(['Hello, this is a test.']);
      expect(run.answer).toEqual({ thrown: 'INTERNAL' });
      const ok = await runOnAwsEntries(records);
      expect(ok.seen.map((s) => [s.input, s.ctx.trigger.kind === 'stream' && s.ctx.trigger.batchIndex])).toEqual([
        ['Hello, this is a test.', 0],
        [{ n: 2 }, 1],
      ]);
      expect(ok.seen[1]!.ctx.deliveryId).toBe(`${cluster}/mytopic/0/16`);
      expect(seenOf(ok)).toEqual(seenOf(await runOnAwsEntries(mappingEvent(records))));
    });
  }

  it('kafkaBatchItemFailures does not apply: Pipes reads no partial answer for Kafka, so the failure is still thrown', async () => {
    const { seen, fn } = recorder(() => {
      throw new Error('asked to fail');
    });
    const main = awsHandler({ kafkaBatchItemFailures: true, logSink: () => {} }, fn);
    await expect(main(twoRecords('ebpipes-msk.json'), lambdaContext())).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(seen.map((s) => s.ctx.trigger)).toMatchObject([{ kind: 'stream', source: 'kafka', sequence: '15' }]);
    // The event source mapping's own event is still answered by topic-partition and offset.
    const mapping = mappingEvent(twoRecords('ebpipes-msk.json'));
    await expect(main(mapping, lambdaContext())).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 15 } }] });
  });

  it('arrays that are not the documented Kafka records stay direct inputs', async () => {
    const [msk] = sample('aws', 'ebpipes-msk.json') as unknown as Json[];
    const { eventSourceKey: _k, ...noKey } = msk!;
    const { eventSourceArn: _a, ...noArn } = msk!;
    const otherCluster = { ...msk!, eventSourceArn: `${MSK_ARN}-other` };
    for (const array of [
      [{ topic: 'orders', partition: 0, offset: 1, value: 'eyJhIjoxfQ==' }],
      [{ eventSource: 'kafka', topic: 'orders', partition: 0, offset: 1, eventSourceKey: 'orders-0', eventSourceArn: MSK_ARN }],
      [noKey],
      [noArn],
      [{ ...msk!, eventSource: 'SelfManagedKafka' }],
      [{ ...msk!, topic: 7 }],
      [{ ...msk!, partition: 'zero' }],
      [{ ...msk!, offset: 1.5 }],
      [msk!, otherCluster],
      [msk!, { id: 1 }],
    ]) {
      const run = await runOnAwsEntries(array, (input) => input);
      expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'direct' });
      expect(run.answer).toEqual(array);
    }
  });
});
