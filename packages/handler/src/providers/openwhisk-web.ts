/**
 * Apache OpenWhisk web actions: the request the controller hands over as `__ow_*` params, read
 * into an `HttpRequest` (raw and non-raw), and what the controller can send: the statuses it
 * knows, the result size it takes, 5xx results under `error` (the result's own shape is
 * providers/openwhisk-web-result.ts). The activation
 * entry (`invokeOpenWhisk`, providers/openwhisk.ts) dispatches here.
 */
import { MalformedEventError } from '../errors.js';
import { decodeBody, httpInput, type RequestBody } from '../http.js';
import { forwardedClient, headerLists, joinHeaderLists } from '../http-headers.js';
import { parseQueryString } from '../http-query.js';
import { parseMediaType } from '../internal/media-type.js';
import { isOpenWhiskBinaryMedia, isOpenWhiskJsonMedia as isJsonFamily, isOpenWhiskLegacyJson } from './openwhisk-media.js';
import { setOwn, str, type Rec } from '../internal/record.js';
import type { Definition, HttpAnswer, Invocation } from '../invoke.js';
import type { Logger } from '../logger.js';
import { checkJsonSize, InvalidHttpResultError, jsonBytesBound, renderError, type HttpResponse } from '../response.js';
import { OPENWHISK_RESULT_LIMIT_BYTES } from '../internal/limits.js';
import { toOpenWhiskWebResult, webBodyUnsendable } from './openwhisk-web-result.js';
import { valueTooDeep, MAX_JSON_DEPTH } from '../internal/json.js';
import type { HttpRequest } from '../types.js';

export { toOpenWhiskWebResult, type OpenWhiskWebResult } from './openwhisk-web-result.js';

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
  // The controller passes no client address of its own, and Apache OpenWhisk's edge nginx sets
  // no X-Forwarded-For (ansible/roles/nginx/templates/nginx.conf.j2): the header is the client's,
  // plus what any proxy the deployment puts in front appends. So the last hop: the address that
  // proxy saw, or — with none — a value the client chose.
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
    unsendable: (res) => (isOpenWhiskStatus(res.status) ? webBodyUnsendable(res, method) : 'status'),
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
    // A thrown error whose status the controller refuses (e.g. 499; `render()` never sees errors): the documented 500 instead.
    log.error('HTTP result cannot be sent', { code: 'INVALID_HTTP_RESULT', field: 'status' });
    res = renderError(new InvalidHttpResultError('status'));
  } else if (webBodyUnsendable(res, method) !== undefined) {
    // A response changed after it passed `unsendable` (an `after` that edits it in place): the same 500, never mangled text.
    log.error('HTTP result cannot be sent', { code: 'INVALID_HTTP_RESULT', field: 'body' });
    res = renderError(new InvalidHttpResultError('body'));
  }
  return sentWebResult(res, method);
}
