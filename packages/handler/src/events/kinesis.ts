/**
 * Kinesis Data Streams records (Lambda event source mapping) as `stream` items. `data` is
 * base64; the function receives it under the handler's `body` mode (bytes that are not UTF-8
 * stay a `Buffer`).
 */
import { isRecord } from '../internal/record.js';
import { base64Payload } from '../message.js';
import type { StreamTrigger } from '../types.js';
import { isoFromSeconds, needRecord, needString, opt, type EventItem, type ParseOptions } from './item.js';

export function isKinesisRecord(record: unknown): boolean {
  return isRecord(record) && record.eventSource === 'aws:kinesis';
}

/** `arn:aws:kinesis:region:account:stream/orders` → `orders`. */
function streamFromArn(arn: unknown): string {
  const match = /:stream\/([^/]+)/.exec(typeof arn === 'string' ? arn : '');
  return match?.[1] ?? '';
}

/**
 * The records of a Kinesis batch, in order. `ctx.deliveryId` is the record's `eventID`
 * (`shardId-…:sequenceNumber`); `sequences` are what `batchItemFailures` reports.
 */
export function kinesisItems(records: ReadonlyArray<unknown>, options: ParseOptions): { items: EventItem[]; sequences: string[] } {
  const sequences: string[] = [];
  const items = Array.from(records).map((raw, index): EventItem => {
    const field = `Records.${index}`;
    const record = needRecord(raw, field, 'a Kinesis record');
    const kinesis = needRecord(record.kinesis, `${field}.kinesis`);
    const sequence = needString(kinesis.sequenceNumber, `${field}.kinesis.sequenceNumber`);
    sequences.push(sequence);
    const data = kinesis.data;
    const eventId = typeof record.eventID === 'string' ? record.eventID : undefined;
    const colon = eventId?.lastIndexOf(':') ?? -1;
    const shard = eventId !== undefined && colon > 0 ? eventId.slice(0, colon) : '';
    const trigger: StreamTrigger = {
      kind: 'stream',
      source: 'kinesis',
      stream: streamFromArn(record.eventSourceARN),
      partition: shard,
      sequence,
      ...opt('key', typeof kinesis.partitionKey === 'string' ? kinesis.partitionKey : undefined),
      ...opt('time', isoFromSeconds(kinesis.approximateArrivalTimestamp)),
      attributes: {},
      batchIndex: index,
      batchSize: records.length,
    };
    return {
      trigger,
      deliveryId: eventId ?? `${shard}:${sequence}`,
      payload: () => base64Payload(needString(data, `${field}.kinesis.data`, 'base64 text'), options.body, { field: `${field}.kinesis.data` }),
    };
  });
  return { items, sequences };
}
