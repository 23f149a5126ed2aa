/**
 * Apache OpenWhisk: `main(params)`.
 *
 * Web actions (`__ow_method`, `__ow_headers`, `__ow_path`, `__ow_query`, `__ow_body`, raw
 * and non-raw), Kafka-feed batches (`messages: [{ topic, partition, offset, key, value }]`),
 * alarm triggers and plain activations. Activation identity and clock come from the
 * `__OW_ACTIVATION_ID` and `__OW_DEADLINE` environment variables, read once at entry
 * (with `__OW_ALLOW_CONCURRENT` the runtime rewrites them for the next activation).
 *
 * Failures are returned as `{ error }`, never thrown: a throw makes the runtime discard
 * the container and every warm connection in it.
 */
import { randomUUID } from 'node:crypto';
import { MalformedEventError, toErrorSummary, type SteadyError } from '../errors.js';
import { decodeBody, httpInput, normaliseHeaders, parseQueryString, queryFromObject, toHttpResponse } from '../http.js';
import { reportsFailure, runBatch, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { parseBase64MessageBody, parseMessageBody } from '../message.js';
import type { HttpRequest, Outcome } from '../types.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What the web-action result looks like to the OpenWhisk controller. */
export interface OpenWhiskWebResult {
  statusCode: number;
  headers: Record<string, string>;
  body?: string;
}

/** Content types whose raw `__ow_body` OpenWhisk delivers as text; all others arrive base64. */
function isTextual(contentType: string): boolean {
  const t = contentType.toLowerCase();
  return t.startsWith('text/') || t.includes('json') || t.includes('xml') || t.includes('x-www-form-urlencoded') || t.includes('javascript');
}

function withoutOwFields(params: Rec): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(params)) if (!k.startsWith('__ow_')) out[k] = v;
  return out;
}

