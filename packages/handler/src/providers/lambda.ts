/**
 * AWS Lambda: `(event, context)`.
 *
 * Events: API Gateway REST (v1) and HTTP API (v2), Function URLs, ALB, SQS batches
 * (partial batch responses), EventBridge rules and Scheduler, other EventBridge events,
 * and direct invocation. The clock is `context.getRemainingTimeInMillis()`.
 */
import { MalformedEventError, toPublicError, type SteadyError } from '../errors.js';
import { decodeBody, httpInput, normaliseHeaders, parseQueryString, queryFromObject } from '../http.js';
import { statusLine } from '../internal/http-grammar.js';
import { isRecord as isRec, str, type Rec } from '../internal/record.js';
import { reportsFailure, runBatch, runHttpInvocation, runInvocation, type Definition, type Frame, type HttpAnswer, type Invocation } from '../invoke.js';
import { headerEntries, joinedHeaders, renderError, type HttpResponse } from '../response.js';
import type { HttpRequest } from '../types.js';
import { parseMessageBody } from '../message.js';

/** The part of the Lambda context object the wrapper reads. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
  [key: string]: unknown;
}

/** The SQS partial batch response (`ReportBatchItemFailures`): the message ids to redeliver. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

type LambdaEventKind = 'apigw-v1' | 'apigw-v2' | 'function-url' | 'alb' | 'sqs' | 'schedule' | 'eventbridge' | 'direct';

export function classifyLambdaEvent(event: unknown): LambdaEventKind {
  if (!isRec(event)) return 'direct';
  const rc = event.requestContext;
  if (isRec(rc) && isRec(rc.elb)) return 'alb';
  if (event.version === '2.0' && isRec(rc) && isRec(rc.http)) {
    return typeof rc.domainName === 'string' && rc.domainName.includes('.lambda-url.') ? 'function-url' : 'apigw-v2';
  }
  if (typeof event.httpMethod === 'string' && isRec(rc)) return 'apigw-v1';
  // One SQS record makes it an SQS batch: a damaged record then fails the batch with a typed
  // error instead of the whole event reaching the function as if it were a direct input.
  if (Array.isArray(event.Records) && event.Records.some((r) => isRec(r) && r.eventSource === 'aws:sqs')) return 'sqs';
  if (typeof event['detail-type'] === 'string' && typeof event.source === 'string' && 'detail' in event) {
    return event['detail-type'] === 'Scheduled Event' && (event.source === 'aws.events' || event.source === 'aws.scheduler') ? 'schedule' : 'eventbridge';
  }
  return 'direct';
}

function httpRequestFromEvent(kind: 'apigw-v1' | 'apigw-v2' | 'function-url' | 'alb', event: Rec): HttpRequest {
  const rc = isRec(event.requestContext) ? event.requestContext : {};
  const headers = normaliseHeaders(event.multiValueHeaders ?? event.headers);
  // Binary bodies arrive base64 (isBase64Encoded); the decoded bytes are kept as they are.
  const { rawBody, rawBytes } = decodeBody(event.body, event.isBase64Encoded === true);
  if (kind === 'apigw-v2' || kind === 'function-url') {
    const http = isRec(rc.http) ? rc.http : {};
    if (Array.isArray(event.cookies) && event.cookies.length > 0 && headers.cookie === undefined) {
      headers.cookie = event.cookies.map(String).join('; ');
    }
    const { query, multiQuery } = parseQueryString(str(event.rawQueryString));
    const request: HttpRequest = {
      method: (str(http.method) ?? 'GET').toUpperCase(),
      path: str(event.rawPath) ?? str(http.path) ?? '/',
      headers,
      query,
      multiQuery,
      rawBody,
      rawBytes,
    };
    const ip = str(http.sourceIp);
    if (ip) request.sourceIp = ip;
    return request;
  }
  let { query, multiQuery } = queryFromObject(event.queryStringParameters, event.multiValueQueryStringParameters);
  if (kind === 'alb') {
    // ALB passes query values still percent-encoded.
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    query = Object.fromEntries(Object.entries(query).map(([k, v]) => [decode(k), decode(v)]));
    multiQuery = Object.fromEntries(Object.entries(multiQuery).map(([k, v]) => [decode(k), v.map(decode)]));
  }
  const identity = isRec(rc.identity) ? rc.identity : {};
  const request: HttpRequest = {
    method: (str(event.httpMethod) ?? 'GET').toUpperCase(),
    path: str(event.path) ?? '/',
    headers,
    query,
    multiQuery,
    rawBody,
    rawBytes,
  };
  // An ALB reports the client only in X-Forwarded-For (client first, then proxies).
  const ip = kind === 'alb' ? headers['x-forwarded-for']?.split(',')[0]?.trim() : str(identity.sourceIp);
  if (ip) request.sourceIp = ip;
  return request;
}

type LambdaHttpKind = 'apigw-v1' | 'apigw-v2' | 'function-url' | 'alb';

/** An ALB target group with multi-value headers on sends (and reads only) `multiValueHeaders`. */
function albMultiValue(event: Rec): boolean {
  return event.multiValueHeaders !== undefined;
}

