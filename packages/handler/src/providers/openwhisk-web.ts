/**
 * Apache OpenWhisk web actions: the request the controller hands over as `__ow_*` params, read
 * into an `HttpRequest` (raw and non-raw), and the response rendered as the web action result
 * the controller sends (`statusCode`, `headers`, `body`; 5xx under `error`). The activation
 * entry (`invokeOpenWhisk`, providers/openwhisk.ts) dispatches here.
 */
import { MalformedEventError } from '../errors.js';
import { decodeBody, forwardedClient, headerLists, httpInput, joinHeaderLists, parseQueryString, type RequestBody } from '../http.js';
import { parseMediaType } from '../internal/media-type.js';
import { isOpenWhiskBinaryMedia, isOpenWhiskJsonMedia as isJsonFamily, isOpenWhiskLegacyJson } from './openwhisk-media.js';
import { setOwn, str, type Rec } from '../internal/record.js';
import type { Definition, HttpAnswer, Invocation } from '../invoke.js';
import type { Logger } from '../logger.js';
import { checkJsonSize, InvalidHttpResultError, jsonBytesBound, renderError, sentResponse, type HttpResponse } from '../response.js';
import { OPENWHISK_RESULT_LIMIT_BYTES } from '../internal/limits.js';
import { decodeCharset } from '../internal/text.js';
import { valueTooDeep, MAX_JSON_DEPTH } from '../internal/json.js';
import type { HttpRequest } from '../types.js';

/** What a web action returns to the OpenWhisk controller (`.http` extension). */
export interface OpenWhiskWebResult {
  statusCode: number;
  /** A list sends the header once per value (the controller's `headersFromJson`); `set-cookie` is always one line per cookie. */
  headers: Record<string, string | string[]>;
  /**
   * Text for textual media types (bytes the function returned are decoded with the type's
   * `charset`, UTF-8 by default: the controller sends this text as UTF-8, labelled so);
   * base64 for binary ones (the controller decodes it); a parsed JSON value for JSON media
   * types. Absent for an empty body.
   */
  body?: unknown;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

function withoutOwFields(params: Rec): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(params)) if (!k.startsWith('__ow_')) setOwn(out, k, v);
  return out;
}

function webPath(value: unknown): string {
  const path = str(value) ?? '';
  if (path === '') return '/';
  return path.startsWith('/') ? path : `/${path}`;
}

/**
 * A web action's params as the invocation of an HTTP request: method, path, headers, query and
 * body from the `__ow_*` params (raw or merged by the controller), answered by `openWhiskHttp`.
 * A body that cannot be read is thrown as a MalformedEventError when the input is read (JSON
 * nested too deep) or here (junk in base64).
 */
