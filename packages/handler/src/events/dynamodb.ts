/**
 * DynamoDB Streams records (Lambda event source mapping) as `change` items.
 *
 * Attribute values are unmarshalled to plain JSON by hand rather than with
 * `@aws-sdk/util-dynamodb`: in a stream event binary values arrive as base64 text (the
 * library passes them through), sets become `Set`s (not JSON), numbers beyond 2^53 throw, and
 * maps are built by plain assignment (an attribute named `__proto__` would set the prototype).
 * Here: `S` text, `N` a number when lossless else its exact text, `B` a `Buffer`, `SS`/`NS`/`BS`
 * arrays, `M`/`L` objects/arrays, `BOOL`, `NULL` → null. A type member that is `null` is absent.
 */
import { MalformedEventError } from '../errors.js';
import { decodeBase64Strict } from '../internal/base64.js';
import { isLosslessNumber } from '../internal/json.js';
import { isRecord, setOwn, type Rec } from '../internal/record.js';
import type { ChangeTrigger } from '../types.js';
import { isoFromSeconds, malformed, needRecord, needString, opt, streamDeliveryId, type EventItem } from './item.js';

/** DynamoDB nests documents at most 32 levels; anything deeper is not from DynamoDB. */
const MAX_ATTRIBUTE_DEPTH = 64;

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function numberValue(text: unknown, field: string): number | string {
  if (typeof text !== 'string' || !NUMBER.test(text.trim())) throw malformed('DynamoDB number is not a decimal string', field, 'a decimal number as text');
  const n = Number(text);
  return isLosslessNumber(text, n) ? n : text;
}

function bytesValue(text: unknown, field: string): Buffer {
  const bytes = typeof text === 'string' ? decodeBase64Strict(text) : undefined;
  if (!bytes) throw malformed('DynamoDB binary value is not base64', field, 'base64 text');
  return bytes;
}

function listOf(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw malformed('DynamoDB list attribute is not a list', field, 'a list');
  return value;
}

/** One DynamoDB JSON attribute value (`{ "S": "x" }`) as a plain value. */
export function unmarshallAttribute(value: unknown, field: string, depth = 0): unknown {
  if (depth > MAX_ATTRIBUTE_DEPTH) throw malformed('DynamoDB attribute nested too deep', field, `at most ${MAX_ATTRIBUTE_DEPTH} levels`);
  if (!isRecord(value)) throw malformed('DynamoDB attribute value is not an object', field, 'a DynamoDB attribute value');
  // DynamoDB sends one member; the Go, Java and .NET event classes serialise all ten, every one
  // but the set member null (aws-lambda-go events/testdata/dynamodb-event.json): a null member is none.
  const all = Object.keys(value);
  const keys = all.length === 1 ? all : all.filter((k) => value[k] !== null);
  if (keys.length !== 1) throw malformed('DynamoDB attribute value must have exactly one type', field, 'one of S, N, B, BOOL, NULL, M, L, SS, NS, BS');
  const type = keys[0]!;
  const v = value[type];
  switch (type) {
    case 'S':
      if (typeof v !== 'string') throw malformed('DynamoDB string is not text', field, 'string');
      return v;
    case 'N':
      return numberValue(v, field);
    case 'B':
      return bytesValue(v, field);
    case 'BOOL':
      if (typeof v !== 'boolean') throw malformed('DynamoDB BOOL is not a boolean', field, 'boolean');
      return v;
    case 'NULL':
      return null;
    case 'SS':
      return listOf(v, field).map((s, i) => {
        if (typeof s !== 'string') throw malformed('DynamoDB string set member is not text', `${field}.${i}`, 'string');
        return s;
      });
    case 'NS':
      return listOf(v, field).map((s, i) => numberValue(s, `${field}.${i}`));
    case 'BS':
      return listOf(v, field).map((s, i) => bytesValue(s, `${field}.${i}`));
    case 'L':
      return listOf(v, field).map((item, i) => unmarshallAttribute(item, `${field}.${i}`, depth + 1));
    case 'M':
      return unmarshallItem(v, field, depth + 1);
    default:
      throw malformed(`DynamoDB attribute type ${JSON.stringify(type.slice(0, 20))} is not known`, field, 'one of S, N, B, BOOL, NULL, M, L, SS, NS, BS');
  }
}

/** A DynamoDB JSON item (`{ id: { S: '1' } }`) as a plain object. */
export function unmarshallItem(item: unknown, field: string, depth = 0): Rec {
  if (!isRecord(item)) throw malformed('DynamoDB item is not an object', field, 'a map of attribute values');
  const out: Rec = {};
  for (const [name, value] of Object.entries(item)) setOwn(out, name, unmarshallAttribute(value, `${field}.${name}`, depth));
  return out;
}

/** `arn:aws:dynamodb:region:account:table/Orders/stream/2024-…` → `Orders`. */
export function tableFromArn(arn: string | undefined): string {
  const match = /:table\/([^/]+)/.exec(arn ?? '');
  return match?.[1] ?? '';
}

