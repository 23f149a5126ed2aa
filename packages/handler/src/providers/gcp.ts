/**
 * Google Cloud Functions (Functions Framework): HTTP functions `(req, res)` and
 * CloudEvent functions `(cloudEvent)`, Pub/Sub `messagePublished` events included.
 *
 * The clock is the configured timeout counted from the start of the invocation
 * (`CLOUD_RUN_TIMEOUT_SECONDS` on 2nd gen, `FUNCTION_TIMEOUT_SEC` on 1st gen, or the handler's
 * `timeoutMs` when given; see `gcpFrame`). A failed
 * CloudEvent is thrown, so the framework answers non-2xx and Pub/Sub redelivers.
 */
import { randomUUID } from '../internal/crypto.js';
import { MalformedEventError, SteadyError, toPublicError } from '../errors.js';
import { bodyFromBytes, decodeBody, httpInput, type RequestBody } from '../http.js';
import { headerLists, joinHeaderLists } from '../http-headers.js';
import { queryFromObject } from '../http-query.js';
import { isRecord as isRec, nonEmptyStr, str, type Rec } from '../internal/record.js';
import { adapterLogger, reportsFailure, responseOf, runInvocation, type Definition, type Frame, type HttpAnswer, type Invocation } from '../invoke.js';
import { takeColdStart } from '../context.js';
import { headerEntries, renderError, renderResult, ResponseTooLargeError, sentResponse, type HttpResponse } from '../response.js';
import { GCF_RESPONSE_LIMIT_BYTES } from '../internal/limits.js';
import { NO_CONTENT_STATUSES } from '../internal/http-grammar.js';
import { cloudStorageItem, isCloudStorageEvent } from '../events/gcs.js';
import { firestoreItem, isFirestoreEvent, isRealtimeDatabaseEvent, realtimeDatabaseItem } from '../events/firebase.js';
import { scopedDeliveryId, type EventItem, type ParseOptions } from '../events/item.js';
import { isRawPubSubPush, pubSubEnvelope, pubSubItem } from '../events/pubsub.js';
import { parseJsonLossless } from '../internal/json.js';
import { iapPrincipal } from '../principal.js';
import type { HttpRequest, Outcome } from '../types.js';
import { backgroundCloudEvent, isBackgroundContext } from './gcp-background.js';
import { readUnparsedBody } from './gcp-unread-body.js';
import { pushInvocation } from './gcp-push.js';
import { schedulerHttpInvocation } from './gcp-scheduler.js';

export { isBackgroundContext };

/** The Express (Node `ServerResponse`) members the adapter uses. */
interface ExpressResponse {
  headersSent?: boolean;
  writableFinished?: boolean;
  once?(event: 'close', listener: () => void): unknown;
  off?(event: 'close', listener: () => void): unknown;
  status(code: number): ExpressResponse;
  setHeader(name: string, value: string | string[]): unknown;
  send(body: unknown): unknown;
  end?(): unknown;
}

export const PUBSUB_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/** The CloudEvent a Cloud Scheduler job sends when it runs (googleapis/google-cloudevents `cloud/scheduler/v1/events.proto`). */
export const SCHEDULER_EXECUTED = 'google.cloud.scheduler.job.v1.executed';

/** The host part of a Cloud Scheduler CloudEvent `source`, before the job's resource name. */
const SCHEDULER_SOURCE_PREFIX = '//cloudscheduler.googleapis.com/';

function positiveSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/**
 * The frame of a Cloud Functions invocation. The deadline is counted from the start: the
 * platform's timeout (`CLOUD_RUN_TIMEOUT_SECONDS`, which the Functions Framework reads, else 1st
 * gen's `FUNCTION_TIMEOUT_SEC`), or `timeoutMs` when the handler gave it (the earlier of the two
 * when both are known); none (`Infinity`) when neither is known.
 */
