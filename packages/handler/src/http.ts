/**
 * HTTP results: what a function may return, and the one response shape every provider
 * adapter turns into its own.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { MalformedEventError, SteadyError, toProblem } from './errors.js';
import type { Logger } from './logger.js';
import type { HttpRequest, Outcome } from './types.js';
import { isUtf8 } from 'node:buffer';
import { decodeBase64Strict } from './internal/base64.js';
import { jsonTextTooDeep, parseJsonLossless, valueTooDeep, MAX_JSON_DEPTH } from './internal/json.js';
import type { BodyMode } from './message.js';

const HTTP_RESULT = Symbol.for('steadyfn.httpResult');

export interface HttpResultInit {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; bytes are sent as binary; anything else as JSON. */
  body?: unknown;
}

export interface HttpResult extends Required<Pick<HttpResultInit, 'status' | 'headers'>> {
  readonly [HTTP_RESULT]: true;
  body: unknown;
}

/** Return this from a function to choose the status and headers of an HTTP response. */
export function httpResult(init: HttpResultInit): HttpResult {
  return { [HTTP_RESULT]: true, status: init.status ?? 200, headers: init.headers ?? {}, body: init.body };
}

export function isHttpResult(value: unknown): value is HttpResult {
  return typeof value === 'object' && value !== null && (value as Record<PropertyKey, unknown>)[HTTP_RESULT] === true;
}

/** The normalised outgoing response; `body` is base64 when `isBase64` is true. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  isBase64: boolean;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((k) => k.toLowerCase() === lower);
}

function encodeBody(body: unknown, headers: Record<string, string>): { body: string; isBase64: boolean } {
  if (body === undefined || body === null) return { body: '', isBase64: false };
  if (typeof body === 'string') {
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'text/plain; charset=utf-8';
    return { body, isBase64: false };
  }
  if (body instanceof Uint8Array) {
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/octet-stream';
    return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), isBase64: true };
  }
  if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
  return { body: JSON.stringify(body), isBase64: false };
}

export function errorResponse(error: SteadyError): HttpResponse {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...(error.headers ?? {}) };
  return { status: error.status, headers, body: JSON.stringify(toProblem(error)), isBase64: false };
}

/**
 * A plain value becomes 200 JSON; `undefined` becomes 204; `httpResult(...)` keeps its
 * status and headers; an error becomes `application/problem+json`.
 *
 * A result no HTTP response can carry (a status outside 200–599, a header Node refuses, a
 * body JSON cannot encode) becomes a 500 `INVALID_HTTP_RESULT`, logged to `log`, so every
 * provider answers the caller instead of crashing in its own framework.
 */
export function toHttpResponse(outcome: Outcome, log?: Logger): HttpResponse {
  let reason: string;
  try {
    const res = buildResponse(outcome);
    const bad = unsendable(res);
    if (bad === undefined) return res;
    reason = bad;
  } catch {
    reason = 'body';
  }
  log?.error('HTTP result cannot be sent', { code: 'INVALID_HTTP_RESULT', field: reason });
  return errorResponse(new SteadyError('INVALID_HTTP_RESULT', 'The function returned an HTTP result that cannot be sent', { status: 500, expose: false }));
}

function buildResponse(outcome: Outcome): HttpResponse {
  if (!outcome.ok) return errorResponse(outcome.error);
  const value = outcome.value;
  if (isHttpResult(value)) {
    const headers = { ...value.headers };
    const { body, isBase64 } = encodeBody(value.body, headers);
    return { status: value.status, headers, body, isBase64 };
  }
  if (value === undefined) return { status: 204, headers: {}, body: '', isBase64: false };
  const headers: Record<string, string> = {};
  const { body, isBase64 } = encodeBody(value, headers);
  return { status: 200, headers, body, isBase64 };
}

/** Which part of a response no HTTP server could send, if any. */
function unsendable(res: HttpResponse): 'status' | 'header' | undefined {
  if (!Number.isInteger(res.status) || res.status < 200 || res.status > 599) return 'status';
  try {
    for (const [name, value] of Object.entries(res.headers)) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
  } catch {
    return 'header';
  }
  return undefined;
}

/**
 * Sets an own property even for names such as `__proto__` or `toString`, which arrive in
 * hostile headers and query strings and must neither pollute nor collide with the prototype.
 */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  // `__proto__` is the one accessor on Object.prototype: assigning it would set the prototype.
  // Any other name (`toString`, `constructor`) becomes an own property by plain assignment,
  // which keeps the object in V8's fast mode (defineProperty on every key costs microseconds).
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function getOwn<T>(target: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

/** A header value as text; '' for a value that has none (an object whose toString is not a function). */
function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return '';
  }
}

/**
 * Every value of every header, names lower-cased, in arrival order. Arrays (multi-value
 * headers) keep one entry per value.
 */
export function headerLists(input: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (typeof input !== 'object' || input === null) return out;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    const key = name.toLowerCase();
    const values = Array.isArray(value) ? value.filter((v) => v !== undefined && v !== null).map(headerText) : [headerText(value)];
    const previous = getOwn(out, key);
    if (previous) previous.push(...values);
    else setOwn(out, key, values);
  }
  return out;
}

/**
 * One value per header from all of its values, joined as each header's rules say: `cookie`
 * with `; ` (RFC 6265 §5.4), `set-cookie` never (a comma is part of its syntax: the first
 * value is kept, every value is in `multiHeaders`), any other with `, ` (RFC 9110 §5.3).
 */
export function joinHeaderLists(lists: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(lists)) {
    if (values.length === 0) continue;
    setOwn(out, key, key === 'set-cookie' ? values[0]! : values.join(key === 'cookie' ? '; ' : ', '));
  }
  return out;
}

