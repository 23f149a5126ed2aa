/**
 * HTTP requests: the normalised view every provider adapter builds (headers, query, body),
 * and the function's `input` read from it. Responses are in `response.ts`.
 */
import { MalformedEventError } from './errors.js';
import { isTextualContentType, namesJson } from './internal/media-type.js';
import { getOwn, setOwn } from './internal/record.js';
import type { HttpRequest } from './types.js';

export { isTextualContentType };

/** A header value as text; '' for a value that has none (an object whose toString is not a function). */
function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '';
  }
}

/** Lower-cases header names and joins repeated values, as HTTP allows. */
export function normaliseHeaders(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof input !== 'object' || input === null) return out;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    const key = name.toLowerCase();
    const text = Array.isArray(value) ? value.map(headerText).join(', ') : headerText(value);
    const previous = getOwn(out, key);
    setOwn(out, key, previous === undefined ? text : `${previous}, ${text}`);
  }
  return out;
}

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

/** Builds query maps from an object whose values are strings or string arrays. */
export function queryFromObject(single: unknown, multi?: unknown): { query: Record<string, string>; multiQuery: Record<string, string[]> } {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  if (typeof multi === 'object' && multi !== null) {
    for (const [key, values] of Object.entries(multi as Record<string, unknown>)) {
      if (!Array.isArray(values)) continue;
      setOwn(multiQuery, key, values.map(String));
      const last: unknown = values[values.length - 1];
      if (last !== undefined) setOwn(query, key, String(last));
    }
  }
  if (typeof single === 'object' && single !== null) {
    for (const [key, value] of Object.entries(single as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        setOwn(multiQuery, key, value.map(String));
        const last: unknown = value[value.length - 1];
        if (last !== undefined) setOwn(query, key, String(last));
        continue;
      }
      setOwn(query, key, String(value));
      if (!getOwn(multiQuery, key)) setOwn(multiQuery, key, [String(value)]);
    }
  }
  return { query, multiQuery };
}

/**
 * What the function receives as `input` for an HTTP request: the JSON body when there is
 * one, the form fields of a urlencoded body, the text of a textual body, the exact bytes (a
 * `Buffer`) of a binary one, and the query parameters when there is no body. An unparseable
 * JSON body is a typed 400.
 */
export function httpInput(request: HttpRequest): unknown {
  const body = request.rawBody;
  if (body === undefined || body === '') {
    // Bytes with no text (a lone byte order mark, which Azure's text decoder drops) are still a binary body.
    const bytes = request.rawBytes;
    return bytes !== undefined && !isTextualContentType(request.headers['content-type']) ? bytes : { ...request.query };
  }
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (type === '') return /^\s*[[{]/.test(body) ? parseJsonBody(body) : body;
  if (namesJson(type)) return parseJsonBody(body);
  if (type.startsWith('application/x-www-form-urlencoded')) return parseQueryString(body).query;
  if (isTextualContentType(type)) return body;
  // A request built by hand may lack the bytes; its text is all there is.
  return request.rawBytes ?? Buffer.from(body, 'utf8');
}

export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedEventError('Request body is not valid JSON', [{ field: 'body', message: 'Invalid JSON', expected: 'a JSON document' }]);
  }
}

/** The two views of a request body: its exact bytes and their UTF-8 text. */
export interface RequestBody {
  rawBody: string | undefined;
  rawBytes: Buffer | undefined;
}

/** A body received as bytes; the text is decoded from them, so there is one read and no copy. */
export function bodyFromBytes(bytes: Buffer): RequestBody {
  return bytes.length === 0 ? { rawBody: undefined, rawBytes: undefined } : { rawBody: bytes.toString('utf8'), rawBytes: bytes };
}

/**
 * A body a provider handed over as text, or as base64 when `isBase64`. A value some provider
 * already parsed is re-serialised as JSON text, so input parsing is uniform; it has no exact
 * bytes. An empty string stays an empty `rawBody`, without bytes.
 */
export function decodeBody(body: unknown, isBase64: boolean): RequestBody {
  if (body === undefined || body === null) return { rawBody: undefined, rawBytes: undefined };
  if (typeof body !== 'string') return { rawBody: JSON.stringify(body), rawBytes: undefined };
  if (body === '') return { rawBody: '', rawBytes: undefined };
  if (!isBase64) return { rawBody: body, rawBytes: Buffer.from(body, 'utf8') };
  const bytes = Buffer.from(body, 'base64');
  return { rawBody: bytes.toString('utf8'), rawBytes: bytes.length === 0 ? undefined : bytes };
}
