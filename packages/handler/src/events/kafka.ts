/**
 * Kafka records as Lambda delivers them from Amazon MSK (`eventSource: 'aws:kafka'`) and
 * self-managed Apache Kafka (`'SelfManagedKafka'`; Powertools' published sample event writes
 * `'aws:SelfManagedKafka'`, read the same): `records` maps `topic-partition` to the
 * records of that partition, keys and values base64, headers as lists of byte arrays.
 */
import { isUtf8 } from 'node:buffer';
import { MalformedEventError } from '../errors.js';
import { decodeBase64Strict } from '../internal/base64.js';
import { getOwn, isRecord, setOwn, str } from '../internal/record.js';
import { AttributeSink, type TypedAttributes } from './attributes.js';
import { base64Payload } from '../message.js';
import type { StreamTrigger } from '../types.js';
import { isoFromSeconds, malformed, needId, needRecord, needString, opt, rawBase64, streamDeliveryId, withRawBody, type EventItem, type ParseOptions } from './item.js';

export function isLambdaKafkaEvent(event: Record<string, unknown>): boolean {
  return (event.eventSource === 'aws:kafka' || event.eventSource === 'SelfManagedKafka' || event.eventSource === 'aws:SelfManagedKafka') && isRecord(event.records);
}

/** The members EventBridge Pipes adds to each Kafka record: the mapping event's own, and `eventSourceKey` (the record's `records` key). */
const PIPES_MEMBERS: ReadonlySet<string> = new Set(['eventSource', 'eventSourceArn', 'bootstrapServers', 'eventSourceKey']);

/** A Kafka partition or offset: a whole number, or its decimal text (Pipes writes `partition` as text). */
function isKafkaPosition(value: unknown): boolean {
  return (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^[0-9]+$/.test(value));
}

/**
 * One element of an EventBridge Pipes Kafka array as documented: `eventSource` `'aws:kafka'`
 * with an `eventSourceArn`, or `'SelfManagedKafka'` with `bootstrapServers`; `eventSourceKey`
 * and `topic` as text; `partition` and `offset` whole numbers or their decimal text.
 */
function isPipesKafkaRecord(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const cluster = value.eventSource === 'aws:kafka' ? value.eventSourceArn : value.eventSource === 'SelfManagedKafka' ? value.bootstrapServers : undefined;
  return (
    typeof cluster === 'string' &&
    typeof value.eventSourceKey === 'string' &&
    typeof value.topic === 'string' &&
    isKafkaPosition(value.partition) &&
    isKafkaPosition(value.offset)
  );
}

/**
 * EventBridge Pipes with an Amazon MSK or self-managed Kafka source send a Lambda target a JSON
 * array of records, each carrying the mapping event's `eventSource` and `eventSourceArn` /
 * `bootstrapServers` and its `topic-partition` as `eventSourceKey` (Amazon EventBridge User
 * Guide, "Amazon Managed Streaming for Apache Kafka topic as a source" and "Self managed Apache
 * Kafka stream as a source", Example events). Returns the event source mapping's event for
 * them — `{ eventSource, eventSourceArn | bootstrapServers, records: { [eventSourceKey]: [...] } }`,
 * each partition's records in the array's order — or undefined when `records` is not such an
 * array (an element of another shape, or of another source or cluster).
 */
export function pipesKafkaEvent(records: readonly unknown[]): Record<string, unknown> | undefined {
  const first = records[0];
  if (!isPipesKafkaRecord(first)) return undefined;
  const groups: Record<string, unknown[]> = {};
  for (const element of records) {
    if (!isPipesKafkaRecord(element)) return undefined;
    if (element.eventSource !== first.eventSource || element.eventSourceArn !== first.eventSourceArn || element.bootstrapServers !== first.bootstrapServers) return undefined;
    const record: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(element)) if (!PIPES_MEMBERS.has(name)) setOwn(record, name, value);
    const key = element.eventSourceKey as string;
    const list = getOwn(groups, key);
    if (list) list.push(record);
    else setOwn(groups, key, [record]);
  }
  const event: Record<string, unknown> = { eventSource: first.eventSource };
  if (typeof first.eventSourceArn === 'string') event.eventSourceArn = first.eventSourceArn;
  if (typeof first.bootstrapServers === 'string') event.bootstrapServers = first.bootstrapServers;
  event.records = groups;
  return event;
}

/** A key as text when its bytes are UTF-8, else as base64. */
function keyText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const bytes = decodeBase64Strict(needString(value, field, 'base64 text'));
  if (!bytes) throw malformed('Kafka key is not base64', field, 'base64 text');
  return isUtf8(bytes) ? bytes.toString('utf8') : (value as string);
}

/** One Kafka record header: its key and its value's exact bytes. */
type KafkaHeader = NonNullable<StreamTrigger['headers']>[number];

/** One header value: Lambda's list of byte numbers, or base64 text (how Jackson writes a Java `byte[]`). */
function headerBytes(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return decodeBase64Strict(value);
  if (!Array.isArray(value) || !value.every((b) => Number.isInteger(b) && b >= -128 && b <= 255)) return undefined;
  return Buffer.from(value.map((b: number) => b & 0xff));
}

