/**
 * Azure Functions HTTP triggers: the `HttpRequest` of `@azure/functions` read into the handler's
 * request (its body read once, from a clone), and the handler's response written as the
 * `HttpResponseInit` the worker sends, cookies as the worker's cookie objects.
 */
import { parseSetCookie } from 'set-cookie-parser';
import { ConfigurationError } from '../errors.js';
import { bodyFromBytes } from '../http.js';
import { forwardedClient, headerLists, joinHeaderLists } from '../http-headers.js';
import { parseQueryString } from '../http-query.js';
import { isRecord as isRec, setOwn, type Rec } from '../internal/record.js';
import type { HttpAnswer } from '../invoke.js';
import { joinedHeaders, sentResponse, type HttpResponse } from '../response.js';
import type { HttpRequest } from '../types.js';

/** A cookie as `@azure/functions` takes it (`HttpResponseInit.cookies`): the host sends one `Set-Cookie` per cookie. */
export interface AzureCookie {
  name: string;
  /**
   * The value as the worker is given it: the host percent-encodes it once more on the way out
   * (`Uri.EscapeDataString`; `encodeURIComponent` under `enableHttpStream`), so a `Set-Cookie`
   * value already percent-encoded is given decoded (`s%3Aabc` → `s:abc`) and reaches the client
   * as written.
   */
  value: string;
  domain?: string;
  path?: string;
  expires?: Date;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Seconds. */
  maxAge?: number;
}

/** `HttpResponseInit` as the Azure host reads it. */
export interface AzureHttpResponse {
  status: number;
  /** One value per name (the worker's header map has no repeats): several values are joined with `, `. */
  headers: Record<string, string>;
  /** Set-Cookie lines, one per cookie: a header map would keep only the last. */
  cookies?: AzureCookie[];
  body?: string | Buffer;
}

export type AzureRequest = Rec & { arrayBuffer(): Promise<ArrayBuffer>; clone?: () => AzureRequest; bodyUsed?: boolean; body?: { locked?: boolean } | null };

export function isAzureHttpRequest(v: unknown): v is AzureRequest {
  return isRec(v) && typeof v.method === 'string' && typeof v.url === 'string' && typeof (v as Rec).arrayBuffer === 'function';
}

