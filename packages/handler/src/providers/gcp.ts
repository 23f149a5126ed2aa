/**
 * Google Cloud Functions (Functions Framework): HTTP functions `(req, res)` and
 * CloudEvent functions `(cloudEvent)`, Pub/Sub `messagePublished` events included.
 *
 * The clock is the configured timeout counted from the start of the invocation
 * (`CLOUD_RUN_TIMEOUT_SECONDS` on 2nd gen, `FUNCTION_TIMEOUT_SEC` on 1st gen). A failed
 * CloudEvent is thrown, so the framework answers non-2xx and Pub/Sub redelivers.
 */
import { randomUUID } from 'node:crypto';
import { MalformedEventError, toPublicError } from '../errors.js';
import { httpInput, normaliseHeaders, queryFromObject, toHttpResponse, decodeBody } from '../http.js';
import { reportsFailure, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { parseBase64MessageBody } from '../message.js';
import type { HttpRequest, Outcome } from '../types.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The Express response methods the adapter uses. */
interface ExpressResponse {
  status(code: number): ExpressResponse;
  set(headers: Record<string, string>): ExpressResponse;
  send(body: unknown): unknown;
  end?(): unknown;
}

export const PUBSUB_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

function gcpFrame(raw: unknown, env: Record<string, string | undefined> = process.env): Frame {
  const seconds = Number(env.CLOUD_RUN_TIMEOUT_SECONDS ?? env.FUNCTION_TIMEOUT_SEC);
  return {
    provider: 'gcp',
    functionName: env.FUNCTION_TARGET ?? env.K_SERVICE ?? env.FUNCTION_NAME ?? 'function',
    deadline: Number.isFinite(seconds) && seconds > 0 ? Date.now() + seconds * 1000 : Number.POSITIVE_INFINITY,
    raw,
  };
}

function expressRequest(req: Rec): HttpRequest {
  const headers = normaliseHeaders(req.headers);
  // The framework keeps the exact bytes in rawBody; `body` is already parsed by body-parser.
  let rawBody: string | undefined;
  if (Buffer.isBuffer(req.rawBody)) rawBody = req.rawBody.length > 0 ? req.rawBody.toString('utf8') : undefined;
  else if (Buffer.isBuffer(req.body)) rawBody = req.body.length > 0 ? req.body.toString('utf8') : undefined;
  else if (typeof req.body === 'string') rawBody = req.body === '' ? undefined : req.body;
  else if (isRec(req.body) && Object.keys(req.body).length > 0) rawBody = decodeBody(req.body, false);
  const { query, multiQuery } = queryFromObject(req.query);
  const path = str(req.path) ?? (str(req.url) ?? '/').split('?')[0] ?? '/';
  const request: HttpRequest = { method: (str(req.method) ?? 'GET').toUpperCase(), path, headers, query, multiQuery, rawBody };
  const ip = str(req.ip);
  if (ip) request.sourceIp = ip;
  return request;
}

function httpInvocation(request: HttpRequest): Invocation {
  const h = request.headers;
  const requestId = h['function-execution-id'] ?? h['x-cloud-trace-context']?.split('/')[0] ?? randomUUID();
  // Cloud Scheduler's HTTP targets mark their calls; the scheduled time names the tick.
  if (h['x-cloudscheduler'] === 'true') {
    const job = h['x-cloudscheduler-jobname'];
    const time = h['x-cloudscheduler-scheduletime'];
    return {
      trigger: { kind: 'schedule', source: 'cloud-scheduler', ...(time ? { scheduledTime: time } : {}), ...(job ? { schedule: job } : {}) },
      requestId,
      deliveryId: time ? `${job ?? 'schedule'}@${time}` : undefined,
      payload: () => (request.rawBody === undefined ? {} : httpInput(request)),
    };
  }
  return { trigger: { kind: 'http', source: 'express', request }, requestId, deliveryId: undefined, payload: () => httpInput(request) };
}

export async function invokeGcpHttp(def: Definition, req: unknown, res: unknown): Promise<void> {
  const response = res as ExpressResponse;
  let outcome: Outcome;
  try {
    if (!isRec(req)) throw new MalformedEventError('Not an HTTP request');
    const request = expressRequest(req);
    outcome = await runInvocation(def, gcpFrame({ req, res }), httpInvocation(request));
  } catch (thrown) {
    outcome = { ok: false, error: thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the HTTP request') };
  }
  const out = toHttpResponse(outcome);
  response.status(out.status).set(out.headers);
  if (out.body === '') {
    if (typeof response.end === 'function') response.end();
    else response.send('');
  } else {
    response.send(out.isBase64 ? Buffer.from(out.body, 'base64') : Buffer.from(out.body, 'utf8'));
  }
}

export function cloudEventInvocation(ce: Rec): Invocation {
  const id = str(ce.id);
  const type = str(ce.type);
  const source = str(ce.source);
  if (!id || !type || !source) {
    throw new MalformedEventError('Not a CloudEvent', [
      { field: !id ? 'id' : !type ? 'type' : 'source', message: 'Missing', expected: 'string' },
    ]);
  }
  if (type === PUBSUB_PUBLISHED) {
    const data = isRec(ce.data) ? ce.data : undefined;
    const message = data && isRec(data.message) ? data.message : undefined;
    if (!message) throw new MalformedEventError('Pub/Sub event has no message', [{ field: 'data.message', message: 'Missing', expected: 'object' }]);
    const messageId = str(message.messageId) ?? str(message.message_id) ?? id;
    const attributes: Record<string, string> = {};
    if (isRec(message.attributes)) for (const [k, v] of Object.entries(message.attributes)) attributes[k] = String(v);
    const attempt = Number(data?.deliveryAttempt ?? message.deliveryAttempt);
    const subscription = str(data?.subscription);
    return {
      trigger: {
        kind: 'queue',
        source: 'pubsub',
        queue: subscription ?? source,
        messageId,
        ...(Number.isFinite(attempt) && attempt > 0 ? { attempt } : {}),
        attributes,
        batchIndex: 0,
        batchSize: 1,
      },
      requestId: id,
      deliveryId: messageId,
      payload: () => (message.data === undefined ? undefined : parseBase64MessageBody(message.data, 'data.message.data')),
    };
  }
  const time = str(ce.time);
  const subject = str(ce.subject);
  return {
    trigger: { kind: 'event', source: 'cloudevent', type, eventSource: source, id, ...(time ? { time } : {}), ...(subject ? { subject } : {}) },
    requestId: id,
    deliveryId: id,
    payload: () => ce.data,
  };
}

export async function invokeGcpEvent(def: Definition, cloudEvent: unknown): Promise<void> {
  let outcome: Outcome;
  try {
    if (!isRec(cloudEvent)) throw new MalformedEventError('Not a CloudEvent');
    outcome = await runInvocation(def, gcpFrame(cloudEvent), cloudEventInvocation(cloudEvent));
  } catch (thrown) {
    outcome = { ok: false, error: thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the CloudEvent') };
    def.logger.warn('malformed event', { provider: 'gcp', code: outcome.error.code });
  }
  if (!outcome.ok && reportsFailure(def, outcome)) throw toPublicError(outcome.error);
}
