/**
 * Kinesis Data Streams records (Lambda event source mapping) as `stream` items. `data` is
 * base64; the function receives it under the handler's `body` mode (bytes that are not UTF-8
 * stay a `Buffer`). A record the KPL aggregated becomes one item per user record when the
 * handler has `kinesisDeaggregate` (see kinesis-aggregation.ts).
 */
import { KinesisAggregatedRecordError, type SteadyError } from '../errors.js';
import { decodeBase64Strict } from '../internal/base64.js';
import { isRecord, nonEmptyStr, type Rec } from '../internal/record.js';
import { base64Payload } from '../message.js';
import type { StreamTrigger } from '../types.js';
import { deaggregateRecord, isKplAggregated, type KinesisDeaggregate } from './kinesis-aggregation.js';
import { isoFromSeconds, needRecord, needString, opt, rawBase64, streamDeliveryId, withRawBody, type EventItem, type ParseOptions, type RawBody } from './item.js';

export function isKinesisRecord(record: unknown): boolean {
  return isRecord(record) && record.eventSource === 'aws:kinesis';
}

/**
 * `arn:aws:kinesis:region:account:stream/orders` → `orders`. An ARN that names no stream (the
 * sample events of aws-sam-cli and aws-lambda-java-libs send `arn:aws:kinesis:EXAMPLE`) is kept
 * whole, so records of two such sources are still told apart; no ARN at all is `''`.
 */
function streamFromArn(arn: unknown): string {
  const text = typeof arn === 'string' ? arn : '';
  const match = /:stream\/([^/]+)/.exec(text);
  return match?.[1] ?? text;
}

/** What the parser takes from the handler: the body mode, and how to read aggregated records. */
export interface KinesisParseOptions extends ParseOptions {
  kinesisDeaggregate?: KinesisDeaggregate | false | undefined;
}

/** One Kinesis record, read: where it sits, and what to hand over for it. */
interface KinesisRecordParts {
  field: string;
  kinesis: Rec;
  trigger: Omit<StreamTrigger, 'batchIndex' | 'batchSize'>;
  deliveryId: string;
  sequence: string;
  /** The record's own `eventID` (`shardId-…:<sequenceNumber>`), when it has one. */
  eventId: string | undefined;
}

function readRecord(raw: unknown, index: number): KinesisRecordParts {
  const field = `Records.${index}`;
  const record = needRecord(raw, field, 'a Kinesis record');
  const kinesis = needRecord(record.kinesis, `${field}.kinesis`);
  const sequence = needString(kinesis.sequenceNumber, `${field}.kinesis.sequenceNumber`);
  // An empty (or blank) eventID is none: kept, it gave every such record of a stream one delivery id
  // (`<eventSourceARN>/`), so idempotency answered the second as the first.
  const eventId = nonEmptyStr(record.eventID);
  const colon = eventId?.lastIndexOf(':') ?? -1;
  const shard = eventId !== undefined && colon > 0 ? eventId.slice(0, colon) : '';
  return {
    field,
    kinesis,
    sequence,
    eventId,
    // Without an eventID, the position it would name: `:<sequenceNumber>` (no shard to name).
    deliveryId: streamDeliveryId(record.eventSourceARN, eventId ?? `${shard}:${sequence}`),
    trigger: {
      kind: 'stream',
      source: 'kinesis',
      stream: streamFromArn(record.eventSourceARN),
      partition: shard,
      sequence,
      ...opt('key', typeof kinesis.partitionKey === 'string' ? kinesis.partitionKey : undefined),
      ...opt('time', isoFromSeconds(kinesis.approximateArrivalTimestamp)),
      attributes: {},
    },
  };
}

/** An item that fails with `error` when run: the record is reported, never skipped. */
/** An item before its place in the flattened batch is known; `rawBody` reads its payload's bytes. */
type RecordItem = Omit<EventItem, 'trigger'> & { trigger: KinesisRecordParts['trigger']; rawBody: () => RawBody | undefined };

