/**
 * Kinesis records aggregated by the Kinesis Producer Library (KPL): magic bytes `f3 89 9a c2`,
 * a protobuf `AggregatedRecord`, then the MD5 of that protobuf
 * (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md).
 * The decoding is `aws-kinesis-agg`'s (awslabs): the user passes its `deaggregateSync` as the
 * `kinesisDeaggregate` option, so functions that never see aggregated records do not carry
 * protobufjs. Here: detecting them, and turning the library's answer into user records.
 */
import type { SteadyError } from '../errors.js';
import { malformed } from './item.js';

const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
/** Magic (4) + MD5 (16): an aggregated record is longer than that. */
const FRAMING_BYTES = MAGIC.length + 16;

/** One user record of an aggregated Kinesis record, as `aws-kinesis-agg` gives it. */
export interface KinesisUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  /** Position of the user record inside the aggregated record, from 0. */
  subSequenceNumber: number;
  /** The user record's bytes, base64. */
  data: string;
}

/** The `kinesis` member of a Lambda Kinesis record (the shape `@types/aws-lambda` names `KinesisStreamRecordPayload`). */
export interface KinesisRecordPayload {
  kinesisSchemaVersion: string;
  partitionKey: string;
  sequenceNumber: string;
  /** base64 */
  data: string;
  /** Epoch seconds. */
  approximateArrivalTimestamp: number;
  explicitHashKey?: string;
}

/**
 * `deaggregateSync` of the `aws-kinesis-agg` package: decodes the `kinesis` member of a Lambda
 * Kinesis record (`{ data, partitionKey, sequenceNumber, … }`) and calls `done` with every user
 * record, checking the MD5 when `computeChecksums` is true.
 */
export type KinesisDeaggregate = (
  kinesisRecord: KinesisRecordPayload,
  computeChecksums: boolean,
  done: (error: Error | null | undefined, userRecords?: KinesisUserRecord[]) => void,
) => void;

/** True when `bytes` carry the KPL aggregation framing (magic bytes, room for the MD5). */
export function isKplAggregated(bytes: Buffer): boolean {
  return bytes.length > FRAMING_BYTES && bytes.subarray(0, MAGIC.length).equals(MAGIC);
}

/**
 * The user records of one aggregated record, in order, or the typed error that fails it:
 * `MALFORMED_EVENT` when the library refuses it (bad MD5, not protobuf), so a corrupt record
 * is reported rather than handed over as bytes.
 */
export function deaggregateRecord(
  deaggregate: KinesisDeaggregate,
  kinesis: KinesisRecordPayload,
  field: string,
): KinesisUserRecord[] | SteadyError {
  let failed: unknown;
  let records: KinesisUserRecord[] | undefined;
  try {
    // aws-kinesis-agg may call back more than once (an error for one user record, then the
    // end): the first error wins.
    deaggregate(kinesis, true, (error, userRecords) => {
      if (error) failed ??= error;
      else records ??= userRecords ?? [];
    });
  } catch (thrown) {
    failed ??= thrown;
  }
  if (failed !== undefined) return malformed('The KPL aggregated record could not be decoded (checksum or protobuf)', field, 'a KPL aggregated record with a valid MD5');
  if (records === undefined) return malformed('kinesisDeaggregate did not answer synchronously', field, "aws-kinesis-agg's deaggregateSync");
  if (!records.every((r) => typeof r?.data === 'string' && typeof r.partitionKey === 'string')) {
    return malformed('The KPL aggregated record holds a user record without data or partition key', field, 'user records with data and a partition key');
  }
  return records;
}