function gcpFrame(def: Definition, raw: unknown, signal?: AbortSignal, env: Record<string, string | undefined> = process.env): Frame {
  const seconds = positiveSeconds(env.CLOUD_RUN_TIMEOUT_SECONDS) ?? positiveSeconds(env.FUNCTION_TIMEOUT_SEC);
  const timeoutMs = Math.min(seconds === undefined ? Number.POSITIVE_INFINITY : seconds * 1000, def.timeoutMsGiven ? def.timeoutMs : Number.POSITIVE_INFINITY);
  const frame: Frame = {
    provider: 'gcp',
    principal: iapPrincipal,
    functionName: env.FUNCTION_TARGET ?? env.K_SERVICE ?? env.FUNCTION_NAME ?? 'function',
    deadline: timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : Date.now() + timeoutMs,
    raw,
    // Taken once per call, before the event is read: a cold instance whose first event is
    // unreadable uses its cold start up there, and the adapter's line about it says so.
    coldStart: takeColdStart(),
  };
  if (signal) frame.signal = signal;
  return frame;
}

function expressRequest(req: Rec, unread?: Buffer): HttpRequest {
  // Node joins a repeated header into one value (or keeps only the first, for the headers it
  // takes once); `headersDistinct` (Node ≥ 18.3) keeps every line, so a header sent twice is seen as twice.
  const multiHeaders = headerLists(isRec(req.headersDistinct) ? req.headersDistinct : req.headers);
  const headers = joinHeaderLists(headerLists(req.headers));
  // The framework keeps the exact bytes in rawBody; `body` is already parsed by body-parser.
  // Without the framework (plain Express), a raw parser's Buffer or a text parser's string.
  // A body no parser took (no Content-Type) was read from the stream by the caller.
  let body: RequestBody = { rawBody: undefined, rawBytes: undefined };
  if (unread !== undefined) body = bodyFromBytes(unread);
  else if (Buffer.isBuffer(req.rawBody)) body = bodyFromBytes(req.rawBody);
  else if (Buffer.isBuffer(req.body)) body = bodyFromBytes(req.body);
  else if (typeof req.body === 'string') body = req.body === '' ? body : decodeBody(req.body, false);
  else if (isRec(req.body) && Object.keys(req.body).length > 0) body = decodeBody(req.body, false);
  const { query, multiQuery } = queryFromObject(req.query);
  const path = str(req.path) ?? (str(req.url) ?? '/').split('?')[0] ?? '/';
  const request: HttpRequest = { method: (str(req.method) ?? 'GET').toUpperCase(), path, headers, multiHeaders, query, multiQuery, rawBody: body.rawBody, rawBytes: body.rawBytes };
  const ip = str(req.ip);
  if (ip) request.sourceIp = ip;
  return request;
}

/**
 * `codingUndone`: a body-parser read the body (`rawBody`, `body`), which undoes its
 * `Content-Encoding` (gzip, deflate, br) and keeps the header; a body read from the stream here
 * (no parser took it) is as the client coded it.
 */
function httpInvocation(def: Definition, frame: Frame, req: Rec, request: HttpRequest, http: HttpAnswer, codingUndone: boolean): Invocation {
  const h = request.headers;
  // The framework names each execution (from `Function-Execution-Id`, or one it makes up)
  // and labels its own log lines with it; using the same id lets the two be matched.
  const requestId = str(req.executionId) ?? h['function-execution-id'] ?? randomUUID();
  // A Cloud Scheduler HTTP target's call is a tick only when the handler opted in (`gcpSchedulerHttp`).
  const tick = schedulerHttpInvocation(def, frame, request, requestId, http, codingUndone);
  if (tick) return tick;
  return { trigger: { kind: 'http', source: 'express', request }, requestId, deliveryId: undefined, payload: () => httpInput(request, def.body, false, codingUndone), http };
}

/**
 * The body bytes `writeResponse` sends for `res` (base64 decoded), when over `limit`: the
 * uncompressed HTTP response size Cloud Functions limits (`GCF_RESPONSE_LIMIT_BYTES`, or the
 * `gcpResponseLimitBytes` option). Headers are not counted (the quota names the data sent;
 * Cloud Run limits headers apart).
 */
function gcfTooLarge(rendered: HttpResponse, limit: number, method: string | undefined): ResponseTooLargeError | undefined {
  // What is sent: a 204/205/304, and any answer to HEAD, goes without its body.
  const res = sentResponse(rendered, method);
  // At most 3 UTF-8 bytes per UTF-16 unit, fewer bytes than characters in base64.
  if (res.body.length * 3 <= limit) return undefined;
  const size = res.isBase64 ? Buffer.byteLength(res.body, 'base64') : Buffer.byteLength(res.body, 'utf8');
  return size > limit ? new ResponseTooLargeError(size, limit) : undefined;
}

