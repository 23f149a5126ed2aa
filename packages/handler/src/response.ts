/**
 * HTTP results: what a function may return (`httpResult`), and the one rendered response
 * (`HttpResponse`) the core makes of it — once, right after the function — which plugins
 * receive and every provider adapter only maps to its own shape.
 */
import { SteadyError, toProblem } from './errors.js';
import { isFieldName, isFieldValue, NO_CONTENT_STATUSES } from './internal/http-grammar.js';

const HTTP_RESULT = Symbol.for('steadyfn.httpResult');
const RENDERED = Symbol.for('steadyfn.httpResponse');

/** One header value, or several for a header sent more than once (each value its own header line where the provider allows). */
export type HeaderValue = string | ReadonlyArray<string>;

/** What `httpResult()` accepts. */
export interface HttpResultInit {
  /** Status code, 200–599. @default 200 */
  status?: number;
  /**
   * Response headers. A list sends the header once per value (e.g. `link`); `set-cookie`
   * values (any case) are moved to `cookies`. Names must be RFC 9110 tokens and values must
   * not contain CR, LF or other control characters.
   */
  headers?: Record<string, HeaderValue>;
  /** `Set-Cookie` values, one cookie each (`'sid=abc; Path=/; HttpOnly'`); never folded into one line. */
  cookies?: ReadonlyArray<string>;
  /**
   * A string is sent as is (`text/plain` by default); bytes (any typed array, `DataView` or
   * `ArrayBuffer`) as binary (`application/octet-stream`); anything else as JSON. A stream, `Blob`,
   * fetch `Response`, `Map`, `Set` or promise is refused (`INVALID_HTTP_RESULT`): its JSON would not hold it.
   */
  body?: unknown;
}

/** The value `httpResult()` returns: a function result that chooses its status, headers and cookies. */
export interface HttpResult {
  readonly [HTTP_RESULT]: true;
  status: number;
  headers: Record<string, HeaderValue>;
  cookies: ReadonlyArray<string>;
  body: unknown;
}

/**
 * Return this from a function to choose the status, headers and cookies of an HTTP response.
 *
 * @example
 * return httpResult({ status: 201, headers: { location: '/orders/42', link: ['</a>; rel=a', '</b>; rel=b'] }, cookies: ['sid=abc; HttpOnly'], body: { id: 42 } });
 */
export function httpResult(init: HttpResultInit): HttpResult {
  return { [HTTP_RESULT]: true, status: init.status ?? 200, headers: init.headers ?? {}, cookies: init.cookies ?? [], body: init.body };
}

/** Whether `value` was made by `httpResult()` (by any copy of this package). */
export function isHttpResult(value: unknown): value is HttpResult {
  return typeof value === 'object' && value !== null && (value as Record<PropertyKey, unknown>)[HTTP_RESULT] === true;
}

/**
 * The rendered response of an HTTP invocation: what `wrap`, `after`, `onError` and `finally`
 * see as the result, and what the provider sends. Treat it as read-only; to change it, answer
 * with a new `httpResult(...)`.
 */
export interface HttpResponse {
  readonly [RENDERED]: true;
  /** 200–599. */
  readonly status: number;
  /**
   * Headers as the function named them (names differing only in case are merged under the
   * first spelling); a list for a header with several values. Never `set-cookie`.
   */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string>>>;
  /** `Set-Cookie` values, one cookie each. */
  readonly cookies: ReadonlyArray<string>;
  /** The body: text, or base64 when `isBase64`. `''` for none. */
  readonly body: string;
  readonly isBase64: boolean;
}

/** Whether `value` is a rendered `HttpResponse` (by any copy of this package). */
export function isHttpResponse(value: unknown): value is HttpResponse {
  return typeof value === 'object' && value !== null && (value as Record<PropertyKey, unknown>)[RENDERED] === true;
}

/** The fields of a rendered response, without the brand: what a store keeps. */
export type HttpResponseFields = Omit<HttpResponse, typeof RENDERED>;

/**
 * Brands stored response fields as a rendered response again (a replay), after checking that
 * they can still be sent. Throws `INVALID_HTTP_RESULT` when they cannot.
 */
export function toRenderedResponse(fields: HttpResponseFields): HttpResponse {
  const bad = unsendableFields(fields);
  if (bad !== undefined) throw invalidHttpResult(bad);
  return { [RENDERED]: true, status: fields.status, headers: fields.headers, cookies: fields.cookies, body: fields.body, isBase64: fields.isBase64 };
}