/** Lower-cases header names and joins repeated values as HTTP allows (see `joinHeaderLists`). */
export function normaliseHeaders(input: unknown): Record<string, string> {
  return joinHeaderLists(headerLists(input));
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

const TEXTUAL_SUBTYPE = /^x-www-form-urlencoded|javascript|ecmascript|graphql|yaml/;

/**
 * Whether a body of this content type is text, which the function receives as a string: text/*,
 * any JSON type (`json`, `+json`), XML (`xml`, `+xml`), forms, JavaScript/ECMAScript, GraphQL,
 * YAML, and any type with a `charset` parameter. Anything else (images, PDFs, protobuf,
 * octet-stream, multipart) is binary and reaches the function as the exact bytes. A request
 * without a content type counts as text, as it always has.
 */
export function isTextualContentType(contentType: string | undefined): boolean {
  const value = (contentType ?? '').toLowerCase();
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim();
  if (essence === '') return true;
  if (semi !== -1 && value.slice(semi + 1).split(';').some((p) => p.trim().startsWith('charset='))) return true;
  // Anything naming JSON is parsed as JSON by `httpInput`, so it is text here too.
  if (essence.includes('json')) return true;
  const slash = essence.indexOf('/');
  if (slash !== -1 && essence.slice(0, slash) === 'text') return true;
  const sub = essence.slice(slash + 1);
  // XML by whole name only: `vnd.openxmlformats-…` (docx, xlsx) are zip archives.
  if (sub === 'xml' || sub.endsWith('+xml') || sub.startsWith('xml-')) return true;
  return TEXTUAL_SUBTYPE.test(sub);
}

/**
 * What the function receives as `input` for an HTTP request: the JSON body when there is
 * one, the form fields of a urlencoded body, the text of a textual body, the exact bytes (a
 * `Buffer`) of a binary one, and the query parameters when there is no body. An unparseable
 * JSON body is a typed 400.
 */
export function httpInput(request: HttpRequest, mode: BodyMode = 'auto'): unknown {
  const body = request.rawBody;
  if (body === undefined || body === '') {
    // Bytes with no text (a lone byte order mark, which Azure's text decoder drops) are still a binary body.
    const bytes = request.rawBytes;
    if (bytes !== undefined && (mode === 'bytes' || !isTextualContentType(request.headers['content-type']))) return bytes;
    if (mode === 'bytes' || mode === 'text' || mode === 'json') return mode === 'bytes' ? Buffer.alloc(0) : mode === 'text' ? '' : undefined;
    return fieldsOf(request.multiQuery, request.query);
  }
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  const semi = type.indexOf(';');
  const essence = (semi === -1 ? type : type.slice(0, semi)).trim();
  if (mode === 'bytes') return request.rawBytes ?? Buffer.from(body, 'utf8');
  if (mode === 'text') return checkedText(request, body);
  if (mode === 'json' || essence.includes('json')) return parseJsonBody(checkedText(request, body));
  // Without a content type, JSON is taken only when nothing is lost; anything else stays text.
  if (type === '') return /^\s*[[{]/.test(body) ? (parseJsonLossless(body)?.value ?? body) : body;
  if (essence === 'application/x-www-form-urlencoded') return formFields(body);
  if (isTextualContentType(type)) return body;
  // A request built by hand may lack the bytes; its text is all there is.
  return request.rawBytes ?? Buffer.from(body, 'utf8');
}

/** A body that must be text: bytes that are not UTF-8 (JSON must be, RFC 8259 §8.1) are a 400. */
function checkedText(request: HttpRequest, body: string): string {
  if (request.rawBytes !== undefined && !isUtf8(request.rawBytes)) {
    throw new MalformedEventError('Request body is not UTF-8 text', [{ field: 'body', message: 'Invalid UTF-8', expected: 'UTF-8 text' }]);
  }
  return body;
}

/** Form fields or query parameters as `input`: a repeated name keeps every value, as an array. */
function fieldsOf(multi: Record<string, string[]>, single: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(single)) setOwn(out, key, value);
  for (const [key, values] of Object.entries(multi)) if (values.length > 1) setOwn(out, key, [...values]);
  return out;
}

/** `t=a&t=b&u=c` → `{ t: ['a', 'b'], u: 'c' }`. */
export function formFields(body: string): Record<string, string | string[]> {
  const { query, multiQuery } = parseQueryString(body);
  return fieldsOf(multiQuery, query);
}

export function parseJsonBody(body: string): unknown {
  if (jsonTextTooDeep(body)) {
    throw new MalformedEventError(`Request body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [{ field: 'body', message: 'Nested too deep', expected: `JSON at most ${MAX_JSON_DEPTH} levels deep` }]);
  }
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
  if (typeof body !== 'string') {
    if (valueTooDeep(body)) throw new MalformedEventError(`Request body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [{ field: 'body', message: 'Nested too deep', expected: `JSON at most ${MAX_JSON_DEPTH} levels deep` }]);
    return { rawBody: JSON.stringify(body), rawBytes: undefined };
  }
  if (body === '') return { rawBody: '', rawBytes: undefined };
  if (!isBase64) return { rawBody: body, rawBytes: Buffer.from(body, 'utf8') };
  // Node's decoder skips characters that are not base64: junk would become other bytes.
  const bytes = decodeBase64Strict(body);
  if (bytes === undefined) throw new MalformedEventError('Request body is marked base64 but is not base64', [{ field: 'body', message: 'Not base64', expected: 'base64 text (isBase64Encoded)' }]);
  return { rawBody: bytes.toString('utf8'), rawBytes: bytes.length === 0 ? undefined : bytes };
}