function failing(parts: KinesisRecordParts, error: SteadyError): RecordItem {
  return { trigger: parts.trigger, deliveryId: parts.deliveryId, rawBody: () => undefined, payload: () => { throw error; } };
}

/** The items of one record: itself, or each user record of a KPL aggregated record. */
function recordItems(parts: KinesisRecordParts, options: KinesisParseOptions): RecordItem[] {
  const { field, kinesis } = parts;
  const dataField = `${field}.kinesis.data`;
  const data = kinesis.data;
  const whole = { trigger: parts.trigger, deliveryId: parts.deliveryId, rawBody: () => rawBase64(data), payload: () => base64Payload(needString(data, dataField, 'base64 text'), options.body, { field: dataField }) };
  if (options.kinesisDeaggregate === false || typeof data !== 'string') return [whole];
  const bytes = decodeBase64Strict(data);
  if (!bytes || !isKplAggregated(bytes)) return [whole];
  if (options.kinesisDeaggregate === undefined) return [failing(parts, new KinesisAggregatedRecordError(dataField))];
  const explicitHashKey = typeof kinesis.explicitHashKey === 'string' ? kinesis.explicitHashKey : undefined;
  const users = deaggregateRecord(
    options.kinesisDeaggregate,
    {
      kinesisSchemaVersion: typeof kinesis.kinesisSchemaVersion === 'string' ? kinesis.kinesisSchemaVersion : '1.0',
      data,
      partitionKey: typeof kinesis.partitionKey === 'string' ? kinesis.partitionKey : '',
      sequenceNumber: parts.sequence,
      approximateArrivalTimestamp: typeof kinesis.approximateArrivalTimestamp === 'number' ? kinesis.approximateArrivalTimestamp : 0,
      ...opt('explicitHashKey', explicitHashKey),
    },
    dataField,
  );
  if (!Array.isArray(users)) return [failing(parts, users)];
  return users.map((user, sub) => {
    // No explicit hash key: aws-kinesis-agg reports the table's first one for user records
    // that have none, so it cannot be carried faithfully.
    const userField = `${dataField}[${sub}]`;
    return {
      trigger: { ...parts.trigger, key: user.partitionKey, subSequence: String(sub), attributes: {} },
      // Stable across redeliveries: the aggregated record comes back whole, in the same order.
      deliveryId: `${parts.deliveryId}:${sub}`,
      // The user record's own data, not the aggregated record's.
      rawBody: () => rawBase64(user.data),
      payload: () => base64Payload(user.data, options.body, { field: userField }),
    };
  });
}

/**
 * The records of a Kinesis batch, in order (user records of an aggregated record in their
 * order). `ctx.deliveryId` is the stream's ARN and the record's `eventID`
 * (`arn:aws:kinesis:…:stream/orders/shardId-…:sequenceNumber`), with `:<subSequence>` for a
 * user record; a record without an `eventID` (absent or empty) names its position
 * `<eventSourceARN>/:<sequenceNumber>` instead, never the bare ARN. `sequences` (one per item)
 * are what the event source mapping's `batchItemFailures` reports — for a user record, its
 * aggregated record's sequence number — and `eventIds` (one per item, the record's `eventID`,
 * absent when the record has none or an empty one) what an EventBridge Pipe's reports.
 */
export function kinesisItems(records: ReadonlyArray<unknown>, options: KinesisParseOptions): { items: EventItem[]; sequences: string[]; eventIds: Array<string | undefined> } {
  const flat = Array.from(records).flatMap((raw, index) => {
    const parts = readRecord(raw, index);
    return recordItems(parts, options).map((item) => ({ item, sequence: parts.sequence, eventId: parts.eventId }));
  });
  return {
    items: flat.map(({ item: { rawBody, ...item } }, i): EventItem => ({ ...item, trigger: withRawBody({ ...item.trigger, batchIndex: i, batchSize: flat.length } as StreamTrigger, rawBody) })),
    sequences: flat.map(({ sequence }) => sequence),
    eventIds: flat.map(({ eventId }) => eventId),
  };
}
