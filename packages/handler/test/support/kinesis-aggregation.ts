/**
 * Real KPL aggregated records, produced by aws-kinesis-agg's `aggregate` (the same encoder the
 * KPL's format describes: magic bytes, protobuf AggregatedRecord, MD5), and the Lambda Kinesis
 * record that carries one.
 */
import { aggregate, deaggregateSync } from 'aws-kinesis-agg';

// Imported by name so the tests check `kinesisDeaggregate` against the package's real types.
export { deaggregateSync };

/** The bytes of one aggregated record holding `records`, in order. */
export function aggregatedBytes(records: Array<{ partitionKey: string; data: Buffer }>): Promise<{ partitionKey: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const encoded: Array<{ partitionKey: string; data: Buffer }> = [];
    // aws-kinesis-agg sends each encoded record to a callback, then calls afterAll.
    aggregate(
      records,
      (record, done) => {
        encoded.push(record);
        done();
      },
      () => (encoded.length === 1 ? resolve(encoded[0]!) : reject(new Error(`expected one aggregated record, got ${encoded.length}`))),
      reject,
    );
  });
}

/** A Lambda Kinesis record (as the event source mapping sends it) whose data is `bytes`. */
export function kinesisRecord(bytes: Buffer, partitionKey: string, sequenceNumber: string, shard = 'shardId-000000000003') {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: bytes.toString('base64'),
      approximateArrivalTimestamp: 1741946531.428,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shard}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/orders-stream-role',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders',
  };
}
