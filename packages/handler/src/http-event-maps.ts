/**
 * The headers and query parameters of a Lambda event that carries an HTTP request — API
 * Gateway REST (v1) and HTTP API (v2), Function URLs, ALB, WebSocket routes, and the API
 * Gateway REQUEST authorizer events of each — read one way, so the HTTP trigger and the
 * authorizer see a request the same.
 */
import { headerLists, joinHeaderLists } from './http-headers.js';
import { parseQueryString, queryFromObject } from './http-query.js';
import { setOwn, str, type Rec } from './internal/record.js';

/** Lower-cased headers: one value each (joined as `joinHeaderLists` says), and every value. */
export interface EventHeaders {
  headers: Record<string, string>;
  multiHeaders: Record<string, string[]>;
}

/** Query parameters: the last value of each, and every value. */
export interface EventQuery {
  query: Record<string, string>;
  multiQuery: Record<string, string[]>;
}

/**
 * The headers of `event`. REST APIs and ALBs (multi-value mode) send `headers` and
 * `multiValueHeaders`, but not always the same names: a REST REQUEST authorizer or a WebSocket
 * `$connect` may list a header only in `multiValueHeaders` (`Origin`, `Sec-WebSocket-Key`), and
 * `headers` holds only the last of a repeated one. So every name of either is read, the
 * multi-value list winning where both have it. With `cookies` (payload 2.0: HTTP API, Function
 * URLs, their authorizers) the `cookies` array is the `cookie` header, joined with `; `, when no
 * such header came.
 */
export function eventHeaders(event: Rec, cookies: boolean): EventHeaders {
  const multiHeaders = headerLists(event.multiValueHeaders);
  for (const [name, values] of Object.entries(headerLists(event.headers))) if (!Object.hasOwn(multiHeaders, name)) setOwn(multiHeaders, name, values);
  const headers = joinHeaderLists(multiHeaders);
  if (cookies && Array.isArray(event.cookies) && event.cookies.length > 0 && headers.cookie === undefined) {
    multiHeaders.cookie = event.cookies.map(String);
    headers.cookie = multiHeaders.cookie.join('; ');
  }
  return { headers, multiHeaders };
}

/**
 * The query parameters of `event`. Payload 2.0 (`rawQuery`): `rawQueryString` keeps repeated
 * names apart, while `queryStringParameters` joins them with commas (`p=a&p=b` → `'a,b'`, which
 * cannot be told from one value `a,b`); an event whose raw text is empty but whose map is not
 * (Powertools' published lambdaFunctionUrlEventWithHeaders.json, hand-built events) still has
 * that query. Otherwise `multiValueQueryStringParameters` with `queryStringParameters` (the
 * last value of each).
 */
export function eventQuery(event: Rec, rawQuery: boolean): EventQuery {
  if (!rawQuery) return queryFromObject(event.queryStringParameters, event.multiValueQueryStringParameters);
  const raw = str(event.rawQueryString);
  return raw ? parseQueryString(raw) : queryFromObject(event.queryStringParameters);
}