function webRequest(params: Rec): { request: HttpRequest; raw: boolean } {
  const headers = normaliseHeaders(params.__ow_headers);
  const contentType = headers['content-type'] ?? '';
  const raw = typeof params.__ow_query === 'string';
  const path = str(params.__ow_path) || '/';
  let query: Record<string, string>;
  let multiQuery: Record<string, string[]>;
  if (raw) ({ query, multiQuery } = parseQueryString(params.__ow_query as string));
  else ({ query, multiQuery } = queryFromObject({}));
  let rawBody: string | undefined;
  if (typeof params.__ow_body === 'string') {
    // Raw web actions, and non-raw ones with a body that is not JSON or a form, carry the body
    // in `__ow_body`: as text for textual types, base64 otherwise.
    const body = params.__ow_body;
    const isBase64 = !isTextual(contentType) || (raw && contentType.includes('json') && !/^\s*[[{"]/.test(body) && /^[A-Za-z0-9+/=\s]+$/.test(body));
    rawBody = decodeBody(body, isBase64);
  }
  const method = (str(params.__ow_method) ?? 'get').toUpperCase();
  return { request: { method, path, headers, query, multiQuery, rawBody }, raw };
}

function webInvocation(params: Rec, activationId: string): Invocation {
  const { request, raw } = webRequest(params);
  return {
    trigger: { kind: 'http', source: raw ? 'ow-web-raw' : 'ow-web', request },
    requestId: activationId,
    deliveryId: undefined,
    payload: () => {
      if (raw || typeof params.__ow_body === 'string') return httpInput(request);
      // Non-raw: OpenWhisk has merged the JSON or form body and the query into params.
      return withoutOwFields(params);
    },
  };
}

function kafkaInvocations(messages: unknown[], activationId: string): Invocation[] {
  return messages.map((message, index): Invocation => {
    if (!isRec(message)) throw new MalformedEventError('Kafka message is not an object', [{ field: `messages.${index}`, message: 'Not an object', expected: 'object' }]);
    const topic = str(message.topic);
    const partition = message.partition;
    const offset = message.offset;
    if (topic === undefined || (typeof partition !== 'number' && typeof partition !== 'string') || (typeof offset !== 'number' && typeof offset !== 'string')) {
      throw new MalformedEventError('Kafka message lacks topic, partition or offset', [{ field: `messages.${index}`, message: 'Missing topic, partition or offset', expected: '{ topic, partition, offset }' }]);
    }
    const id = `${topic}/${partition}/${offset}`;
    const attributes: Record<string, string> = {};
    if (message.key !== undefined && message.key !== null) attributes.key = String(message.key);
    return {
      trigger: { kind: 'queue', source: 'kafka', queue: topic, messageId: id, attributes, batchIndex: index, batchSize: messages.length },
      requestId: `${activationId}:${id}`,
      deliveryId: id,
      // A feed created with `isBinaryValue: true` delivers the value base64-encoded.
      payload: () =>
        message.isBinaryValue === true
          ? parseBase64MessageBody(message.value, `messages.${index}.value`)
          : parseMessageBody(message.value, `messages.${index}.value`),
    };
  });
}

function isKafkaBatch(params: Rec): params is Rec & { messages: unknown[] } {
  return Array.isArray(params.messages) && params.messages.length > 0 && params.messages.every((m) => isRec(m) && 'topic' in m && 'offset' in m);
}

function errorResult(error: SteadyError): { error: ReturnType<typeof toErrorSummary> } {
  return { error: toErrorSummary(error) };
}

/** OpenWhisk results must be JSON objects; any other value is wrapped. */
function toResult(value: unknown): Rec {
  return isRec(value) ? value : value === undefined ? {} : { result: value };
}

export async function invokeOpenWhisk(def: Definition, params: unknown, env: Record<string, string | undefined> = process.env): Promise<unknown> {
  // Read the activation's identity before any await: concurrent activations rewrite env.
  const activationId = env.__OW_ACTIVATION_ID ?? randomUUID();
  const deadlineMs = Number(env.__OW_DEADLINE);
  const frame: Frame = {
    provider: 'openwhisk',
    functionName: env.__OW_ACTION_NAME ?? 'action',
    deadline: Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs : Number.POSITIVE_INFINITY,
    raw: params,
  };
  if (!isRec(params)) {
    return errorResult(new MalformedEventError('Activation parameters are not an object'));
  }
  if (typeof params.__ow_method === 'string') {
    let outcome: Outcome;
    try {
      outcome = await runInvocation(def, frame, webInvocation(params, activationId));
    } catch {
      outcome = { ok: false, error: new MalformedEventError('Could not read the web request') };
    }
    const res = toHttpResponse(outcome);
    const result: OpenWhiskWebResult = { statusCode: res.status, headers: res.headers };
    // A binary content type tells the controller to decode a base64 body.
    if (res.body !== '') result.body = res.body;
    return result;
  }
  if (isKafkaBatch(params)) {
    let invocations: Invocation[];
    try {
      invocations = kafkaInvocations(params.messages, activationId);
    } catch (thrown) {
      return errorResult(thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the Kafka batch'));
    }
    // Kafka keeps order within a partition: run in order and stop at the first failure.
    const outcomes = await runBatch(def, frame, invocations, true);
    const failed = outcomes.map((o, i) => ({ o, i })).filter(({ o }) => reportsFailure(def, o));
    if (failed.length === 0) return { processed: outcomes.length };
    const first = failed[0]!.o;
    return {
      error: {
        ...(first.ok ? {} : toErrorSummary(first.error)),
        failed: failed.map(({ o, i }) => ({ deliveryId: invocations[i]!.deliveryId, code: o.ok ? 'OK' : o.error.code })),
      },
    };
  }
  const alarm = isAlarm(params);
  const outcome = await runInvocation(def, frame, {
    trigger: alarm ? { kind: 'schedule', source: 'ow-alarm' } : { kind: 'direct', source: 'openwhisk' },
    requestId: activationId,
    deliveryId: undefined,
    payload: () => params,
  });
  if (outcome.ok) return toResult(outcome.value);
  if (!reportsFailure(def, outcome)) return {};
  return errorResult(outcome.error);
}

/** The alarms feed can be told to mark its payload; `STEADYFN_OW_TRIGGER=alarm` marks the action. */
function isAlarm(params: Rec): boolean {
  return process.env.STEADYFN_OW_TRIGGER === 'alarm' || params.__steadyfn_trigger === 'alarm';
}
