/**
 * API Gateway WebSocket API route events (`$connect`, `$disconnect`, `$default` and custom
 * routes): `requestContext.eventType` CONNECT / MESSAGE / DISCONNECT with a `connectionId`.
 * They run as `http` triggers (the answer is `{ statusCode, body }`, as for a REST API) with
 * `ctx.trigger.websocket` naming the connection and route.
 */
import { isRecord, type Rec } from '../internal/record.js';
import type { HttpTrigger } from '../types.js';

const EVENT_TYPES = new Set(['CONNECT', 'MESSAGE', 'DISCONNECT']);

export function isWebSocketEvent(event: Rec): boolean {
  const rc = event.requestContext;
  return isRecord(rc) && typeof rc.eventType === 'string' && EVENT_TYPES.has(rc.eventType) && typeof rc.connectionId === 'string' && typeof rc.routeKey === 'string';
}

/** The route facts of a WebSocket event (call only when `isWebSocketEvent`). */
export function webSocketRoute(event: Rec): NonNullable<HttpTrigger['websocket']> {
  const rc = event.requestContext as Rec;
  return {
    connectionId: rc.connectionId as string,
    eventType: rc.eventType as 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    routeKey: rc.routeKey as string,
    ...(typeof rc.domainName === 'string' ? { domainName: rc.domainName } : {}),
    ...(typeof rc.stage === 'string' ? { stage: rc.stage } : {}),
  };
}