/** What this event's answer shape cannot carry: several cookies through an ALB without multi-value headers. */
function httpAnswer(kind: LambdaHttpKind, event: Rec): HttpAnswer {
  if (kind !== 'alb' || albMultiValue(event)) return {};
  return { unsendable: (res) => (res.cookies.length > 1 ? 'cookies' : undefined) };
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

/**
 * The rendered response in the event source's answer shape: HTTP API (v2) and Function URLs
 * take `cookies`; REST APIs (v1) take repeated headers and cookies in `multiValueHeaders`; an
 * ALB takes `statusDescription`, and `multiValueHeaders` only when the target group has them on.
 */
function formatHttp(kind: LambdaHttpKind, event: Rec, res: HttpResponse): Rec {
  const out: Rec = { statusCode: res.status };
  if (kind === 'apigw-v2' || kind === 'function-url') {
    out.headers = joinedHeaders(res);
    if (res.cookies.length > 0) out.cookies = [...res.cookies];
  } else if (kind === 'apigw-v1') {
    // API Gateway merges both maps; a name in `multiValueHeaders` is sent once per value.
    const single: Record<string, string> = {};
    for (const [name, values] of headerEntries(res)) if (values.length === 1) single[name] = values[0]!;
    out.headers = single;
    const multi = multiValueHeaders(res, true);
    if (multi) out.multiValueHeaders = multi;
  } else {
    // An ALB requires the status line text, e.g. `404 Not Found`.
    out.statusDescription = statusLine(res.status);
    if (albMultiValue(event)) out.multiValueHeaders = multiValueHeaders(res, false) ?? {};
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

function sqsInvocations(event: Rec, context: LambdaContext): { invocations: Invocation[]; ids: string[]; fifo: boolean } {
  const records = event.Records as unknown[];
  const ids: string[] = [];
  let fifo = false;
  const invocations = records.map((record, index): Invocation => {
    if (!isRec(record)) throw new MalformedEventError('SQS record is not an object', [{ field: `Records.${index}`, message: 'Not an object', expected: 'an SQS record' }]);
    const r = record;
    const messageId = str(r.messageId);
    if (!messageId) throw new MalformedEventError('SQS record has no messageId', [{ field: `Records.${index}.messageId`, message: 'Missing', expected: 'string' }]);
    ids.push(messageId);
    const arn = str(r.eventSourceARN) ?? '';
    if (arn.endsWith('.fifo')) fifo = true;
    const attrs = isRec(r.attributes) ? r.attributes : {};
    const attributes: Record<string, string> = {};
    if (isRec(r.messageAttributes)) {
      for (const [name, value] of Object.entries(r.messageAttributes)) {
        if (isRec(value) && typeof value.stringValue === 'string') attributes[name] = value.stringValue;
      }
    }
    const receiveCount = Number(attrs.ApproximateReceiveCount);
    return {
      trigger: {
        kind: 'queue',
        source: 'sqs',
        queue: arn.split(':').pop() ?? '',
        messageId,
        ...(Number.isFinite(receiveCount) && receiveCount > 0 ? { attempt: receiveCount } : {}),
        attributes,
        batchIndex: index,
        batchSize: records.length,
      },
      requestId: `${context.awsRequestId}:${messageId}`,
      deliveryId: messageId,
      payload: () => parseMessageBody(r.body, `Records.${index}.body`),
    };
  });
  return { invocations, ids, fifo };
}

function eventBridgeInvocation(kind: 'schedule' | 'eventbridge', event: Rec, context: LambdaContext): Invocation {
  const id = str(event.id) ?? context.awsRequestId;
  const time = str(event.time);
  const resources = Array.isArray(event.resources) ? event.resources.map(String) : [];
  if (kind === 'schedule') {
    const schedule = resources[0];
    return {
      trigger: {
        kind: 'schedule',
        source: event.source === 'aws.scheduler' ? 'eventbridge-scheduler' : 'eventbridge',
        ...(time ? { scheduledTime: time } : {}),
        ...(schedule ? { schedule } : {}),
      },
      requestId: context.awsRequestId,
      // The same tick of the same schedule is the same delivery, however often it is retried.
      deliveryId: time ? `${schedule ?? 'schedule'}@${time}` : id,
      // Scheduled rules send `{}`; a Scheduler input template may send the detail as JSON text.
      payload: () => (event.detail === undefined ? {} : parseMessageBody(event.detail, 'detail')),
    };
  }
  return {
    trigger: {
      kind: 'event',
      source: 'eventbridge',
      type: String(event['detail-type']),
      eventSource: String(event.source),
      id,
      ...(time ? { time } : {}),
    },
    requestId: context.awsRequestId,
    deliveryId: id,
    payload: () => event.detail,
  };
}

function frameFor(event: unknown, context: LambdaContext): Frame {
  let remaining = Number.NaN;
  try {
    remaining = Number(context.getRemainingTimeInMillis());
  } catch {
    // A broken clock is treated as no clock.
  }
  return {
    provider: 'aws',
    functionName: str(context.functionName) ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lambda',
    deadline: Number.isFinite(remaining) ? Date.now() + remaining : Number.POSITIVE_INFINITY,
    raw: { event, context },
  };
}

function fail(error: SteadyError): never {
  throw toPublicError(error);
}

export async function invokeLambda(def: Definition, event: unknown, context: LambdaContext): Promise<unknown> {
  const frame = frameFor(event, context);
  const kind = classifyLambdaEvent(event);
  switch (kind) {
    case 'apigw-v1':
    case 'apigw-v2':
    case 'function-url':
    case 'alb': {
      const e = event as Rec;
      const rc = isRec(e.requestContext) ? e.requestContext : {};
      let request: HttpRequest;
      try {
        request = httpRequestFromEvent(kind, e);
      } catch {
        return formatHttp(kind, e, renderError(new MalformedEventError('Could not read the HTTP event')));
      }
      const requestId = str(context.awsRequestId) ?? str(rc.requestId) ?? '';
      const res = await runHttpInvocation(def, frame, {
        trigger: { kind: 'http', source: kind, request },
        requestId,
        deliveryId: undefined,
        payload: () => httpInput(request),
        http: httpAnswer(kind, e),
      });
      return formatHttp(kind, e, res);
    }
    case 'sqs': {
      let batch: ReturnType<typeof sqsInvocations>;
      try {
        batch = sqsInvocations(event as Rec, context);
      } catch (thrown) {
        // Without message ids no partial response is possible: fail the whole batch.
        return fail(thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the SQS batch'));
      }
      const outcomes = await runBatch(def, frame, batch.invocations, batch.fifo);
      const response: SqsBatchResponse = { batchItemFailures: [] };
      outcomes.forEach((outcome, i) => {
        if (reportsFailure(def, outcome)) response.batchItemFailures.push({ itemIdentifier: batch.ids[i]! });
      });
      return response;
    }
    case 'schedule':
    case 'eventbridge': {
      const outcome = await runInvocation(def, frame, eventBridgeInvocation(kind, event as Rec, context));
      if (outcome.ok || !reportsFailure(def, outcome)) return outcome.ok ? outcome.value : undefined;
      return fail(outcome.error);
    }
    case 'direct': {
      const outcome = await runInvocation(def, frame, {
        trigger: { kind: 'direct', source: 'lambda-invoke' },
        requestId: context.awsRequestId,
        deliveryId: undefined,
        payload: () => event,
      });
      if (outcome.ok) return outcome.value;
      return fail(outcome.error);
    }
  }
}
