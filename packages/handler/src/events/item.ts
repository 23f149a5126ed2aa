/**
 * What every event-source parser yields: one unit of work per record, without the request id
 * (the provider adapter names attempts). Parsers are pure functions of the provider's event.
 */
import { MalformedEventError } from '../errors.js';
import { decodeBase64Strict } from '../internal/base64.js';
import { isRecord, nonEmptyStr, setOwn, type Rec } from '../internal/record.js';
import type { BodyMode } from '../message.js';
import type { Trigger } from '../types.js';

/** One record of an event, ready to run. */
export interface EventItem {
  trigger: Trigger;
  /** Stable across redeliveries of this record (byte-exact from the event). */
  deliveryId: string | undefined;
  /** The function's input before validation; may throw MalformedEventError. */
  payload(): unknown;
}

/** Options every parser takes from the handler. */
export interface ParseOptions {
  body: BodyMode;
}

/** A typed MALFORMED_EVENT naming the field and what was expected there. */
export function malformed(message: string, field: string, expected: string): MalformedEventError {
  return new MalformedEventError(message, [{ field, message, expected }]);
}

/** A non-empty string at `field`, or a typed error. */
export function needString(value: unknown, field: string, what = 'a non-empty string'): string {
  if (typeof value !== 'string' || value === '') throw malformed(`Event field ${field} is missing or not a string`, field, what);
  return value;
}

/**
 * An event's own id (an event id, a message id) at `field`, or a typed error: unlike message
 * text, an id that is `""` or only whitespace names nothing, and kept it would give every such
 * event one delivery id (one idempotency key).
 *
 * @throws MalformedEventError (`MALFORMED_EVENT`, naming `field`) when the id is missing, not a
 * string, or blank.
 * @example needIdString(' ', 'id') // throws MALFORMED_EVENT, field 'id'
 */
export function needIdString(value: unknown, field: string): string {
  const id = nonEmptyStr(value);
  if (id === undefined) throw malformed(`Event field ${field} is missing, not a string or blank`, field, 'a non-blank string');
  return id;
}

/** A record at `field`, or a typed error. */
export function needRecord(value: unknown, field: string, what = 'an object'): Rec {
  if (!isRecord(value)) throw malformed(`Event field ${field} is missing or not an object`, field, what);
  return value;
}

/** A list at `field`, or a typed error. */
export function needList(value: unknown, field: string, what = 'a list'): unknown[] {
  if (!Array.isArray(value)) throw malformed(`Event field ${field} is missing or not a list`, field, what);
  return value;
}

/**
 * An identity (sequence number, offset, partition) as text, byte-exact: a string as it is; a
 * number only when the event itself carries it as a JSON number (Kafka offsets), as its decimal;
 * a protobuf int64 (`{ low, high, unsigned }`) as its decimal; undefined for a blank string
 * (`""` or whitespace names nothing).
 */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'string') return nonEmptyStr(value);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return longText(value);
}

/**
 * A protobuf int64 as the `long` package decodes it (`{ low, high, unsigned }`, 32-bit halves):
 * what the Azure Functions Node.js worker 3.16 hands over for int64 trigger metadata such as
 * Service Bus and Event Hubs sequence numbers (Azure/azure-functions-nodejs-worker#844), as
 * exact decimal text; undefined for anything else.
 */
function longText(value: unknown): string | undefined {
  if (!isRecord(value) || !Number.isInteger(value.low) || !Number.isInteger(value.high)) return undefined;
  const bits = (BigInt.asUintN(32, BigInt(value.high as number)) << 32n) | BigInt.asUintN(32, BigInt(value.low as number));
  return (value.unsigned === true ? bits : BigInt.asIntN(64, bits)).toString();
}

/** An identity at `field`, or a typed error. */
export function needId(value: unknown, field: string): string {
  const id = idText(value);
  if (id === undefined) throw malformed(`Event field ${field} is missing or not an identifier`, field, 'a string or integer');
  return id;
}

/**
 * A stream record's delivery id scoped by the stream it came from: `<eventSourceARN>/<id>`.
 * Kinesis shard ids repeat in every stream and sequence numbers are unique only inside one
 * stream (DynamoDB Streams: inside one table's stream; Kafka offsets: inside one cluster; a
 * Cosmos DB `_lsn`: inside one account's container), so one function fed by two streams would
 * otherwise give two different records one idempotency key. Without a scope (a hand-built
 * event), the bare id.
 */
export function streamDeliveryId(arn: unknown, id: string): string {
  return typeof arn === 'string' && arn !== '' ? `${arn}/${id}` : id;
}

/**
 * An event id scoped by the producer that chose it: `<scope>#<id>`. CloudEvents ids are unique
 * only within their `source`, and an Event Grid `id` is chosen by whoever publishes to the topic,
 * so two producers may send one id. In the id a `#` becomes `%23` and a `%` starting `%23` or
 * `%25` becomes `%25`: the pair splits at the last `#` and no two pairs give one string, while
 * any other id — a UUID, an Audit Log entry's `…%2Factivity…` — reads as it came.
 *
 * @example scopedDeliveryId('//pubsub.googleapis.com/projects/p/topics/t', 'a#1') // '//pubsub.googleapis.com/projects/p/topics/t#a%231'
 */
export function scopedDeliveryId(scope: string, id: string): string {
  return `${scope}#${id.replace(/%(?=2[35])|#/g, (c) => (c === '%' ? '%25' : '%23'))}`;
}

/** String-valued map of a record's string/number/boolean members (others dropped), prototype-safe. */
export function stringMap(value: unknown, pick: (v: unknown) => unknown = (v) => v): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [k, raw] of Object.entries(value)) {
    const v = pick(raw);
    if (typeof v === 'string') setOwn(out, k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') setOwn(out, k, String(v));
  }
  return out;
}

/** A size in bytes from a number or a decimal string (Cloud Storage sends strings); undefined otherwise. */
export function sizeOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Epoch seconds (possibly fractional) as ISO 8601, or undefined. */
export function isoFromSeconds(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Spreads `{ [name]: value }` only when value is defined (exactOptionalPropertyTypes-friendly). */
export function opt<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

/** A message payload as the provider delivered it: `trigger.rawBody`. */
export type RawBody = string | Buffer;

/**
 * Sets `trigger.rawBody` to what `read` returns, read on first access (so a base64 payload is
 * decoded only when something asks) and not enumerable (so it stays out of logs, serialised
 * triggers and equality checks on the normalised view). Returns `trigger`.
 */
export function withRawBody<T extends object>(trigger: T, read: () => RawBody | undefined): T {
  let done = false;
  let value: RawBody | undefined;
  Object.defineProperty(trigger, 'rawBody', {
    configurable: true,
    enumerable: false,
    get: () => {
      if (!done) {
        value = read();
        done = true;
      }
      return value;
    },
  });
  return trigger;
}

/**
 * The raw body of a payload that arrived as text or bytes (a string as it is, bytes as a
 * `Buffer`); undefined for a value a runtime already parsed, and for none.
 */
export function rawBodyOf(value: unknown): RawBody | undefined {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

/** The bytes of base64 text when it is strict base64; undefined otherwise (the payload then fails on its own). */
export function rawBase64(value: unknown): Buffer | undefined {
  return typeof value === 'string' ? decodeBase64Strict(value) : undefined;
}
