/**
 * HTTP query parameters as every provider adapter normalises them: a last-value map and an
 * all-values map, from a query string or from the objects a provider hands over.
 */
import { getOwn, setOwn } from './internal/record.js';

/** Splits a query string into last-value and all-values maps. */
export function parseQueryString(qs: string | undefined | null): { query: Record<string, string>; multiQuery: Record<string, string[]> } {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  if (!qs) return { query, multiQuery };
  const params = new URLSearchParams(qs.startsWith('?') ? qs.slice(1) : qs);
  for (const [key, value] of params) {
    setOwn(query, key, value);
    const all = getOwn(multiQuery, key);
    if (all) all.push(value);
    else setOwn(multiQuery, key, [value]);
  }
  return { query, multiQuery };
}

/**
 * Sets one query parameter's list of values; a `null` in the list (API Gateway's test console
 * and hand-built events write them) is no value, not the text "null". A list of nothing but
 * nulls sets nothing.
 */
function setList(query: Record<string, string>, multiQuery: Record<string, string[]>, key: string, values: unknown[]): void {
  const present = values.filter((value) => value !== null && value !== undefined).map(String);
  if (present.length === 0) return;
  setOwn(multiQuery, key, present);
  setOwn(query, key, present[present.length - 1]!);
}

/** Builds query maps from an object whose values are strings or string arrays. */
export function queryFromObject(single: unknown, multi?: unknown): { query: Record<string, string>; multiQuery: Record<string, string[]> } {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  if (typeof multi === 'object' && multi !== null) {
    for (const [key, values] of Object.entries(multi as Record<string, unknown>)) {
      if (Array.isArray(values)) setList(query, multiQuery, key, values);
    }
  }
  if (typeof single === 'object' && single !== null) {
    for (const [key, value] of Object.entries(single as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        setList(query, multiQuery, key, value);
        continue;
      }
      setOwn(query, key, String(value));
      if (!getOwn(multiQuery, key)) setOwn(multiQuery, key, [String(value)]);
    }
  }
  return { query, multiQuery };
}

/** `+` as a space, then percent-decoded; text whose escapes are malformed is kept as it came. */
function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Query maps whose names and values arrive still percent-encoded (an ALB's), decoded as a
 * query string is. Names that decode to the same text (`a+b`, `a%20b`) are one parameter, as
 * they are when the whole query string is parsed (an HTTP API's `rawQueryString`): their values
 * are appended in arrival order (`{ 'a+b': ['1'], 'a%20b': ['2'] }` → `{ 'a b': ['1', '2'] }`),
 * and `query` keeps the last.
 */
export function decodedQuery(encoded: { query: Record<string, string>; multiQuery: Record<string, string[]> }): { query: Record<string, string>; multiQuery: Record<string, string[]> } {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(encoded.query)) setOwn(query, formDecode(name), formDecode(value));
  for (const [name, values] of Object.entries(encoded.multiQuery)) {
    const key = formDecode(name);
    const decoded = values.map(formDecode);
    const all = getOwn(multiQuery, key);
    if (all) all.push(...decoded);
    else setOwn(multiQuery, key, decoded);
  }
  return { query, multiQuery };
}
