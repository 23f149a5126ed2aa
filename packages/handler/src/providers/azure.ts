/**
 * Azure Functions (Node.js programming model v4): `(trigger, context)` for `app.http`,
 * `app.storageQueue`, `app.serviceBusQueue` (one message or a batch) and `app.timer`.
 *
 * Azure gives no remaining-time clock, so the deadline is `timeoutMs` (your
 * `functionTimeout`) from the start. A failed message is thrown: the host redelivers it
 * and, past `maxDequeueCount` / `MaxDeliveryCount`, moves it to the poison / dead-letter queue.
 */
import { MalformedEventError, toPublicError } from '../errors.js';
import { httpInput, normaliseHeaders, parseQueryString, toHttpResponse } from '../http.js';
import { reportsFailure, runBatch, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import type { HttpRequest, Outcome } from '../types.js';

/** The part of `@azure/functions`' InvocationContext the adapter reads. */
export interface AzureInvocationContext {
  invocationId: string;
  functionName: string;
  triggerMetadata?: Record<string, unknown>;
  options?: { trigger?: { type?: string; name?: string; [key: string]: unknown } };
  retryContext?: { retryCount?: number } | null;
  [key: string]: unknown;
}

/** `HttpResponseInit` as the Azure host reads it. */
export interface AzureHttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

type AzureKind = 'http' | 'storage-queue' | 'service-bus' | 'timer' | 'other';

function isAzureHttpRequest(v: unknown): v is Rec & { text(): Promise<string> } {
  return isRec(v) && typeof v.method === 'string' && typeof v.url === 'string' && typeof (v as Rec).text === 'function';
}

export function classifyAzureTrigger(trigger: unknown, context: AzureInvocationContext): AzureKind {
  const type = (context.options?.trigger?.type ?? '').toLowerCase();
  if (type === 'httptrigger' || (type === '' && isAzureHttpRequest(trigger))) return 'http';
  if (type === 'queuetrigger') return 'storage-queue';
  if (type === 'servicebustrigger') return 'service-bus';
  if (type === 'timertrigger') return 'timer';
  if (type === '') {
    const meta = context.triggerMetadata ?? {};
    if ('dequeueCount' in meta && 'popReceipt' in meta) return 'storage-queue';
    if ('deliveryCount' in meta || 'messageIdArray' in meta) return 'service-bus';
    if (isRec(trigger) && isRec(trigger.scheduleStatus)) return 'timer';
  }
  return 'other';
}

function headersOf(raw: unknown): Record<string, string> {
  // `Headers` (undici) iterates as [name, value] pairs; plain objects are read as they are.
  if (isRec(raw) && typeof (raw as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
    return normaliseHeaders(Object.fromEntries(raw as unknown as Iterable<[string, string]>));
  }
  return normaliseHeaders(raw);
}

async function azureHttpRequest(req: Rec & { text(): Promise<string> }): Promise<HttpRequest> {
  const url = new URL(String(req.url), 'http://localhost');
  const { query, multiQuery } = parseQueryString(url.search);
  const text = await req.text();
  const request: HttpRequest = {
    method: String(req.method).toUpperCase(),
    path: url.pathname,
    headers: headersOf(req.headers),
    query,
    multiQuery,
    rawBody: text === '' ? undefined : text,
  };
  return request;
}

function frameFor(def: Definition, trigger: unknown, context: AzureInvocationContext): Frame {
  return {
    provider: 'azure',
    functionName: str(context.functionName) ?? process.env.WEBSITE_SITE_NAME ?? 'function',
    deadline: Date.now() + def.timeoutMs,
    raw: { trigger, context },
  };
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function queueMessageInvocation(trigger: unknown, context: AzureInvocationContext): Invocation {
  const meta = context.triggerMetadata ?? {};
  const id = asText(meta.id);
  if (!id) throw new MalformedEventError('Storage queue message has no id', [{ field: 'triggerMetadata.id', message: 'Missing', expected: 'string' }]);
  const dequeueCount = Number(meta.dequeueCount);
  return {
    trigger: {
      kind: 'queue',
      source: 'azure-storage-queue',
      ...(str(context.options?.trigger?.queueName) ? { queue: String(context.options?.trigger?.queueName) } : {}),
      messageId: id,
      ...(Number.isFinite(dequeueCount) && dequeueCount > 0 ? { attempt: dequeueCount } : {}),
      attributes: {},
      batchIndex: 0,
      batchSize: 1,
    },
    requestId: context.invocationId,
    deliveryId: id,
    // The host has already turned a JSON message into an object; text stays text.
    payload: () => trigger,
  };
}

function serviceBusInvocations(trigger: unknown, context: AzureInvocationContext): Invocation[] {
  const meta = context.triggerMetadata ?? {};
  const queue = str(context.options?.trigger?.queueName) ?? str(context.options?.trigger?.topicName);
  const many = Array.isArray(trigger) && Array.isArray(meta.messageIdArray);
  const bodies: unknown[] = many ? (trigger as unknown[]) : [trigger];
  const ids: unknown[] = many ? (meta.messageIdArray as unknown[]) : [meta.messageId];
  const counts: unknown[] = many && Array.isArray(meta.deliveryCountArray) ? (meta.deliveryCountArray as unknown[]) : [meta.deliveryCount];
  const props: unknown[] = many && Array.isArray(meta.applicationPropertiesArray) ? (meta.applicationPropertiesArray as unknown[]) : [meta.applicationProperties];
  return bodies.map((body, index): Invocation => {
    const messageId = asText(ids[index]);
    if (!messageId) {
      throw new MalformedEventError('Service Bus message has no messageId', [{ field: many ? `triggerMetadata.messageIdArray.${index}` : 'triggerMetadata.messageId', message: 'Missing', expected: 'string' }]);
    }
    const attempt = Number(counts[index]);
    const attributes: Record<string, string> = {};
    const p = props[index];
    if (isRec(p)) for (const [k, v] of Object.entries(p)) attributes[k] = String(v);
    return {
      trigger: {
        kind: 'queue',
        source: 'azure-service-bus',
        ...(queue ? { queue } : {}),
        messageId,
        ...(Number.isFinite(attempt) && attempt > 0 ? { attempt } : {}),
        attributes,
        batchIndex: index,
        batchSize: bodies.length,
      },
      requestId: many ? `${context.invocationId}:${messageId}` : context.invocationId,
      deliveryId: messageId,
      payload: () => body,
    };
  });
}

function timerInvocation(trigger: unknown, context: AzureInvocationContext): Invocation {
  const status = isRec(trigger) && isRec(trigger.scheduleStatus) ? trigger.scheduleStatus : {};
  // Azure does not report the occurrence being run; `last` is the previous one.
  return {
    trigger: { kind: 'schedule', source: 'azure-timer', schedule: context.functionName, ...(str(status.last) ? { scheduledTime: String(status.last) } : {}) },
    requestId: context.invocationId,
    deliveryId: context.invocationId,
    payload: () => ({}),
  };
}

function throwIfFailed(def: Definition, outcomes: Outcome[]): void {
  const failed = outcomes.find((o) => reportsFailure(def, o));
  if (failed && !failed.ok) throw toPublicError(failed.error);
}

export async function invokeAzure(def: Definition, trigger: unknown, context: AzureInvocationContext): Promise<unknown> {
  const frame = frameFor(def, trigger, context);
  const kind = classifyAzureTrigger(trigger, context);
  if (kind === 'http') {
    let outcome: Outcome;
    try {
      if (!isAzureHttpRequest(trigger)) throw new MalformedEventError('Not an HTTP request');
      const request = await azureHttpRequest(trigger);
      outcome = await runInvocation(def, frame, {
        trigger: { kind: 'http', source: 'azure-http', request },
        requestId: context.invocationId,
        deliveryId: undefined,
        payload: () => httpInput(request),
      });
    } catch (thrown) {
      outcome = { ok: false, error: thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the HTTP request') };
    }
    const res = toHttpResponse(outcome);
    const out: AzureHttpResponse = { status: res.status, headers: res.headers };
    if (res.body !== '') out.body = res.isBase64 ? Buffer.from(res.body, 'base64') : res.body;
    return out;
  }
  let invocations: Invocation[];
  try {
    switch (kind) {
      case 'storage-queue':
        invocations = [queueMessageInvocation(trigger, context)];
        break;
      case 'service-bus':
        invocations = serviceBusInvocations(trigger, context);
        break;
      case 'timer':
        invocations = [timerInvocation(trigger, context)];
        break;
      default:
        invocations = [{ trigger: { kind: 'direct', source: 'azure' }, requestId: context.invocationId, deliveryId: undefined, payload: () => trigger }];
    }
  } catch (thrown) {
    throw toPublicError(thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the trigger'));
  }
  if (invocations.length === 1) {
    const outcome = await runInvocation(def, frame, invocations[0]!);
    throwIfFailed(def, [outcome]);
    return outcome.ok ? outcome.value : undefined;
  }
  const outcomes = await runBatch(def, frame, invocations, false);
  throwIfFailed(def, outcomes);
  return undefined;
}