function headersOf(raw: unknown): Record<string, string[]> {
  // `Headers` (undici) iterates as [name, value] pairs, `set-cookie` once per value (and joins
  // repeated `cookie` with '; ' itself); plain objects are read as they are.
  if (isRec(raw) && typeof (raw as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
    const lists: Record<string, string[]> = {};
    for (const [name, value] of raw as unknown as Iterable<[string, string]>) {
      const key = String(name).toLowerCase();
      const previous = Object.hasOwn(lists, key) ? lists[key] : undefined;
      if (previous) previous.push(String(value));
      else setOwn(lists, key, [String(value)]);
    }
    return lists;
  }
  return headerLists(raw);
}

/**
 * The query as the client sent it: the URL's query string. `HttpRequest.query` is built from the
 * host's `RpcHttp.query` map, whose values are ASP.NET's `StringValues.ToString()` — a repeated
 * parameter joined with "," (`t=a&t=b` → `'a,b'`) and an empty one left out
 * (azure-functions-host `ToRpcHttp`) — so it is read only when the URL has no query (a request
 * built by hand with `query` alone).
 */
function queryOf(req: Rec, url: URL): { query: Record<string, string>; multiQuery: Record<string, string[]> } {
  const q = req.query;
  if (url.search === '' && q instanceof URLSearchParams) return parseQueryString(q.toString());
  return parseQueryString(url.search);
}

/** The body was read before the handler ran (a `preInvocation` hook, another wrapper): the app's fault, not the client's. */
function bodyUsed(): ConfigurationError {
  return new ConfigurationError('Azure HTTP request body was already read before the handler ran: read request.clone() in hooks, or pass a new HttpRequest on', {
    field: 'request.body',
    expected: 'an unread request body',
    code: 'AZURE_BODY_USED',
  });
}

export async function azureHttpRequest(req: AzureRequest): Promise<HttpRequest> {
  const url = new URL(String(req.url), 'http://localhost');
  const { query, multiQuery } = queryOf(req, url);
  // The body is a stream that can be read once (nodejs-library#79): read the bytes of a clone,
  // so the request in ctx.raw keeps its body (`formData()`, `text()`), and take the text from them.
  // A body read or locked (a reader taken) before the handler is the app's, not the client's fault.
  if (req.bodyUsed === true || req.body?.locked === true) throw bodyUsed();
  // No body (GET, HEAD): nothing to keep, no clone. A clone copies the buffered body once more.
  const source = typeof req.clone === 'function' && req.body != null ? req.clone() : req;
  // The text keeps a leading byte order mark (U+FEFF), as on every other provider: `text()` would
  // drop it, and a signature over `rawBody` would not verify (JSON parsing ignores it).
  const { rawBody, rawBytes } = bodyFromBytes(Buffer.from(await source.arrayBuffer()));
  const multiHeaders = headersOf(req.headers);
  const headers = joinHeaderLists(multiHeaders);
  const request: HttpRequest = { method: String(req.method).toUpperCase(), path: url.pathname, headers, multiHeaders, query, multiQuery, rawBody, rawBytes };
  // The worker reports no client address; App Service's front ends append the one they saw to
  // X-Forwarded-For as `ip:port`. The last hop, its port dropped (see forwardedClient).
  const ip = forwardedClient(headers);
  if (ip) request.sourceIp = ip;
  return request;
}

const SAME_SITE: Readonly<Record<string, AzureCookie['sameSite']>> = { strict: 'Strict', lax: 'Lax', none: 'None' };
const COOKIE_FIELDS = new Set(['name', 'value', 'domain', 'path', 'expires', 'maxAge', 'secure', 'httpOnly', 'sameSite']);

/**
 * The earliest expiry the worker sends: `@azure/functions`' `toRpcHttpCookie` leaves out an
 * `expires` whose time is 0 ms or less (`timeInMilliseconds && timeInMilliseconds >= 0`), which
 * would turn the usual deletion (`Expires=Thu, 01 Jan 1970 00:00:00 GMT`) into a session cookie.
 */
const EARLIEST_SENT_EXPIRY_MS = 1_000;

/** An expiry at or before the epoch as one still in the past the worker carries (1970-01-01T00:00:01Z). */
function sendableExpiry(expires: Date): Date {
  const ms = expires.getTime();
  return ms <= 0 ? new Date(EARLIEST_SENT_EXPIRY_MS) : expires;
}

/** .NET's `Uri.EscapeDataString` (RFC 3986 unreserved characters kept): `encodeURIComponent` that also escapes `!'()*`. */
function escapeDataString(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The value to give the worker so the client gets `value`, byte for byte. Both ways the worker
 * answers percent-encode a cookie value once more: the host (`ConvertCookie` → ASP.NET Core
 * `Response.Cookies.Append`) with `Uri.EscapeDataString`, the HTTP stream proxy
 * (`enableHttpStream`) with `cookie.serialize` → `encodeURIComponent`. So a value both would
 * encode back to itself (`s%3Aabc.def%2Bg%2F`, `abc`) is handed over decoded (`s:abc.def+g/`).
 * Any other value (`dGVzdA==`, a lowercase `%3a`, a `%` not followed by two hex digits) has no
 * such decoded form and is handed over as it is: the client gets it percent-encoded
 * (`dGVzdA%3D%3D`), which a reader that decodes cookie values (Express `cookie-parser`,
 * `cookie.parse`) still reads as the value set.
 */
function sendableValue(value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return value;
  }
  return escapeDataString(decoded) === value && encodeURIComponent(decoded) === value ? decoded : value;
}

/**
 * A `Set-Cookie` line as the cookie object the worker takes, or undefined when that object
 * cannot say the same thing (an attribute it has no field for, such as `Partitioned`). The
 * value is the one that reaches the client as the line has it (see `sendableValue`).
 */
export function toAzureCookie(line: string): AzureCookie | undefined {
  const [parsed] = parseSetCookie(line, { decodeValues: false, silent: true, split: false });
  if (!parsed || parsed.name === '') return undefined;
  const fields = parsed as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!COOKIE_FIELDS.has(key)) return undefined;
  const cookie: AzureCookie = { name: parsed.name, value: sendableValue(parsed.value) };
  if (parsed.domain !== undefined) cookie.domain = parsed.domain;
  if (parsed.path !== undefined) cookie.path = parsed.path;
  if (parsed.expires !== undefined) cookie.expires = sendableExpiry(parsed.expires);
  if (parsed.maxAge !== undefined) cookie.maxAge = parsed.maxAge;
  if (parsed.secure) cookie.secure = true;
  if (parsed.httpOnly) cookie.httpOnly = true;
  if (parsed.sameSite !== undefined) {
    const sameSite = SAME_SITE[parsed.sameSite.toLowerCase()];
    if (!sameSite) return undefined;
    cookie.sameSite = sameSite;
  }
  return cookie;
}

/** The worker can only send cookies it can express as its cookie objects. */
export const AZURE_HTTP: HttpAnswer = {
  unsendable: (res) => (res.cookies.every((line) => toAzureCookie(line) !== undefined) ? undefined : 'cookies'),
};

export function toAzureHttp(rendered: HttpResponse, method: string | undefined): AzureHttpResponse {
  const res = sentResponse(rendered, method);
  const out: AzureHttpResponse = { status: res.status, headers: joinedHeaders(res) };
  if (res.cookies.length > 0) out.cookies = res.cookies.map((line) => toAzureCookie(line)!);
  if (res.body !== '') out.body = res.isBase64 ? Buffer.from(res.body, 'base64') : res.body;
  return out;
}