/** How an HTTP answer to a `method` request goes out through the Functions Framework: whole, and within `limit` bytes of body. */
function gcfHttp(limit: number, method?: string): HttpAnswer {
  return { tooLarge: (res) => gcfTooLarge(res, limit, method) };
}

/** The answer of the default limit (2nd gen's), shared: most definitions keep it. */
const GCF_HTTP = gcfHttp(GCF_RESPONSE_LIMIT_BYTES);

/** The HTTP answer for `def`'s response limit, to a request of `method` (a HEAD answer has no body to count). */
function httpAnswer(def: Definition, method: string): HttpAnswer {
  const limit = def.gcpResponseLimitBytes ?? GCF_RESPONSE_LIMIT_BYTES;
  if (method === 'HEAD') return gcfHttp(limit, method);
  return limit === GCF_RESPONSE_LIMIT_BYTES ? GCF_HTTP : gcfHttp(limit);
}

function writeResponse(response: ExpressResponse, rendered: HttpResponse, method: string | undefined): void {
  const out = sentResponse(rendered, method);
  response.status(out.status);
  // `setHeader`, not Express' `set`: `set` rewrites Content-Type (adds a charset, reads a
  // bare word such as `html` as a file extension); the function's headers go out as given.
  // A list sends one header line per value; cookies are one `Set-Cookie` line each.
  for (const [name, values] of headerEntries(out)) response.setHeader(name, values.length === 1 ? values[0]! : [...values]);
  if (out.cookies.length > 0) response.setHeader('set-cookie', [...out.cookies]);
  // A HEAD answer keeps the Content-Length a GET would get (RFC 9110 §9.3.2, §8.6), as Express
  // sets it when handed the body, unless the function set its own.
  const ownLength = Object.keys(out.headers).some((name) => name.toLowerCase() === 'content-length');
  if (method?.toUpperCase() === 'HEAD' && !NO_CONTENT_STATUSES.has(out.status) && rendered.body !== '' && !ownLength) {
    response.setHeader('content-length', String(Buffer.byteLength(rendered.body, rendered.isBase64 ? 'base64' : 'utf8')));
  }
  if (out.body === '') {
    if (typeof response.end === 'function') response.end();
    else response.send('');
  } else {
    response.send(out.isBase64 ? Buffer.from(out.body, 'base64') : Buffer.from(out.body, 'utf8'));
  }
}

function isExpressResponse(res: unknown): res is ExpressResponse {
  const r = res as Partial<ExpressResponse> | null;
  return typeof r === 'object' && r !== null && typeof r.status === 'function' && typeof r.setHeader === 'function' && typeof r.send === 'function';
}

