/**
 * Provider events as the providers send them, for tests that drive the examples: an API
 * Gateway HTTP API (v2) request, in the shape AWS documents.
 */
import { randomUUID } from 'node:crypto';

/** An HTTP API (payload format 2.0) `POST /orders` with a JSON body. */
export function apiGatewayV2(body: unknown, headers: Record<string, string> = {}) {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: '/orders', sourceIp: '127.0.0.1' }, requestId: randomUUID(), domainName: 'x.execute-api.eu-west-1.amazonaws.com' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}
