/**
 * aws-powertools/powertools-lambda-typescript#3530 (fixed by PR #3531, "allow Kinesis envelopes
 * to handle non-JSON strings")
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/3530
 *
 * The parser's Kinesis Data Streams envelope base64-decoded each record's `data` and then ran
 * `JSON.parse` on it, whatever the producer had written: a stream of plain-text records (log
 * lines, CSV rows) failed on every record, even with a schema that asked for a string.
 *
 * steadyfn's default `body: 'auto'` keeps a record's text as text when it is not JSON, parses
 * it when it is, and gives bytes that are not text as a `Buffer`. Replayed: a Kinesis batch of
 * a log line, a CSV row, a JSON object and a JSON-looking text that does not parse, validated by
 * a schema for a string or an object; every record runs with what the producer wrote, none fails.
 */
import { handler } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, type Json } from './support.js';

const STREAM = 'arn:aws:kinesis:eu-west-1:123456789012:stream/app-logs';

function kinesisRecord(data: string, n: number): Json {
  const seq = `4959033827149025660855969253836157109592157598913658${8800 + n}`;
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: `pk-${n}`, sequenceNumber: seq, data: Buffer.from(data, 'utf8').toString('base64'), approximateArrivalTimestamp: 1737800000.123 + n },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM,
  };
}

describe('powertools-lambda-typescript#3530: plain-text Kinesis records are not parsed as JSON', () => {
  it('text records reach a string schema as their text; a JSON record is parsed; nothing fails', async () => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, input: z.union([z.string(), z.object({ level: z.string(), msg: z.string() })]) }, (input) => {
      seen.push(input);
    });
    const data = ['2025-01-25T10:00:00Z INFO user signed in', 'o-17,lamp,2,19.90', '{"level":"warn","msg":"disk 91%"}', '{not json: but text}'];
    const answer = await main.aws({ Records: data.map(kinesisRecord) }, lambdaContext());
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['2025-01-25T10:00:00Z INFO user signed in', 'o-17,lamp,2,19.90', { level: 'warn', msg: 'disk 91%' }, '{not json: but text}']);
  });

  it("with body 'text' every record is its text, the JSON one too", async () => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, body: 'text', input: z.string() }, (input) => {
      seen.push(input);
    });
    const data = ['hello', '{"level":"warn","msg":"disk 91%"}'];
    expect(await main.aws({ Records: data.map(kinesisRecord) }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(data);
  });
});
