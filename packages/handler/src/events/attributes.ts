/**
 * Message attributes with a declared data type — SQS `messageAttributes` and SNS
 * `MessageAttributes` as Lambda hands them over — split by what their value is: text
 * (`String`, `Number`, `String.Array` and custom labels of them) stays exact text, `Binary`
 * (base64 in the event) becomes its bytes. One shape for every trigger that carries
 * attributes: {@link TypedAttributes}.
 */
import { decodeBase64Strict } from '../internal/base64.js';
import { isRecord, setOwn } from '../internal/record.js';
import { MalformedEventError } from '../errors.js';
import { malformed } from './item.js';

/**
 * A message's attributes: `attributes` holds every attribute whose value is text, as the exact
 * text sent (a `Number` is never turned into a JS number: SQS and SNS numbers carry up to 38
 * digits); `binaryAttributes` every attribute whose value is bytes; `attributeTypes` the data
 * type the sender declared for each, where the provider carries one. A name is in exactly one
 * of `attributes` and `binaryAttributes`. The two optional maps are left out when empty.
 */
export interface TypedAttributes {
  attributes: Record<string, string>;
  binaryAttributes?: Record<string, Buffer>;
  attributeTypes?: Record<string, string>;
}

/**
 * Builds a {@link TypedAttributes} (prototype-safe names), adding the optional maps only once
 * they have an entry. A name written again replaces what it had (text or bytes, and its type),
 * so a name stays in one map: one sink can gather two sources, the later winning.
 */
export class AttributeSink {
  readonly attributes: Record<string, string> = {};
  private binary: Record<string, Buffer> | undefined;
  private types: Record<string, string> | undefined;

  text(name: string, value: string, type?: string): void {
    if (this.binary && Object.hasOwn(this.binary, name)) delete this.binary[name];
    setOwn(this.attributes, name, value);
    this.type(name, type);
  }

  bytes(name: string, value: Buffer, type?: string): void {
    if (Object.hasOwn(this.attributes, name)) delete this.attributes[name];
    setOwn((this.binary ??= {}), name, value);
    this.type(name, type);
  }

  private type(name: string, type: string | undefined): void {
    if (type !== undefined) setOwn((this.types ??= {}), name, type);
    else if (this.types && Object.hasOwn(this.types, name)) delete this.types[name];
  }

  result(): TypedAttributes {
    const out: TypedAttributes = { attributes: this.attributes };
    if (this.binary && Object.keys(this.binary).length > 0) out.binaryAttributes = this.binary;
    if (this.types && Object.keys(this.types).length > 0) out.attributeTypes = this.types;
    return out;
  }
}

/** `Binary`, or a custom label of it (`Binary.gif`): the value is bytes. */
function isBinaryType(type: string): boolean {
  return type === 'Binary' || type.startsWith('Binary.');
}

function needText(value: unknown, field: string, expected: string): string {
  if (typeof value !== 'string') throw malformed(`Message attribute field ${field} is missing or not a string`, field, expected);
  return value;
}

function needBase64(value: unknown, field: string): Buffer {
  const bytes = typeof value === 'string' ? decodeBase64Strict(value) : undefined;
  if (!bytes) throw malformed(`Message attribute field ${field} is not base64`, field, 'base64 text (a Binary attribute value)');
  return bytes;
}

/** The declared data type: `String`, `Number`, `Binary`, optionally `.`-suffixed with a custom label (`Number.float`). */
function needType(value: unknown, field: string, expected: string): string {
  if (typeof value !== 'string' || value === '') throw malformed(`Message attribute field ${field} is missing or not a data type`, field, expected);
  return value;
}

/** Where a provider's typed attribute keeps its type and value, and how to name them in an error. */
interface AttributeLayout {
  type: string;
  text: string;
  bytes: string;
  map: string;
  entry: string;
  types: string;
}

const SQS_LAYOUT: AttributeLayout = {
  type: 'dataType',
  text: 'stringValue',
  bytes: 'binaryValue',
  map: 'an object of SQS message attributes',
  entry: 'an SQS message attribute { dataType, stringValue | binaryValue }',
  types: 'String, Number or Binary (optionally with a custom label, e.g. Number.float)',
};

const SNS_LAYOUT: AttributeLayout = {
  type: 'Type',
  text: 'Value',
  bytes: 'Value',
  map: 'an object of SNS message attributes',
  entry: 'an SNS message attribute { Type, Value }',
  types: 'String, String.Array, Number or Binary',
};

/** Reads every entry of `value` into `sink`; throws MalformedEventError at the first malformed one. */
function readTyped(value: unknown, field: string, layout: AttributeLayout, sink: AttributeSink): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) throw malformed(`Event field ${field} is not an object`, field, layout.map);
  for (const [name, attribute] of Object.entries(value)) {
    const at = `${field}.${name}`;
    if (!isRecord(attribute)) throw malformed(`Event field ${at} is not an object`, at, layout.entry);
    const type = needType(attribute[layout.type], `${at}.${layout.type}`, layout.types);
    if (isBinaryType(type)) sink.bytes(name, needBase64(attribute[layout.bytes], `${at}.${layout.bytes}`), type);
    else sink.text(name, needText(attribute[layout.text], `${at}.${layout.text}`, 'a string (the value of a String or Number attribute, as text)'), type);
  }
}

/**
 * SQS `messageAttributes` of a Lambda SQS record: `{ [name]: { dataType, stringValue |
 * binaryValue, stringListValues, binaryListValues } }` (SQS developer guide, "Amazon SQS message
 * attributes"; the list members are reserved by SQS and never filled). `String`, `Number` and
 * their custom labels carry `stringValue`; `Binary` and its labels carry `binaryValue`, base64.
 * A record without `messageAttributes` has none. A malformed attribute gives the error (with
 * the attributes read before it) rather than throwing, so the adapter can fail that message alone.
 */
export function sqsMessageAttributes(value: unknown, field: string, sink = new AttributeSink()): { attributes: TypedAttributes; error?: MalformedEventError } {
  try {
    readTyped(value, field, SQS_LAYOUT, sink);
    return { attributes: sink.result() };
  } catch (thrown) {
    if (!(thrown instanceof MalformedEventError)) throw thrown;
    return { attributes: sink.result(), error: thrown };
  }
}

/**
 * SNS `MessageAttributes` of a Lambda SNS record: `{ [name]: { Type, Value } }` with `Type` one
 * of `String`, `String.Array` (a JSON array as text), `Number` (decimal text) or `Binary`
 * (base64) — SNS developer guide, "Amazon SNS message attributes". A record without
 * `MessageAttributes` has none. The same members in the envelope an SQS queue receives from a
 * topic without raw message delivery (see sns-envelope.ts), read into the SQS message's `sink`.
 *
 * @throws MalformedEventError (`MALFORMED_EVENT`) naming the attribute's field when an entry is
 * not `{ Type, Value }` with string members, or a `Binary` value is not base64.
 */
export function snsMessageAttributes(value: unknown, field: string, sink = new AttributeSink()): TypedAttributes {
  readTyped(value, field, SNS_LAYOUT, sink);
  return sink.result();
}

/**
 * Properties whose values are JSON values (Service Bus application properties, Event Hubs
 * properties: .NET values serialised by the Functions host) as text: a string as it is, a number
 * or boolean as its JSON text (a number the host's raw JSON gave as text stays that text), an
 * object or list as compact JSON; `null` and `undefined` left out. Names kept as they are.
 */
export function propertiesAsText(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (text !== undefined) setOwn(out, name, text);
  }
  return out;
}