/** The 500 for a result no HTTP response can carry; `field` names the part (logged, never sent). */
export class InvalidHttpResultError extends SteadyError {
  override readonly name = 'InvalidHttpResultError';
  /** Which part could not be sent: `status`, `headers.<name>`, `cookies`, `body`. */
  readonly field: string;
  constructor(field: string) {
    // Terminal: the same input returns the same result. Not exposed: the caller learns only the code.
    super('INVALID_HTTP_RESULT', 'The function returned an HTTP result that cannot be sent', { status: 500, retryable: false, expose: false });
    this.field = field;
  }
}

/**
 * The 500 for a result larger than the platform lets the function answer (`RESPONSE_TOO_LARGE`):
 * the provider would otherwise fail the invocation itself — an OpenWhisk "action developer
 * error" with a truncated copy of the result in the activation record, a Lambda
 * `Function.ResponseSizeTooLarge` that API Gateway answers with a bare 502. Terminal: the same
 * input makes the same result. The caller gets the code; the log line gets `size` and `limit`
 * (bytes), never the result.
 */
export class ResponseTooLargeError extends SteadyError {
  override readonly name = 'ResponseTooLargeError';
  /** Bytes the provider would have been sent: the UTF-8 of the JSON the runtime posts. */
  readonly size: number;
  /** The platform's limit, in bytes. */
  readonly limit: number;
  constructor(size: number, limit: number) {
    super('RESPONSE_TOO_LARGE', 'The function result is larger than the platform can send', { status: 500, retryable: false, expose: true, logFields: { size, limit } });
    this.size = size;
    this.limit = limit;
  }
}

/**
 * An upper bound on the UTF-8 bytes of any JSON that carries `res` — its status, headers,
 * cookies and body as text, base64 or the parsed JSON value — whatever shape a provider wraps
 * it in (up to `overhead` bytes of field names). Each UTF-16 unit takes at most 6 bytes in
 * JSON (`\u00XX`), or 4 as base64 of its UTF-8 (3 bytes): below the limit, no exact size is needed.
 */
export function jsonBytesBound(res: HttpResponse, overhead = 256): number {
  let units = res.body.length;
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value === 'string') units += name.length + value.length + 8;
    else for (const v of value) units += name.length + v.length + 8;
  }
  for (const cookie of res.cookies) units += cookie.length + 16;
  return units * 6 + overhead;
}

/**
 * `ResponseTooLargeError` when `text` — the JSON a runtime posts for a result — is over `limit`
 * UTF-8 bytes; counts the bytes only when its length could be (3 bytes per UTF-16 unit at most).
 */
export function checkJsonSize(text: string | undefined, limit: number): ResponseTooLargeError | undefined {
  if (text === undefined || text.length * 3 <= limit) return undefined;
  const size = Buffer.byteLength(text, 'utf8');
  return size > limit ? new ResponseTooLargeError(size, limit) : undefined;
}

/** What checks a rendered response against a provider's size limit (the adapter's `HttpAnswer`). */
interface SizeCheck {
  tooLarge?(res: HttpResponse): ResponseTooLargeError | undefined;
}

/**
 * The size check each rendered response passed, kept in one registry for every copy of this
 * package a program loads (ESM and CommonJS), so a plugin of one copy finds what the core of the
 * other checked. Weak: an entry lives as long as its response.
 */
const sizeChecks = ((globalThis as Record<symbol, unknown>)[Symbol.for('steadyfn.httpResponse.sizeChecks')] ??= new WeakMap()) as WeakMap<HttpResponse, SizeCheck>;

/** Records that `res` passed `check.tooLarge`, the size limit of the provider it is sent to. */
export function passedSizeCheck(res: HttpResponse, check: SizeCheck): void {
  sizeChecks.set(res, check);
}

/**
 * `ResponseTooLargeError` when `res` sent again with `added` headers (e.g. replayed with
 * `Idempotency-Replayed: true`; an added header replaces one of the same spelling, as an object
 * spread does) is over the limit `res` was checked against (same provider, same response
 * shape); undefined when it fits, or when nothing checked `res` against a limit. `added` must be
 * sendable header names and values: they are not checked again.
 */
export function tooLargeWithHeaders(res: HttpResponse, added: Readonly<Record<string, string>>): ResponseTooLargeError | undefined {
  const check = sizeChecks.get(res);
  if (check?.tooLarge === undefined) return undefined;
  return check.tooLarge({ ...res, headers: { ...res.headers, ...added } });
}

function invalidHttpResult(field: string): InvalidHttpResultError {
  return new InvalidHttpResultError(field);
}

function validStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599;
}

/** Which part of rendered fields cannot be sent, if any. */
function unsendableFields(res: HttpResponseFields): string | undefined {
  if (!validStatus(res.status)) return 'status';
  if (typeof res.body !== 'string' || typeof res.isBase64 !== 'boolean') return 'body';
  if (!Array.isArray(res.cookies) || !res.cookies.every((c) => typeof c === 'string' && c !== '' && isFieldValue(c))) return 'cookies';
  if (typeof res.headers !== 'object' || res.headers === null) return 'headers';
  for (const [name, value] of Object.entries(res.headers)) {
    if (!isFieldName(name) || name.toLowerCase() === 'set-cookie') return `headers.${name}`;
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string' && isFieldValue(v))) return `headers.${name}`;
  }
  return undefined;
}

/** Headers and cookies as given, checked, merged case-insensitively; throws INVALID_HTTP_RESULT naming the bad one. */
function renderHeaders(given: unknown, givenCookies: unknown): { headers: Record<string, string | string[]>; cookies: string[] } {
  const headers: Record<string, string | string[]> = {};
  const cookies: string[] = [];
  const names = new Map<string, string>();
  if (givenCookies !== undefined) {
    if (!Array.isArray(givenCookies)) throw invalidHttpResult('cookies');
    for (const cookie of givenCookies) {
      if (typeof cookie !== 'string' || cookie === '' || !isFieldValue(cookie)) throw invalidHttpResult('cookies');
      cookies.push(cookie);
    }
  }
  if (given === undefined || given === null) return { headers, cookies };
  if (typeof given !== 'object') throw invalidHttpResult('headers');
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!isFieldName(name)) throw invalidHttpResult(`headers.${name}`);
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' || !isFieldValue(v)) throw invalidHttpResult(`headers.${name}`);
    }
    const lower = name.toLowerCase();
    if (lower === 'set-cookie') {
      for (const v of values as string[]) if (v !== '') cookies.push(v);
      continue;
    }
    const first = names.get(lower);
    if (first === undefined) {
      names.set(lower, name);
      setHeader(headers, name, values.length === 1 ? (values[0] as string) : [...(values as string[])]);
    } else {
      const previous = headers[first]!;
      headers[first] = [...(typeof previous === 'string' ? [previous] : previous), ...(values as string[])];
    }
  }
  return { headers, cookies };
}

function setHeader(headers: Record<string, string | string[]>, name: string, value: string | string[]): void {
  if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  else headers[name] = value;
}

function hasHeader(headers: Record<string, unknown>, lower: string): boolean {
  for (const name in headers) if (name.toLowerCase() === lower) return true;
  return false;
}

/**
 * A value whose JSON says nothing of what it holds — `{}` for a web stream, a `Blob`, a fetch
 * `Response`, a `Map`, a `Set` or a promise; a Node stream's internal state, buffered chunks
 * included — so sending it as JSON would lose the data (or leak it). The core sends a response
 * whole: a stream, or a value still to come, has no body to send.
 */
function isOpaqueValue(body: object): boolean {
  const b = body as Record<string, unknown>;
  // Told by shape: a promise (`then`), a Node stream (`pipe`), a web stream (`getReader`), a Blob
  // or fetch Response (`arrayBuffer`). Reading the global `Response` would load Node's fetch.
  if (typeof b.then === 'function' || typeof b.pipe === 'function' || typeof b.getReader === 'function' || typeof b.arrayBuffer === 'function') return true;
  return body instanceof Map || body instanceof Set || body instanceof WeakMap || body instanceof WeakSet;
}

/** The body as sent: its text (or base64) and the content type it implies when none was given. */
function encodeBody(body: unknown): { body: string; isBase64: boolean; type: string | undefined } {
  if (body === undefined || body === null) return { body: '', isBase64: false, type: undefined };
  if (typeof body === 'string') return { body, isBase64: false, type: 'text/plain; charset=utf-8' };
  // Bytes in any view (a Buffer, a DataView, an Int16Array) or a whole ArrayBuffer: those bytes.
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) {
    const bytes = body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return { body: bytes.toString('base64'), isBase64: true, type: 'application/octet-stream' };
  }
  if (typeof body === 'object' && isOpaqueValue(body)) throw invalidHttpResult('body');
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch {
    throw invalidHttpResult('body');
  }
  // A function or a symbol has no JSON text.
  if (text === undefined) throw invalidHttpResult('body');
  return { body: text, isBase64: false, type: 'application/json' };
}

