/**
 * What reading event sources costs, each against a peer measured in the same run:
 * - the lossless JSON parse of a message body against plain `JSON.parse` (typical body, and a
 *   body with 16+ digit runs that takes the number-checking path);
 * - a 100-record Kinesis batch and a 100-record DynamoDB Streams batch through `main.aws`
 *   against a 100-message SQS batch (the batch path that existed before);
 * - 100 user records packed by the KPL into 10 aggregated Kinesis records (de-aggregated with
 *   aws-kinesis-agg, MD5 checked) against the same 100 records sent plain;
 * - a 100-message SQS batch whose bodies are SNS envelopes (SNS → SQS without raw delivery),
 *   unwrapped and kept (`snsEnvelope: 'keep'`), against the same messages sent raw.
 */
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { handler } from '../src/index.js';
import { parseJsonLossless } from '../src/internal/json.js';
import { aggregatedBytes, deaggregateSync, kinesisRecord } from '../test/support/kinesis-aggregation.js';

const fixture = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../test/fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, any>;
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };
const main = handler({ logSink: () => undefined }, () => undefined);
const kplMain = handler({ logSink: () => undefined, kinesisDeaggregate: deaggregateSync }, () => undefined);
const keepMain = handler({ logSink: () => undefined, snsEnvelope: 'keep' }, () => undefined);

const typical = JSON.stringify({ orderId: 'o-42', quantity: 2, total: 19.99, items: [{ sku: 'sku-1', qty: 2 }], note: 'gift wrap, leave at the door' });
const digits = JSON.stringify({ orderId: 'o-42', trace: 1234567890123456, items: [{ sku: 'sku-1', qty: 2 }] });

function times<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i));
}
const sqs = fixture('aws/sqs-standard-batch.json');
const sqsBatch = { Records: times(100, (i) => ({ ...sqs.Records[0], messageId: `m-${i}`, body: typical })) };
const snsSample = fixture('aws/published/sqs-sns-envelope.json').Records[0];
const envelopeOf = (i: number): string => JSON.stringify({ ...JSON.parse(snsSample.body), MessageId: `sns-${i}`, Message: typical });
const envelopeBatch = { Records: times(100, (i) => ({ ...snsSample, messageId: `m-${i}`, body: envelopeOf(i) })) };
const kinesis = fixture('aws/kinesis-batch.json');
const kinesisBatch = { Records: times(100, (i) => ({ ...kinesis.Records[0], eventID: `shardId-000000000006:${i}`, kinesis: { ...kinesis.Records[0].kinesis, sequenceNumber: String(i), data: Buffer.from(typical).toString('base64') } })) };
const ddb = fixture('aws/dynamodb-streams-batch.json');
const ddbBatch = { Records: times(100, (i) => ({ ...ddb.Records[1], dynamodb: { ...ddb.Records[1].dynamodb, SequenceNumber: String(i) } })) };

type Row = { latency: { p50?: number } };

test('event-source parsing against its peers', async ({ bench }) => {
  const packed = await Promise.all(times(10, (r) => aggregatedBytes(times(10, (u) => ({ partitionKey: `o-${r}-${u}`, data: Buffer.from(typical) })))));
  const kplBatch = { Records: packed.map((p, i) => kinesisRecord(p.data, p.partitionKey, String(i))) };
  const results = await bench.compare(
    bench('JSON.parse (typical body)', () => void JSON.parse(typical)),
    bench('parseJsonLossless (typical body)', () => void parseJsonLossless(typical)),
    bench('JSON.parse (16-digit number)', () => void JSON.parse(digits)),
    bench('parseJsonLossless (16-digit number)', () => void parseJsonLossless(digits)),
    bench('SQS batch of 100', async () => void (await main.aws(sqsBatch, lambdaContext))),
    bench('SQS batch of 100 SNS envelopes, unwrapped', async () => void (await main.aws(envelopeBatch, lambdaContext))),
    bench('SQS batch of 100 SNS envelopes, kept', async () => void (await keepMain.aws(envelopeBatch, lambdaContext))),
    bench('Kinesis batch of 100', async () => void (await main.aws(kinesisBatch, lambdaContext))),
    bench('DynamoDB Streams batch of 100', async () => void (await main.aws(ddbBatch, lambdaContext))),
    bench('Kinesis KPL: 10 aggregated records of 10', async () => void (await kplMain.aws(kplBatch, lambdaContext))),
  );
  const p50 = (name: string) => ((results.get(name as never) as unknown as Row).latency.p50 ?? Number.NaN) * 1000;
  const ratio = (name: string, base: string) => console.log(`[bench] ${name}: p50 ${p50(name).toFixed(2)} µs, ${(p50(name) / p50(base)).toFixed(2)}× ${base}`);
  ratio('parseJsonLossless (typical body)', 'JSON.parse (typical body)');
  ratio('parseJsonLossless (16-digit number)', 'JSON.parse (16-digit number)');
  ratio('Kinesis batch of 100', 'SQS batch of 100');
  ratio('DynamoDB Streams batch of 100', 'SQS batch of 100');
  ratio('Kinesis KPL: 10 aggregated records of 10', 'Kinesis batch of 100');
  ratio('SQS batch of 100 SNS envelopes, unwrapped', 'SQS batch of 100');
  ratio('SQS batch of 100 SNS envelopes, unwrapped', 'SQS batch of 100 SNS envelopes, kept');
});
