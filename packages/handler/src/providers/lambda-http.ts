/**
 * AWS Lambda HTTP events — API Gateway REST (v1) and HTTP API (v2), Function URLs, ALB, VPC
 * Lattice, API Gateway WebSocket routes: the request each carries (`httpRequestFromEvent`), its invocation,
 * and the rendered response in the answer shape of its source (`formatHttp`, `httpAnswer`).
 * The event detection is in lambda-events.ts; the other triggers are in lambda.ts.
 */
import { decodeBody, httpInput } from '../http.js';
import { forwardedClient } from '../http-headers.js';
import { eventHeaders, eventQuery } from '../http-event-maps.js';
import { decodedQuery } from '../http-query.js';
import { statusLine } from '../internal/http-grammar.js';
import { isRecord as isRec, str, type Rec } from '../internal/record.js';
import type { Definition, HttpAnswer, Invocation } from '../invoke.js';
import { checkJsonSize, headerEntries, joinedHeaders, jsonBytesBound, sentResponse, type HttpResponse, type ResponseTooLargeError } from '../response.js';
import { ALB_RESPONSE_LIMIT_BYTES, LAMBDA_RESPONSE_LIMIT_BYTES, VPC_LATTICE_RESPONSE_LIMIT_BYTES, WEBSOCKET_MESSAGE_LIMIT_BYTES } from '../internal/limits.js';
import type { HttpRequest } from '../types.js';
import { webSocketRoute } from '../events/websocket.js';
import { latticeBodyIsBase64, latticeRequest } from '../events/vpc-lattice.js';
import type { LambdaContext } from './lambda.js';

/** The HTTP event sources of Lambda, as `ctx.trigger.source` names them. */
export type HttpKind = 'apigw-v1' | 'apigw-v2' | 'function-url' | 'alb' | 'apigw-websocket' | 'vpc-lattice';

/** The request an HTTP event of `kind` carries (`ctx.trigger.request`): headers and query read as a REQUEST authorizer reads them, the body decoded. */
export function httpRequestFromEvent(kind: HttpKind, event: Rec): HttpRequest {
  if (kind === 'vpc-lattice') return latticeRequest(event);
  const rc = isRec(event.requestContext) ? event.requestContext : {};
  const v2 = kind === 'apigw-v2' || kind === 'function-url';
  // Read as an API Gateway REQUEST authorizer reads them (see http-event-maps.ts).
  const { headers, multiHeaders } = eventHeaders(event, v2);
  // Binary bodies arrive base64 (isBase64Encoded); the decoded bytes are kept as they are.
  const { rawBody, rawBytes } = decodeBody(event.body, event.isBase64Encoded === true);
  if (v2) {
    const http = isRec(rc.http) ? rc.http : {};
    const { query, multiQuery } = eventQuery(event, true);
    const request: HttpRequest = {
      method: (str(http.method) ?? 'GET').toUpperCase(),
      path: str(event.rawPath) ?? str(http.path) ?? '/',
      headers,
      multiHeaders,
      query,
      multiQuery,
      rawBody,
      rawBytes,
    };
    const ip = str(http.sourceIp);
    if (ip) request.sourceIp = ip;
    return request;
  }
  // ALB passes query names and values still percent-encoded.
  const { query, multiQuery } = kind === 'alb' ? decodedQuery(eventQuery(event, false)) : eventQuery(event, false);
  const identity = isRec(rc.identity) ? rc.identity : {};
  const websocket = kind === 'apigw-websocket' ? webSocketRoute(event) : undefined;
  const request: HttpRequest = {
    method: websocket ? websocket.eventType : (str(event.httpMethod) ?? 'GET').toUpperCase(),
    path: websocket ? websocket.routeKey : (str(event.path) ?? '/'),
    headers,
    multiHeaders,
    query,
    multiQuery,
    rawBody,
    rawBytes,
  };
  // An ALB reports the client only in X-Forwarded-For, appending the address it saw (its default
  // `append` mode): the last hop. Every earlier one is what the client wrote.
  const ip = kind === 'alb' ? forwardedClient(headers) : str(identity.sourceIp);
  if (ip) request.sourceIp = ip;
  return request;
}

/**
 * An HTTP event (API Gateway REST/HTTP API, Function URL, ALB, WebSocket route) as an
 * invocation answered over HTTP.
 *
 * @throws MalformedEventError when the request cannot be read (a body that is not base64).
 */
export function httpInvocation(def: Definition, kind: HttpKind, event: Rec, context: LambdaContext): Invocation {
  const rc = isRec(event.requestContext) ? event.requestContext : {};
  const request = httpRequestFromEvent(kind, event);
  const websocket = kind === 'apigw-websocket' ? webSocketRoute(event) : undefined;
  return {
    trigger: { kind: 'http', source: kind, request, ...(websocket ? { websocket } : {}) },
    requestId: str(context.awsRequestId) ?? str(rc.requestId) ?? '',
    deliveryId: undefined,
    // Not base64: text API Gateway, the ALB, the Function URL or VPC Lattice already decoded (not bytes to decode again).
    payload: () => httpInput(request, def.body, typeof event.body === 'string' && !(kind === 'vpc-lattice' ? latticeBodyIsBase64(event) : event.isBase64Encoded === true)),
    http: httpAnswer(kind, event),
  };
}

