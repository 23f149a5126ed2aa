/**
 * KPL aggregated Kinesis records through the Lambda adapter, made by aws-kinesis-agg's real
 * encoder: de-aggregated with `kinesisDeaggregate`, refused retryably without it, handed over
 * as bytes with `false`, and a corrupt one (bad MD5) reported rather than run.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '../index.js';
import { aggregatedBytes, deaggregateSync, kinesisRecord } from '../../test/support/kinesis-aggregation.js';
import { isKplAggregated } from './kinesis-aggregation.js';

const lambdaContext = () => ({ awsRequestId: 'req-agg', functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });
const SEQ_A = '49590338271490256608559692538361571095921575989136588898';
const SEQ_B = '49590338271490256608559692540925702759324208523137515618';

async function batch() {
  const aggregated = await aggregatedBytes([
    { partitionKey: 'o-1', data: Buffer.from('{"orderId":"o-1","quantity":2}') },
    { partitionKey: 'o-2', data: Buffer.from('12345678901234567890') },
    { partitionKey: 'o-3', data: Buffer.from([0xff, 0xfe, 0x00, 0x80]) },
  ]);
  return {
    aggregated,
    event: {
      Records: [kinesisRecord(aggregated.data, aggregated.partitionKey, SEQ_A), kinesisRecord(Buffer.from('{"orderId":"plain"}'), 'plain', SEQ_B)],
    },
  };
}

function recorder(fail?: (input: unknown) => boolean) {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return {
    seen,
    fn: (input: unknown, ctx: Context) => {
      seen.push({ input, ctx });
      if (fail?.(input)) throw new Error('boom');
      return undefined;
    },
  };
}

describe('KPL aggregated Kinesis records', () => {
  it('the encoder produced the KPL framing (magic bytes f3 89 9a c2, MD5 trailer)', async () => {
    const { aggregated } = await batch();
    expect(aggregated.data.subarray(0, 4).toString('hex')).toBe('f3899ac2');
    expect(isKplAggregated(aggregated.data)).toBe(true);
    expect(isKplAggregated(Buffer.from('{"orderId":"plain"}'))).toBe(false);
  });

  it('runs each user record in order, with its own key, sub-sequence and delivery id, then the plain record', async () => {
    const { seen, fn } = recorder();
    const { event } = await batch();
    expect(await handler({ kinesisDeaggregate: deaggregateSync }, fn).aws(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.input)).toEqual([{ orderId: 'o-1', quantity: 2 }, '12345678901234567890', Buffer.from([0xff, 0xfe, 0x00, 0x80]), { orderId: 'plain' }]);
    expect(seen.map((s) => s.ctx.deliveryId)).toEqual([
      `shardId-000000000003:${SEQ_A}:0`,
      `shardId-000000000003:${SEQ_A}:1`,
      `shardId-000000000003:${SEQ_A}:2`,
      `shardId-000000000003:${SEQ_B}`,
    ].map((id) => `arn:aws:kinesis:eu-west-1:123456789012:stream/orders/${id}`));
    expect(seen[1]!.ctx.trigger).toEqual({
      kind: 'stream',
      source: 'kinesis',
      stream: 'orders',
      partition: 'shardId-000000000003',
      sequence: SEQ_A,
      subSequence: '1',
      key: 'o-2',
      time: '2025-03-14T10:02:11.428Z',
      attributes: {},
      batchIndex: 1,
      batchSize: 4,
    });
    expect(seen[3]!.ctx.trigger).not.toHaveProperty('subSequence');
  });

  it('a failing user record names its aggregated record and stops the shard (order holds)', async () => {
    const { seen, fn } = recorder((input) => input === '12345678901234567890');
    const { event } = await batch();
    expect(await handler({ kinesisDeaggregate: deaggregateSync }, fn).aws(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: SEQ_A }] });
    expect(seen).toHaveLength(2);
  });

  it('without kinesisDeaggregate, an aggregated record fails retryably (KINESIS_AGGREGATED_RECORD) and never reaches the function', async () => {
    const { seen, fn } = recorder();
    const lines: Array<Record<string, any>> = [];
    const { event } = await batch();
    const answer = await handler({ logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line)) }, fn).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: SEQ_A }] });
    expect(seen).toHaveLength(0);
    expect(JSON.stringify(lines)).toContain('KINESIS_AGGREGATED_RECORD');
  });

  it('with kinesisDeaggregate: false, the aggregated bytes are handed over as they are', async () => {
    const { seen, fn } = recorder();
    const { event, aggregated } = await batch();
    await handler({ kinesisDeaggregate: false }, fn).aws(event, lambdaContext());
    expect(seen[0]!.input).toEqual(aggregated.data);
    expect(seen).toHaveLength(2);
  });

  it('a corrupt aggregated record (MD5 does not match) fails as MALFORMED_EVENT, reported, not run', async () => {
    const { seen, fn } = recorder();
    const { event, aggregated } = await batch();
    const corrupt = Buffer.from(aggregated.data);
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff;
    event.Records[0] = kinesisRecord(corrupt, aggregated.partitionKey, SEQ_A);
    const lines: Array<Record<string, any>> = [];
    const answer = await handler({ kinesisDeaggregate: deaggregateSync, logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line)) }, fn).aws(event, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: SEQ_A }] });
    expect(seen).toHaveLength(0);
    expect(JSON.stringify(lines)).toContain('MALFORMED_EVENT');
  });

  it('refuses a kinesisDeaggregate that is not a function or false', () => {
    expect(() => handler({ kinesisDeaggregate: true as never }, () => 1)).toThrow(/kinesisDeaggregate/);
  });
});
