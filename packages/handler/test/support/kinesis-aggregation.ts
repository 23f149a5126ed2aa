/**
 * Real KPL aggregated records, produced by aws-kinesis-agg's `aggregate` (the same encoder the
 * KPL's format describes: magic bytes, protobuf AggregatedRecord, MD5), and the Lambda Kinesis
 * record that carries one.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  aggregate(
    records: Array<{ partitionKey: string; data: Buffer }>,
    onEncoded: (encoded: { partitionKey: string; data: Buffer }, done: () => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
  deaggregateSync: import('../../src/index.js').KinesisDeaggregate;
};

export const { deaggregateSync } = agg;

/** The bytes of one aggregated record holding `records`, in order. */
export function aggregatedBytes(records: Array<{ partitionKey: string; data: Buffer }>): Promise<{ partitionKey: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const encoded: Array<{ partitionKey: string; data: Buffer }> = [];
    agg.aggregate(
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
