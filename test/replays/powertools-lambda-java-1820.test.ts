/**
 * aws-powertools/powertools-lambda-java#1820 ("Do No Continue Processing Event in Batch Mode for
 * Kinesis/DDBStreams")
 * https://github.com/aws-powertools/powertools-lambda-java/issues/1820
 *
 * The batch utility ran every record of a DynamoDB Streams (or Kinesis) batch after one had
 * failed and reported each failure. Lambda checkpoints a stream at the lowest reported sequence
 * number and redelivers everything after it, so records later than the failure — for the same
 * purchase id — had already run out of order, and ran again on every retry.
 *
 * steadyfn stops a stream batch at its first failure (later records are not run, so the
 * shard's order holds) and answers that record's sequence number alone. Replayed: a DynamoDB
 * Streams batch and a Kinesis batch of four records for one key, the second failing; only the
 * first two run, the answer names the second's sequence number; the redelivery from there runs
 * in order and reports nothing.
 */
import { handler, RetryableError } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { lambdaContext, type Json } from './support.js';

const TABLE_STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/purchases/stream/2025-03-14T10:00:00.000';
const KINESIS = 'arn:aws:kinesis:eu-west-1:123456789012:stream/purchases';

/** A DynamoDB Streams `MODIFY` record (Lambda developer guide, "Example event"). */
function ddbRecord(step: number): Json {
  const seq = String(111000000000000000000 + step * 100);
  return {
    eventID: `c4ca4238a0b923820dcc509a6f75849b-${step}`,
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      ApproximateCreationDateTime: 1741946531,
      Keys: { purchaseId: { S: 'p-1' } },
      NewImage: { purchaseId: { S: 'p-1' }, step: { N: String(step) } },
      SequenceNumber: seq,
      SizeBytes: 59,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: TABLE_STREAM,
  };
}

/** A Kinesis record (Lambda developer guide, "Example event"), partition key = the purchase. */
function kinesisRecord(step: number): Json {
  const seq = `49590338271490256608559692538361571095921575989136588${800 + step}`;
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'p-1', sequenceNumber: seq, data: Buffer.from(JSON.stringify({ purchaseId: 'p-1', step })).toString('base64'), approximateArrivalTimestamp: 1741946531.123 },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000006:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
    awsRegion: 'eu-west-1',
    eventSourceARN: KINESIS,
  };
}

const sequenceOf = (r: Json): string => r.dynamodb?.SequenceNumber ?? r.kinesis.sequenceNumber;

describe.each([
  ['DynamoDB Streams', ddbRecord],
  ['Kinesis', kinesisRecord],
] as const)('powertools-lambda-java#1820 on %s: a stream batch stops at its first failure', (_name, record) => {
  it('records after the failed one are not run; the answer names the failed record; the redelivery runs in order', async () => {
    const ran: number[] = [];
    let failStep2 = true;
    const main = handler({ logSink: () => undefined, body: 'json' }, (input: any) => {
      if (input.step === 2 && failStep2) {
        failStep2 = false;
        throw new RetryableError('PAYMENTS_UNAVAILABLE', 'payments service unavailable');
      }
      ran.push(input.step);
    });
    const batch = [1, 2, 3, 4].map(record);
    const first = await main.aws({ Records: batch }, lambdaContext());
    expect(ran).toEqual([1]);
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceOf(batch[1]!) }] });

    // Lambda checkpoints before the lowest reported sequence number and resends from it.
    const second = await main.aws({ Records: batch.slice(1) }, lambdaContext());
    expect(second).toEqual({ batchItemFailures: [] });
    expect(ran).toEqual([1, 2, 3, 4]);
  });
});