/**
 * Lambda's `headers`: a list of one-key objects `{ [key]: bytes[] }` in the record's order
 * (Java's signed bytes may be negative); a key may repeat. The Java event library's
 * serialised events (aws-lambda-java-libs `kafka_event_roundtrip.json`) carry each value as
 * base64 text instead, read the same. Entries that are neither shape are skipped.
 */
function kafkaHeaders(value: unknown): KafkaHeader[] {
  const out: KafkaHeader[] = [];
  if (!Array.isArray(value)) return out;
  for (const entry of value) {
    if (!isRecord(entry)) continue;
    for (const [key, raw] of Object.entries(entry)) {
      const bytes = headerBytes(raw);
      if (bytes) out.push({ key, value: bytes });
    }
  }
  return out;
}

/**
 * The headers by key: a key whose values are all UTF-8 is text, repeated values joined with
 * `, `; a key with a value that is not UTF-8 is bytes, its last value (bytes cannot be joined;
 * the last is what Kafka's `Headers.lastHeader(key)` gives). Every value is in the list.
 */
function headerAttributes(headers: ReadonlyArray<KafkaHeader>): TypedAttributes {
  const values = new Map<string, Buffer[]>();
  for (const { key, value } of headers) {
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  const sink = new AttributeSink();
  for (const [name, list] of values) {
    if (list.every((bytes) => isUtf8(bytes))) sink.text(name, list.map((bytes) => bytes.toString('utf8')).join(', '));
    else sink.bytes(name, list.at(-1)!);
  }
  return sink.result();
}

/**
 * A record's time (ISO 8601), or none for a record without a timestamp: Kafka writes
 * `NO_TIMESTAMP` (-1) with `timestampType: 'NO_TIMESTAMP_TYPE'` (a record from a pre-0.10
 * producer or message format), which is no instant — not 1969-12-31T23:59:59.999Z.
 */
function recordTime(record: Record<string, unknown>): string | undefined {
  if (record.timestampType === 'NO_TIMESTAMP_TYPE' || typeof record.timestamp !== 'number' || record.timestamp < 0) return undefined;
  return isoFromSeconds(record.timestamp / 1000);
}

/**
 * Every record of the batch, partition by partition in the order Lambda sent them.
 * `ctx.trigger.time` is the record's `timestamp` (absent when it has none, see `recordTime`).
 * `ctx.deliveryId` is `<cluster>/topic/partition/offset`: offsets are unique only inside one
 * cluster's topic partition, and a function may read several clusters (one event source
 * mapping each), so the cluster is named — Amazon MSK by `eventSourceArn`, self-managed Kafka
 * (which has no ARN) by the mapping's `bootstrapServers`. Without either (a hand-built
 * event), `topic/partition/offset`. A record whose topic, partition and offset are read but
 * whose key is not base64 text is an item whose payload throws the MALFORMED_EVENT: it fails
 * alone, named by its offset; only a record that cannot be placed fails the whole batch.
 */
export function lambdaKafkaItems(event: Record<string, unknown>, options: ParseOptions): EventItem[] {
  const groups = needRecord(event.records, 'records', 'topic-partition → records');
  const cluster = str(event.eventSourceArn) || str(event.bootstrapServers);
  const flat: Array<{ raw: unknown; field: string }> = [];
  for (const [group, list] of Object.entries(groups)) {
    if (!Array.isArray(list)) throw malformed('Kafka records of a partition are not a list', `records.${group}`, 'a list');
    Array.from(list).forEach((raw, i) => flat.push({ raw, field: `records.${group}.${i}` }));
  }
  return flat.map(({ raw, field }, index): EventItem => {
    const record = needRecord(raw, field, 'a Kafka record');
    const topic = needString(record.topic, `${field}.topic`);
    const partition = needId(record.partition, `${field}.partition`);
    const offset = needId(record.offset, `${field}.offset`);
    const time = recordTime(record);
    // Headers never throw (an entry of another shape is skipped); a key that is not base64 text
    // fails this record alone when run, reported by its offset, never the whole batch.
    const headers = kafkaHeaders(record.headers);
    let key: string | undefined;
    let unreadable: MalformedEventError | undefined;
    try {
      key = keyText(record.key, `${field}.key`);
    } catch (thrown) {
      if (!(thrown instanceof MalformedEventError)) throw thrown;
      unreadable = thrown;
    }
    const trigger: StreamTrigger = {
      kind: 'stream',
      source: 'kafka',
      stream: topic,
      partition,
      sequence: offset,
      ...opt('key', key),
      ...opt('time', time),
      ...headerAttributes(headers),
      ...opt('headers', headers.length > 0 ? headers : undefined),
      batchIndex: index,
      batchSize: flat.length,
    };
    const value = record.value;
    withRawBody(trigger, () => rawBase64(value));
    return {
      trigger,
      deliveryId: streamDeliveryId(cluster, `${topic}/${partition}/${offset}`),
      // A tombstone (null value) is a record too: the function receives null.
      payload: () => {
        if (unreadable) throw unreadable;
        if (value === null || value === undefined) return null;
        if (typeof value !== 'string') throw malformed('Kafka value is not base64 text', `${field}.value`, 'base64 text');
        return base64Payload(value, options.body, { field: `${field}.value` });
      },
    };
  });
}