export async function invokeGcpHttp(def: Definition, req: unknown, res: unknown): Promise<void> {
  // Without a response to write to there is no one to answer: fail the call itself, typed.
  if (!isExpressResponse(res)) throw toPublicError(new MalformedEventError('Not an HTTP response', [{ field: 'res', message: 'Missing', expected: 'Express response' }]));
  const response = res;
  // A client that disconnects before the answer aborts ctx.signal, so the function can stop.
  const caller = new AbortController();
  const onClose = (): void => {
    if (!response.writableFinished) caller.abort();
  };
  response.once?.('close', onClose);
  const frame = gcpFrame(def, { req, res }, caller.signal);
  let outcome: Outcome;
  let delivery: 'push' | 'schedule' | undefined;
  try {
    if (!isRec(req)) throw new MalformedEventError('Not an HTTP request');
    const unread = await readUnparsedBody(req);
    const request = expressRequest(req, unread);
    const pushed = pushInvocation(def, frame, req, request);
    const invocation = pushed ?? httpInvocation(def, frame, req, request, httpAnswer(def, request.method), unread === undefined);
    delivery = pushed ? 'push' : invocation.trigger.kind === 'schedule' ? 'schedule' : undefined;
    outcome = await runInvocation(def, frame, invocation);
  } catch (thrown) {
    outcome = { ok: false, error: thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the HTTP request') };
  } finally {
    response.off?.('close', onClose);
  }
  // The function (through ctx.raw) may have answered already; a second answer would throw.
  if (response.headersSent) return;
  writeResponse(response, delivery ? deliveryResponse(def, outcome, delivery) : responseOf(outcome), isRec(req) ? str(req.method) : undefined);
}

/**
 * The answer to a delivery over HTTP that its sender retries by status: a Pub/Sub push, or a
 * Cloud Scheduler HTTP target's tick. It follows the decision a CloudEvent delivery's failure
 * gets (`reportsFailure`): a failure to report is its problem+json with a status the sender
 * does not take for success (non-2xx, so Pub/Sub redelivers and then dead-letters, and Cloud
 * Scheduler retries under the job's retry config); a terminal failure under `terminalErrors:
 * 'ack'` is `204`, which acknowledges it. A push's result is not sent either (Pub/Sub reads
 * only the status); a tick's is rendered as any HTTP result.
 */
function deliveryResponse(def: Definition, outcome: Outcome, delivery: 'push' | 'schedule'): HttpResponse {
  if (outcome.ok) return delivery === 'push' ? renderResult(undefined) : responseOf(outcome);
  if (!reportsFailure(def, outcome)) return renderResult(undefined);
  const error = outcome.error;
  // An error made with a status the sender takes for success (`httpError(202, …)`, a
  // SteadyError with `status: 200`) must still be retried: it is answered 500.
  const success = delivery === 'push' ? PUSH_ACK_STATUSES.has(error.status) : error.status >= 200 && error.status <= 299;
  if (!success) return responseOf(outcome);
  return renderError(new SteadyError(error.code, error.message, { status: 500, retryable: error.retryable, expose: error.expose, issues: error.issues, headers: error.headers, cause: error }));
}

/** The statuses Pub/Sub push takes for an acknowledgement (https://cloud.google.com/pubsub/docs/push). */
const PUSH_ACK_STATUSES: ReadonlySet<number> = new Set([102, 200, 201, 202, 204]);

/** CloudEvent `data` as a value: structured mode may carry bytes as `data_base64`. */
function eventData(ce: Rec): unknown {
  if (ce.data === undefined && typeof ce.data_base64 === 'string') return Buffer.from(ce.data_base64, 'base64');
  return ce.data;
}

/** Event data that should be JSON (Cloud Storage objects), whether it came parsed, as text or as bytes. */
function jsonData(data: unknown): unknown {
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : typeof data === 'string' ? data : undefined;
  return text === undefined ? data : parseJsonLossless(text)?.value;
}

/** An event-source item as an invocation: each attempt gets a request id of its own. */
function itemInvocation(item: EventItem): Invocation {
  return { ...item, requestId: randomUUID() };
}

/**
 * The Cloud Functions event a plain argument looks like, for the root entry's log line when it
 * runs as `direct`: a legacy (background) event `{ eventId, eventType, data }` or
 * `{ context, data }` — what the Functions Framework hands a CloudEvent function as it is when
 * no converter knows its type — or a Pub/Sub push body it did not convert.
 */
export function gcfEventShape(input: unknown): string | undefined {
  if (!isRec(input) || !('data' in input || 'message' in input)) return undefined;
  const context = isRec(input.context) ? input.context : input;
  if (typeof context.eventId === 'string' && typeof context.eventType === 'string') return 'Cloud Functions legacy event';
  if (isRawPubSubPush(input)) return 'Pub/Sub push message';
  return undefined;
}

/**
 * A CloudEvent as an invocation, with the trace context of its Distributed Tracing extension
 * (`traceparent` / `tracestate` attributes).
 */
export function cloudEventInvocation(ce: Rec, options: ParseOptions = { body: 'auto' }): Invocation {
  const inv = cloudEventWork(ce, options);
  if (ce.traceparent !== undefined) inv.trace = { traceparent: ce.traceparent, tracestate: ce.tracestate };
  return inv;
}

function cloudEventWork(ce: Rec, options: ParseOptions): Invocation {
  // A Pub/Sub push the framework did not convert (it converts only messages with data).
  if (isRawPubSubPush(ce)) return itemInvocation(pubSubItem(ce, undefined, undefined, options));
  // A blank id is no id (CloudEvents: a non-empty string; blank, every such event had one key).
  const id = nonEmptyStr(ce.id);
  const type = str(ce.type);
  const source = str(ce.source);
  if (!id || !type || !source) {
    const issues = [
      ...(!id ? [{ field: 'id', message: 'Missing', expected: 'string' }] : []),
      ...(!type ? [{ field: 'type', message: 'Missing', expected: 'string' }] : []),
      ...(!source ? [{ field: 'source', message: 'Missing', expected: 'string' }] : []),
    ];
    throw new MalformedEventError('Not a CloudEvent', issues);
  }
  if (type === PUBSUB_PUBLISHED) return itemInvocation(pubSubItem(pubSubEnvelope(eventData(ce)), id, source, options));
  if (isCloudStorageEvent(type)) return itemInvocation(cloudStorageItem(ce, jsonData(eventData(ce))));
  if (isFirestoreEvent(type)) return itemInvocation(firestoreItem(ce, firestoreData(ce)));
  if (isRealtimeDatabaseEvent(type)) return itemInvocation(realtimeDatabaseItem(ce, jsonData(eventData(ce))));
  if (type === SCHEDULER_EXECUTED) return schedulerInvocation(ce, id, source);
  const time = str(ce.time);
  const subject = str(ce.subject);
  return {
    trigger: { kind: 'event', source: 'cloudevent', type, eventSource: source, id, ...(time ? { time } : {}), ...(subject ? { subject } : {}) },
    requestId: randomUUID(),
    // CloudEvents are unique by source + id (CloudEvents spec, `id`): two producers may use
    // one id, and a redelivery keeps the pair.
    deliveryId: scopedDeliveryId(source, id),
    payload: () => eventData(ce),
  };
}

/**
 * A Cloud Scheduler job's CloudEvent as the schedule tick it is, as under an HTTP target: the
 * job's resource name (`projects/<p>/locations/<l>/jobs/<job>`, from the `source`
 * `//cloudscheduler.googleapis.com/projects/…/jobs/<job>`) and the event `time`. The input is the
 * event's data as it came (`{ customData }`, base64), as an EventBridge schedule's is its `detail`.
 */
function schedulerInvocation(ce: Rec, id: string, source: string): Invocation {
  const job = source.startsWith(SCHEDULER_SOURCE_PREFIX) ? source.slice(SCHEDULER_SOURCE_PREFIX.length) : source;
  const time = str(ce.time);
  return {
    trigger: { kind: 'schedule', source: 'cloud-scheduler', ...(time ? { scheduledTime: time } : {}), schedule: job },
    requestId: randomUUID(),
    // The same tick of the same job, however often Eventarc redelivers it (as for HTTP targets).
    deliveryId: time ? `${job}@${time}` : id,
    // A job without data sends none: `{}`, as an HTTP target's empty body.
    payload: () => eventData(ce) ?? {},
  };
}

/** Firestore data: JSON when the content type says so (or it came parsed), else the protobuf bytes. */
function firestoreData(ce: Rec): unknown {
  const data = eventData(ce);
  const type = str(ce.datacontenttype)?.toLowerCase() ?? '';
  if (type.includes('json')) return jsonData(data);
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  return data;
}

/**
 * A background function `(data, context)` (the framework's `event` signature): run as the
 * CloudEvent it stands for, so the trigger is the same as under `functions.cloudEvent`.
 */
export async function invokeGcpBackground(def: Definition, data: unknown, context: unknown): Promise<void> {
  if (!isBackgroundContext(context)) return invokeGcpEvent(def, context);
  return invokeGcpEvent(def, backgroundCloudEvent(data, context));
}

export async function invokeGcpEvent(def: Definition, cloudEvent: unknown): Promise<void> {
  const frame = gcpFrame(def, cloudEvent);
  let outcome: Outcome;
  try {
    if (!isRec(cloudEvent)) throw new MalformedEventError('Not a CloudEvent');
    outcome = await runInvocation(def, frame, cloudEventInvocation(cloudEvent, def));
  } catch (thrown) {
    outcome = { ok: false, error: thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the CloudEvent') };
    const id = isRec(cloudEvent) ? nonEmptyStr(cloudEvent.id) : undefined;
    adapterLogger(def, frame, id ?? randomUUID()).warn('malformed event', { code: outcome.error.code });
  }
  if (!outcome.ok && reportsFailure(def, outcome)) throw toPublicError(outcome.error);
}