/** An ALB target group with multi-value headers on sends (and reads only) `multiValueHeaders`. */
function albMultiValue(event: Rec): boolean {
  return event.multiValueHeaders !== undefined;
}

/**
 * What this event's answer shape cannot carry: several cookies through an ALB without
 * multi-value headers or through VPC Lattice (one value per header); more than the response
 * JSON may hold — 1 MB through an ALB, 6,000,000 bytes through VPC Lattice, else Lambda's 6 MB
 * synchronous response payload (API Gateway REST, HTTP and WebSocket APIs,
 * Function URLs in buffered mode: each takes the function's response whole); and through a
 * WebSocket API, a body over the 128 KB a message may carry to the client.
 */
export function httpAnswer(kind: HttpKind, event: Rec): HttpAnswer {
  const limit = kind === 'alb' ? ALB_RESPONSE_LIMIT_BYTES : kind === 'vpc-lattice' ? VPC_LATTICE_RESPONSE_LIMIT_BYTES : LAMBDA_RESPONSE_LIMIT_BYTES;
  const tooLarge = (res: HttpResponse): ResponseTooLargeError | undefined =>
    (kind === 'apigw-websocket' ? checkJsonSize(sentResponse(res).body, WEBSOCKET_MESSAGE_LIMIT_BYTES) : undefined) ??
    (jsonBytesBound(res) <= limit ? undefined : checkJsonSize(JSON.stringify(formatHttp(kind, event, res)), limit));
  if (kind !== 'vpc-lattice' && (kind !== 'alb' || albMultiValue(event))) return { tooLarge };
  return { unsendable: (res) => (res.cookies.length > 1 ? 'cookies' : undefined), tooLarge };
}


/** Every header as a list, `set-cookie` included: the `multiValueHeaders` of REST APIs and ALBs. */
function multiValueHeaders(res: HttpResponse, onlyRepeated: boolean): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  let any = false;
  for (const [name, values] of headerEntries(res)) {
    if (onlyRepeated && values.length === 1) continue;
    out[name] = [...values];
    any = true;
  }
  if (res.cookies.length > 0) {
    out['set-cookie'] = [...res.cookies];
    any = true;
  }
  return any ? out : undefined;
}

/** The HTTP method of the request `event` carries (a WebSocket route has none). */
function requestMethod(kind: HttpKind, event: Rec): string | undefined {
  if (kind === 'apigw-websocket') return undefined;
  if (kind === 'vpc-lattice') return str(event.method);
  if (kind === 'apigw-v2' || kind === 'function-url') {
    const http = isRec(event.requestContext) && isRec(event.requestContext.http) ? event.requestContext.http : undefined;
    return str(http?.method);
  }
  return str(event.httpMethod);
}

/**
 * The rendered response in the event source's answer shape: HTTP API (v2) and Function URLs
 * take `cookies`; REST APIs (v1) and WebSocket routes take repeated headers and cookies in `multiValueHeaders`; an
 * ALB takes `statusDescription`, and `multiValueHeaders` only when the target group has them on;
 * VPC Lattice takes the ALB's single-value shape.
 */
export function formatHttp(kind: HttpKind, event: Rec, rendered: HttpResponse): Rec {
  const res = sentResponse(rendered, requestMethod(kind, event));
  const out: Rec = { statusCode: res.status };
  if (kind === 'apigw-v2' || kind === 'function-url') {
    out.headers = joinedHeaders(res);
    if (res.cookies.length > 0) out.cookies = [...res.cookies];
  } else if (kind === 'apigw-v1' || kind === 'apigw-websocket') {
    // API Gateway merges both maps; a name in `multiValueHeaders` is sent once per value.
    const single: Record<string, string> = {};
    for (const [name, values] of headerEntries(res)) if (values.length === 1) single[name] = values[0]!;
    out.headers = single;
    const multi = multiValueHeaders(res, true);
    if (multi) out.multiValueHeaders = multi;
  } else {
    // An ALB (and VPC Lattice) requires the status line text, e.g. `404 Not Found`.
    out.statusDescription = statusLine(res.status);
    if (kind === 'alb' && albMultiValue(event)) out.multiValueHeaders = multiValueHeaders(res, false) ?? {};
    else {
      const headers = joinedHeaders(res);
      // At most one cookie here: the core refuses more (see httpAnswer).
      if (res.cookies.length === 1) headers['set-cookie'] = res.cookies[0]!;
      out.headers = headers;
    }
  }
  out.body = res.body;
  out.isBase64Encoded = res.isBase64;
  return out;
}