const OPS: Record<string, ChangeTrigger['op']> = { INSERT: 'insert', MODIFY: 'update', REMOVE: 'delete' };

/** The op of an eventName; undefined for any other (an inherited name such as `constructor` too). */
const opOfName = (name: unknown): ChangeTrigger['op'] | undefined => (typeof name === 'string' && Object.hasOwn(OPS, name) ? OPS[name] : undefined);

/**
 * Whether a record's `userIdentity` is DynamoDB's own TTL process, which it names on the
 * `REMOVE` records of expired items. Read on `REMOVE` records only: some published samples put
 * the same identity on an `INSERT`. A global table's replicas do not carry it: AWS marks a TTL
 * delete only in the Region where it happened.
 */
function ttlDeletion(identity: unknown): boolean {
  return isRecord(identity) && identity.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com';
}

export function isDynamoDbStreamRecord(record: unknown): boolean {
  return isRecord(record) && record.eventSource === 'aws:dynamodb';
}

/**
 * The records of a DynamoDB Streams batch, in order. `ctx.trigger.sequence` is the record's
 * `SequenceNumber` (byte-exact text), which the batch answer reports in `batchItemFailures`;
 * `ctx.deliveryId` is the stream's ARN and that number (`arn:aws:dynamodb:…/stream/<label>/<SequenceNumber>`).
 * `eventIds` (one per item, absent when the record has none) are the records' `eventID`, what
 * an EventBridge Pipe's `batchItemFailures` reports instead. A record whose sequence number is
 * read but whose `eventName`, `Keys` or images are damaged is an item whose payload throws the
 * MALFORMED_EVENT: it fails alone and is reported by its sequence number (or `eventID`); only a
 * record without a sequence number fails the whole batch.
 */
export function dynamoDbStreamItems(records: ReadonlyArray<unknown>): { items: EventItem[]; sequences: string[]; eventIds: Array<string | undefined> } {
  const sequences: string[] = [];
  const eventIds: Array<string | undefined> = [];
  // Array.from: a hole in the list is a record too (and a malformed one).
  const items = Array.from(records).map((raw, index): EventItem => {
    const field = `Records.${index}`;
    const record = needRecord(raw, field, 'a DynamoDB Streams record');
    const ddb = needRecord(record.dynamodb, `${field}.dynamodb`);
    const sequence = needString(ddb.SequenceNumber, `${field}.dynamodb.SequenceNumber`);
    sequences.push(sequence);
    eventIds.push(typeof record.eventID === 'string' && record.eventID !== '' ? record.eventID : undefined);
    const collection = tableFromArn(typeof record.eventSourceARN === 'string' ? record.eventSourceARN : undefined);
    const deliveryId = streamDeliveryId(record.eventSourceARN, sequence);
    const place = { batchIndex: index, batchSize: records.length };
    try {
      const eventName = needString(record.eventName, `${field}.eventName`);
      const op = opOfName(eventName);
      if (!op) throw malformed('DynamoDB Streams eventName is not INSERT, MODIFY or REMOVE', `${field}.eventName`, 'INSERT, MODIFY or REMOVE');
      const key = unmarshallItem(ddb.Keys, `${field}.dynamodb.Keys`);
      // An image the record has not is absent in DynamoDB's own events, but `null` in events that
      // a serialiser wrote (the .NET and Java event classes, hand-built test events): both are none.
      const after = ddb.NewImage === undefined || ddb.NewImage === null ? undefined : unmarshallItem(ddb.NewImage, `${field}.dynamodb.NewImage`);
      const before = ddb.OldImage === undefined || ddb.OldImage === null ? undefined : unmarshallItem(ddb.OldImage, `${field}.dynamodb.OldImage`);
      const trigger: ChangeTrigger = {
        kind: 'change',
        source: 'dynamodb-streams',
        collection,
        op,
        key,
        sequence,
        ...opt('before', before),
        ...opt('time', isoFromSeconds(ddb.ApproximateCreationDateTime)),
        ...(op === 'delete' && ttlDeletion(record.userIdentity) ? { expired: true as const } : {}),
        ...place,
      };
      // KEYS_ONLY (and OLD_IMAGE for writes) carry no new image: the key is all there is.
      const input = op === 'delete' ? (before ?? key) : (after ?? key);
      return { trigger, deliveryId, payload: () => input };
    } catch (thrown) {
      if (!(thrown instanceof MalformedEventError)) throw thrown;
      // The record is identified (its sequence number is what the answer reports): it fails
      // alone when run, never the whole batch. Its `op` when its eventName is unreadable: `upsert`.
      const op = opOfName(record.eventName) ?? 'upsert';
      const trigger: ChangeTrigger = { kind: 'change', source: 'dynamodb-streams', collection, op, sequence, ...place };
      return {
        trigger,
        deliveryId,
        payload: () => {
          throw thrown;
        },
      };
    }
  });
  return { items, sequences, eventIds };
}
