/**
 * AWS Lambda behind API Gateway: the deadline is the earlier of Lambda's clock and the API's
 * integration timeout, after which API Gateway has already answered the client (503/504) and
 * the function's answer goes nowhere. Amazon API Gateway quotas
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html):
 * - REST APIs: "Maximum integration timeout" 50 ms – 29 seconds by default; Regional and
 *   private REST APIs may raise it (since June 2024) at the cost of throttle quota — the
 *   `apiGatewayTimeoutMs` option;
 * - HTTP APIs: "Maximum integration timeout" 30 seconds, not raisable
 *   (`TimeoutInMillis` 50 – 30,000, default 30,000) — whichever payload format the integration
 *   sends: an HTTP API event with payload format 1.0 has REST's shape but a top-level
 *   `version: '1.0'` (a REST event has no `version`; "Working with AWS Lambda proxy integrations
 *   for HTTP APIs", payload format 1.0 example), and is held to the HTTP API's 30 s;
 * - WebSocket APIs: "Integration timeout" 50 ms – 29 seconds, not raisable.
 * ALB, Function URLs and VPC Lattice targets keep Lambda's clock (as Azure's HTTP trigger is
 * held to its load balancer's 230 s, see providers/azure.ts).
 */
import { isRecord } from '../internal/record.js';
import type { Definition, Frame } from '../invoke.js';
import type { LambdaEventKind } from './lambda-events.js';

/** A REST API's integration timeout unless raised (`apiGatewayTimeoutMs`), in ms. */
export const API_GATEWAY_REST_TIMEOUT_MS = 29_000;
/** An HTTP API's largest integration timeout, in ms (not raisable). */
export const API_GATEWAY_HTTP_API_TIMEOUT_MS = 30_000;
/** A WebSocket API's largest integration timeout, in ms (not raisable). */
export const API_GATEWAY_WEBSOCKET_TIMEOUT_MS = 29_000;

/**
 * How long API Gateway waits for the function on `event` (of `kind`), in ms, or undefined when
 * nothing in front gives up before Lambda does. `apiGatewayTimeoutMs` is the REST API's
 * integration timeout; for an HTTP or WebSocket API it counts only below their maximum (a
 * lowered `timeoutInMillis`). An `apigw-v1` event with `version: '1.0'` is an HTTP API's
 * (payload format 1.0): at most 30 s, as with format 2.0.
 */
export function apiGatewayTimeout(def: Definition, kind: LambdaEventKind, event: unknown): number | undefined {
  const given = def.apiGatewayTimeoutMs;
  switch (kind) {
    case 'apigw-v1':
      if (isHttpApiV1(event)) return Math.min(given ?? API_GATEWAY_HTTP_API_TIMEOUT_MS, API_GATEWAY_HTTP_API_TIMEOUT_MS);
      return given ?? API_GATEWAY_REST_TIMEOUT_MS;
    case 'apigw-v2':
      return Math.min(given ?? API_GATEWAY_HTTP_API_TIMEOUT_MS, API_GATEWAY_HTTP_API_TIMEOUT_MS);
    case 'apigw-websocket':
      return Math.min(given ?? API_GATEWAY_WEBSOCKET_TIMEOUT_MS, API_GATEWAY_WEBSOCKET_TIMEOUT_MS);
    default:
      return undefined;
  }
}

/** An HTTP API event with payload format 1.0: REST's shape, and a `version: '1.0'` REST events do not carry. */
function isHttpApiV1(event: unknown): boolean {
  return isRecord(event) && event.version === '1.0';
}

/** `frame` with its deadline at most the API Gateway integration timeout from now, for `event` (of `kind`). */
export function withApiGatewayDeadline(def: Definition, kind: LambdaEventKind, frame: Frame, event: unknown): Frame {
  const timeout = apiGatewayTimeout(def, kind, event);
  if (timeout === undefined) return frame;
  const deadline = Date.now() + timeout;
  if (deadline < frame.deadline) frame.deadline = deadline;
  return frame;
}
