/**
 * Readers of the Azure Functions host's own trigger metadata (RPC `TypedData` by the host's
 * keys, kept by providers/azure-raw.ts before the Node.js programming model re-parses it):
 * ids as the exact text sent, dictionaries with their names as sent and numbers as their
 * literal text. Pure functions of that metadata, shared by the Azure adapter and the event
 * parsers (Event Hubs).
 */
import { isRecord, type Rec } from '../internal/record.js';

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
