/**
 * Readers of the Azure Functions host's own trigger metadata (RPC `TypedData` by the host's
 * keys, kept by providers/azure-raw.ts before the Node.js programming model re-parses it):
 * ids as the exact text sent, dictionaries with their names as sent and numbers as their
 * literal text. Pure functions of that metadata, shared by the Azure adapter and the event
 * parsers (Event Hubs).
 */
import { isRecord, type Rec } from '../internal/record.js';
import { idText } from './item.js';

function entry(meta: Rec | undefined, camelName: string): unknown {
  if (!meta) return undefined;
  const pascal = camelName.charAt(0).toUpperCase() + camelName.slice(1);
  return Object.hasOwn(meta, pascal) ? meta[pascal] : Object.hasOwn(meta, camelName) ? meta[camelName] : undefined;
}

/** The text the host sent for one metadata value (`TypedData.string`, or a JSON string), byte-exact. */
export function rawText(meta: Rec | undefined, camelName: string): string | undefined {
  const data = entry(meta, camelName);
  if (!isRecord(data)) return undefined;
  if (typeof data.string === 'string') return data.string;
  if (typeof data.json === 'string') {
    try {
      const value: unknown = JSON.parse(data.json);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The texts the host sent for a metadata list (`collectionString`, or a JSON list of strings). */
export function rawTexts(meta: Rec | undefined, camelName: string): Array<string | undefined> | undefined {
  const data = entry(meta, camelName);
  if (!isRecord(data)) return undefined;
  const collection = isRecord(data.collectionString) ? data.collectionString.string : undefined;
  if (Array.isArray(collection)) return collection.map((s) => (typeof s === 'string' ? s : undefined));
  if (typeof data.json === 'string') {
    try {
      const value: unknown = JSON.parse(data.json);
      return Array.isArray(value) ? value.map((s) => (typeof s === 'string' ? s : undefined)) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** An integer's text (JSON number literal or decimal string), or undefined. */
const INTEGER = /^-?\d+$/;

/**
 * The exact decimal text of an int64 the host sent for one metadata value (Service Bus
 * `SequenceNumber`): `TypedData.int` (a number, or a protobuf Long), or a JSON / string
 * integer literal read as its text (the library's `JSON.parse` rounds past 2^53).
 */
export function rawInteger(meta: Rec | undefined, camelName: string): string | undefined {
  const data = entry(meta, camelName);
  if (!isRecord(data)) return undefined;
  if (data.int !== undefined && data.int !== null) return idText(data.int);
  const text = typeof data.json === 'string' ? data.json.trim() : typeof data.string === 'string' ? data.string : undefined;
  return text !== undefined && INTEGER.test(text) ? text : undefined;
}

/** The same for a metadata list (`SequenceNumberArray`): `collectionSint64`, or a JSON list of integers, each as its exact text. */
export function rawIntegers(meta: Rec | undefined, camelName: string): Array<string | undefined> | undefined {
  const data = entry(meta, camelName);
  if (!isRecord(data)) return undefined;
  const collection = isRecord(data.collectionSint64) ? data.collectionSint64.sint64 : undefined;
  if (Array.isArray(collection)) return collection.map((n) => idText(n));
  if (typeof data.json !== 'string') return undefined;
  try {
    if (!Array.isArray(JSON.parse(data.json))) return undefined;
  } catch {
    return undefined;
  }
  return arrayElementTexts(data.json)?.map((text) => (INTEGER.test(text) ? text : undefined));
}

type SourceReviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

/** Every number as the literal text it was written with (`12345678901234567890`, `1.50`), so none is rounded. */
const numbersAsText: SourceReviver = (_key, value, context) => (typeof value === 'number' && context.source !== undefined ? context.source : value);

/**
 * A metadata value the host sent as JSON (`TypedData.json`: a dictionary such as Service Bus
 * `ApplicationProperties` or Event Hubs `PropertiesArray`, serialised by Newtonsoft.Json), parsed
 * with its member names as sent (the library camel-cases them) and every number as its literal
 * text (the library rounds a long past 2^53); undefined when the host sent no JSON for it.
 */
export function rawJson(meta: Rec | undefined, camelName: string): unknown {
  const data = entry(meta, camelName);
  if (!isRecord(data) || typeof data.json !== 'string') return undefined;
  try {
    return JSON.parse(data.json, numbersAsText as Parameters<typeof JSON.parse>[1]) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The source text of each element of a JSON array (already known to parse), in order: the
 * scan only tracks strings and nesting, so every element keeps its spelling.
 */
function arrayElementTexts(json: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (depth === 1 && start < 0 && c !== ']' && c !== ',') start = i;
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    if (depth === 0 && c !== ']') return undefined;
    if ((depth === 1 && c === ',') || (depth === 0 && c === ']')) {
      if (start >= 0) out.push(json.slice(start, i).trimEnd());
      start = -1;
    }
  }
  return out;
}

const bytesOf = (value: unknown): Buffer | undefined => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : undefined);

/**
 * Each message's body as the host sent it, from the trigger binding's RPC `TypedData` (kept by
 * providers/azure-raw.ts), or undefined when that data is missing or does not line up with
 * the `count` messages the function was given:
 * - `string` (one message, no `dataType`): the body's text, byte-exact.
 * - `bytes` (`dataType: 'binary'`): the body's bytes.
 * - `collectionString` / `collectionBytes` (`cardinality: 'many'` with `dataType: 'string'` /
 *   `'binary'`): one exact text / byte string per message. The host drops empty ones, so a
 *   batch holding an empty body does not line up and has none.
 * - `json`: the host's own JSON. With `cardinality: 'many'` and no `dataType` the host binds
 *   the batch as `object[]`: Json.NET parses every body and the batch is re-serialised, so
 *   each element's text is the host's spelling of the body — integers keep every digit,
 *   whitespace is gone and a number such as `1.50` reads `1.5`.
 */
export function rawTriggerBodies(data: Rec | undefined, many: boolean, count: number): Array<string | Buffer> | undefined {
  if (!data) return undefined;
  let bodies: Array<string | Buffer | undefined> | undefined;
  if (typeof data.string === 'string') bodies = [data.string];
  else if (typeof data.json === 'string') {
    try {
      const value: unknown = JSON.parse(data.json);
      bodies = many ? (Array.isArray(value) ? arrayElementTexts(data.json) : undefined) : [data.json];
    } catch {
      return undefined;
    }
  } else if (bytesOf(data.bytes) ?? bytesOf(data.stream)) bodies = [(bytesOf(data.bytes) ?? bytesOf(data.stream))!];
  else if (isRecord(data.collectionString) && Array.isArray(data.collectionString.string)) {
    bodies = data.collectionString.string.map((s: unknown) => (typeof s === 'string' ? s : undefined));
  } else if (isRecord(data.collectionBytes) && Array.isArray(data.collectionBytes.bytes)) bodies = data.collectionBytes.bytes.map(bytesOf);
  if (!bodies || bodies.length !== count || bodies.some((b) => b === undefined)) return undefined;
  if (!many && count !== 1) return undefined;
  return bodies as Array<string | Buffer>;
}

/** `rawTriggerBodies`, worked out on the first call only (a batch's JSON is read again only when a `rawBody` is asked for). */
export function lazyTriggerBodies(data: Rec | undefined, many: boolean, count: number): () => Array<string | Buffer> | undefined {
  let done = false;
  let bodies: Array<string | Buffer> | undefined;
  return () => {
    if (!done) {
      bodies = rawTriggerBodies(data, many, count);
      done = true;
    }
    return bodies;
  };
}