/**
 * Renders a function's result (or an early answer) as the response to send: a rendered
 * response is kept as it is; `httpResult(...)` keeps its status, headers and cookies; a plain
 * value becomes 200 JSON (a string `text/plain`, bytes `application/octet-stream`); `undefined`
 * becomes 204.
 *
 * @throws InvalidHttpResultError (`INVALID_HTTP_RESULT`, 500) when no HTTP response can carry
 *   the result: a status outside 200–599, a header name that is not a token, a header value or
 *   cookie with CR, LF or another control character, a body JSON cannot encode (a `BigInt`) or
 *   whose JSON would not hold it (a stream, `Blob`, fetch `Response`, `Map`, `Set`, promise).
 */
export function renderResult(value: unknown): HttpResponse {
  if (isHttpResponse(value)) return value;
  if (isHttpResult(value)) {
    // A decimal string status is read as its number, as the OpenWhisk controller reads `statusCode`.
    const status: unknown = typeof value.status === 'string' && /^\d{3}$/.test(value.status) ? Number(value.status) : value.status;
    if (!validStatus(status)) throw invalidHttpResult('status');
    const { headers, cookies } = renderHeaders(value.headers, value.cookies);
    const encoded = encodeBody(value.body);
    if (encoded.type !== undefined && !hasHeader(headers, 'content-type')) headers['content-type'] = encoded.type;
    return { [RENDERED]: true, status, headers, cookies, body: encoded.body, isBase64: encoded.isBase64 };
  }
  if (value === undefined) return { [RENDERED]: true, status: 204, headers: {}, cookies: [], body: '', isBase64: false };
  const encoded = encodeBody(value);
  const headers: Record<string, string> = encoded.type === undefined ? {} : { 'content-type': encoded.type };
  return { [RENDERED]: true, status: 200, headers, cookies: [], body: encoded.body, isBase64: encoded.isBase64 };
}

/**
 * The `application/problem+json` (RFC 9457) response for an error. Extra headers the error
 * carries (`Retry-After`) are kept when they can be sent; a status outside 200–599 becomes 500.
 */
export function renderError(error: SteadyError): HttpResponse {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/problem+json' };
  if (error.headers) {
    for (const [name, value] of Object.entries(error.headers)) {
      if (typeof value === 'string' && isFieldName(name) && isFieldValue(value) && name.toLowerCase() !== 'set-cookie') setHeader(headers, name, value);
    }
  }
  const status = validStatus(error.status) ? error.status : 500;
  const problem = toProblem(error);
  problem.status = status;
  return { [RENDERED]: true, status, headers, cookies: [], body: JSON.stringify(problem), isBase64: false };
}

/**
 * `res` as every adapter sends it: for a status with no content (204, 205, 304 — RFC 9110
 * §15.3.5, §15.3.6, §15.4.5) without its body and without a `Content-Length` (§8.6: never with
 * a 204; a 304's would have to be the 200's, which the function did not send) in any spelling;
 * in answer to a HEAD request (`method`, the request's method in any case) without its body
 * but with every header a GET would get, a `Content-Length` the function set included (RFC 9110
 * §9.3.2: no content in a response to HEAD); so API Gateway, Function URLs, ALB, Azure, the
 * OpenWhisk controller and the Functions Framework all answer alike, and the size checks
 * measure what is sent. Any other response as it is.
 */
export function sentResponse(res: HttpResponse, method?: string): HttpResponse {
  if (!NO_CONTENT_STATUSES.has(res.status)) {
    if (res.body === '' || method === undefined || method.toUpperCase() !== 'HEAD') return res;
    return { [RENDERED]: true, status: res.status, headers: res.headers, cookies: res.cookies, body: '', isBase64: false };
  }
  const headers: Record<string, string | ReadonlyArray<string>> = {};
  for (const [name, value] of Object.entries(res.headers)) if (name.toLowerCase() !== 'content-length') headers[name] = value;
  return { [RENDERED]: true, status: res.status, headers, cookies: res.cookies, body: '', isBase64: false };
}

/** Each header with its values as a list, for adapters that send one line per value. */
export function headerEntries(res: HttpResponse): Array<[string, ReadonlyArray<string>]> {
  return Object.entries(res.headers).map(([name, value]) => [name, typeof value === 'string' ? [value] : value]);
}

/** Each header with its values joined by `, ` (RFC 9110 §5.3), for a provider that takes one value per name. */
export function joinedHeaders(res: HttpResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) setHeader(out, name, typeof value === 'string' ? value : value.join(', '));
  return out;
}