export function webInvocation(params: Rec, activationId: string, def: Definition): Invocation {
  const mode = def.body;
  const multiHeaders = headerLists(params.__ow_headers);
  const headers = joinHeaderLists(multiHeaders);
  const mediaType = parseMediaType(headers['content-type']);
  // `__ow_query` is present (possibly empty) exactly when the action handles raw HTTP.
  const raw = typeof params.__ow_query === 'string';
  const hasBody = Object.hasOwn(params, '__ow_body');
  const given = params.__ow_body;
  // Non-raw, the input is the merged params when there is no body — also for an empty body
  // under a non-JSON content type, which the controller still sends as `__ow_body: ""` (under
  // a JSON type that is the JSON string `""`; an empty JSON body sends no `__ow_body`).
  const merged = !raw && (!hasBody || (given === '' && !(mediaType !== undefined && isJsonFamily(mediaType))));
  const { query, multiQuery } = raw ? parseQueryString(params.__ow_query as string) : { query: {}, multiQuery: {} };

  // A non-raw JSON body that is not an object arrives already parsed (array, number, string, null).
  const parsedJson = hasBody && ((!raw && mediaType !== undefined && isJsonFamily(mediaType)) || typeof given !== 'string');
  // The bytes the client sent: decoded from base64 where the controller encodes them (binary
  // media types; raw application/json), the UTF-8 of the text it hands over otherwise, and
  // none for a JSON body the controller parsed (its text is re-serialised from the value).
  let body: RequestBody = { rawBody: undefined, rawBytes: undefined };
  // Text the controller passed as text it has decoded already (as UTF-8, whatever the charset).
  let textDecoded = false;
  // The controller has parsed a JSON body already, at any depth: refuse what no other provider
  // would take (re-serialising it would overflow the stack) with the same 400.
  const tooDeep = parsedJson ? valueTooDeep(given) : merged && valueTooDeep(params);
  if (hasBody && !tooDeep) {
    if (parsedJson) body = { rawBody: given === undefined ? undefined : JSON.stringify(given), rawBytes: undefined };
    else {
      const text = given as string;
      const base64 = (isOpenWhiskBinaryMedia(mediaType) || (raw && isOpenWhiskLegacyJson(mediaType))) && BASE64.test(text);
      body = decodeBody(text, base64);
      textDecoded = !base64;
    }
  }
  const request: HttpRequest = {
    method: (str(params.__ow_method) || 'get').toUpperCase(),
    path: webPath(params.__ow_path),
    headers,
    multiHeaders,
    query,
    multiQuery,
    rawBody: body.rawBody,
    rawBytes: body.rawBytes,
  };
  // The controller passes the client's address only in the edge proxy's X-Forwarded-For.
  const ip = forwardedClient(headers);
  if (ip) request.sourceIp = ip;
  return {
    trigger: { kind: 'http', source: raw ? 'ow-web-raw' : 'ow-web', request },
    requestId: activationId,
    deliveryId: undefined,
    http: openWhiskHttp(resultLimit(def), request.method),
    payload: () => {
      if (tooDeep) {
        throw new MalformedEventError(`Request body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [
          { field: 'body', message: 'Nested too deep', expected: `JSON at most ${MAX_JSON_DEPTH} levels deep` },
        ]);
      }
      if (raw) return httpInput(request, mode, textDecoded);
      if (merged) return withoutOwFields(params); // query and object/form body, merged by the controller
      if (parsedJson) return given;
      return httpInput(request, mode, textDecoded);
    },
  };
}

function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return typeof v === 'string' ? v : v[0];
  return undefined;
}

/** Headers for the controller: repeated ones as lists, and every cookie its own `set-cookie` line. */
function webHeaders(res: HttpResponse): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.headers)) setOwn(headers, name, typeof value === 'string' ? value : [...value]);
  if (res.cookies.length > 0) headers['set-cookie'] = res.cookies.length === 1 ? res.cookies[0]! : [...res.cookies];
  return headers;
}

export function toOpenWhiskWebResult(rendered: HttpResponse, method?: string): OpenWhiskWebResult {
  // A body with 204/304 makes the controller fail the response (akka-http: 500); 205 has none
  // either, nor does any answer to HEAD.
  const res = sentResponse(rendered, method);
  const result: OpenWhiskWebResult = { statusCode: res.status, headers: webHeaders(res) };
  if (res.body === '') return result;
  const mediaType = parseMediaType(headerValue(res.headers, 'content-type'));
  if (mediaType === undefined) {
    // The controller assumes text/html for a string body without a content type.
    result.body = res.isBase64 ? Buffer.from(res.body, 'base64').toString('utf8') : res.body;
    return result;
  }
  if (isJsonFamily(mediaType)) {
    if (res.isBase64) {
      result.body = res.body;
      return result;
    }
    let value: unknown;
    try {
      value = JSON.parse(res.body);
    } catch {
      value = undefined;
    }
    // The controller re-serialises a JSON value: only hand it one that serialises back to the
    // same text (big integers, `1e400` or extra spaces would change); otherwise exact bytes.
    const asValue = ((typeof value === 'object' && value !== null) || typeof value === 'number' || typeof value === 'boolean') && JSON.stringify(value) === res.body;
    result.body = asValue ? value : Buffer.from(res.body, 'utf8').toString('base64');
    return result;
  }
  if (isOpenWhiskBinaryMedia(mediaType)) {
    result.body = res.isBase64 ? res.body : Buffer.from(res.body, 'utf8').toString('base64');
  } else {
    result.body = res.isBase64 ? textOf(Buffer.from(res.body, 'base64'), mediaType.charsetName) : res.body;
  }
  return result;
}

/**
 * Bytes under a textual type as the text they stand for in the declared `charset`. The
 * controller takes only a string there and sends it as UTF-8, labelled `charset=UTF-8`
 * (`interpretHttpResponse`: akka-http's `MediaType.parse` drops the charset, and
 * `ContentType(mediaType, () => UTF-8)` sets its own), so the client gets the same text in
 * UTF-8. UTF-8 without a charset or with one Node does not know.
 */
function textOf(bytes: Buffer, charset: string | undefined): string {
  return decodeCharset(bytes, charset) ?? bytes.toString('utf8');
}

/**
 * The statuses (200–599) in akka-http's `StatusCodes` registry, the only ones the controller
 * can send: for any other it answers the client 400 "did not produce a valid response".
 */
const REGISTERED_STATUSES = new Set([
  200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406,
  407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 420, 421, 422, 423, 424, 425, 426, 428, 429, 431, 449, 450, 451,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 598, 599,
]);

/** Whether the OpenWhisk controller can send this status. */
export function isOpenWhiskStatus(status: number): boolean {
  return REGISTERED_STATUSES.has(status);
}

/** The largest action result this definition may answer, in bytes. */
export function resultLimit(def: Definition): number {
  return def.openwhiskResultLimitBytes ?? OPENWHISK_RESULT_LIMIT_BYTES;
}

/**
 * A result whose status the controller refuses is the invocation's error `INVALID_HTTP_RESULT`,
 * one larger than the invoker accepts `RESPONSE_TOO_LARGE` (plugins see either).
 */
function openWhiskHttp(limit: number, method: string): HttpAnswer {
  return {
    unsendable: (res) => (isOpenWhiskStatus(res.status) ? undefined : 'status'),
    tooLarge: (res) => (jsonBytesBound(res) <= limit ? undefined : checkJsonSize(JSON.stringify(sentWebResult(res, method)), limit)),
  };
}

/** The action result for a sendable response to a `method` request: 5xx responses go under `error`. */
function sentWebResult(res: HttpResponse, method: string | undefined): Rec {
  const result = toOpenWhiskWebResult(res, method);
  return res.status >= 500 ? { error: result } : { ...result };
}

/** 5xx responses go under `error` so the activation is recorded as failed; the controller still sends the same response. */
export function webResult(res: HttpResponse, log: Logger, method: string | undefined): Rec {
  if (!isOpenWhiskStatus(res.status)) {
    // An error whose status the controller refuses (e.g. 499): the documented 500 instead.
    log.error('HTTP result cannot be sent', { code: 'INVALID_HTTP_RESULT', field: 'status' });
    res = renderError(new InvalidHttpResultError('status'));
  }
  return sentWebResult(res, method);
}
