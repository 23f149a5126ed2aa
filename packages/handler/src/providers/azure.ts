/**
 * Azure Functions (Node.js programming model v4): `(trigger, context)` for `app.http`,
 * `app.storageQueue`, `app.serviceBusQueue` / `app.serviceBusTopic` (one message or a
 * batch) and `app.timer`.
 *
 * Azure gives no remaining-time clock, so the deadline is `timeoutMs` (your
 * `functionTimeout`) from the start — for an HTTP trigger at most 230 s, the most the load
 * balancer in front waits for an answer. A failed message is thrown: the host redelivers it
 * and, past `maxDequeueCount` / `MaxDeliveryCount`, moves it to the poison / dead-letter
 * queue. A Service Bus batch settles as one: one failed message redelivers all of them; a session batch (`isSessionsEnabled: true`) runs in order.
 * A Service Bus delivery is keyed by the broker's `SequenceNumber` scoped by the entity
 * (`<queue>#<n>`, `<topic>/<subscription>#<n>`), not by the sender's `MessageId`. A message
 * that cannot be read is thrown, or acknowledged under `terminalErrors: 'ack'`.
 *
 * Inside the worker, ids, properties and `trigger.rawBody` come from the host's own RPC data
 * (kept by azure-raw.ts before `@azure/functions` parses every JSON string it can): one
 * message's body is the exact text or bytes; a `cardinality: 'many'` batch without `dataType`
 * is Json.NET's re-serialisation of each body (events/azure-host-metadata.ts `rawTriggerBodies`).
 */
import { randomUUID } from '../internal/crypto.js';
import { ConfigurationError, MalformedEventError, toPublicError, type FieldIssue } from '../errors.js';
import { httpInput } from '../http.js';
import { isRecord as isRec, str, type Rec } from '../internal/record.js';
import { adapterLogger, reportsFailure, responseOf, runBatch, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { renderError, type HttpResponse } from '../response.js';
import type { Outcome, QueueTrigger, TimerScheduleStatus } from '../types.js';
import { blobTriggerItem, isBlobTriggerMetadata } from '../events/azure-blob.js';
import { cosmosItems, isCosmosDocumentList } from '../events/cosmos.js';
import { eventGridItems, isEventGridEvent } from '../events/event-grid.js';
import { eventHubsItems, isEventHubsMetadata } from '../events/event-hubs.js';
import { idText, rawBodyOf, scopedDeliveryId, withRawBody, type EventItem } from '../events/item.js';
import { anyPayload } from '../message.js';
import { azurePrincipal } from '../principal-azure.js';
import { lazyTriggerBodies, rawInteger, rawIntegers, rawJson, rawText, rawTexts, rawTriggerBodies } from '../events/azure-host-metadata.js';
import { takeRawInvocation } from './azure-raw.js';
import { AZURE_HTTP, azureHttpRequest, isAzureHttpRequest, toAzureHttp } from './azure-http.js';
import { propertiesAsText } from '../events/attributes.js';

/**
 * The part of `@azure/functions`' InvocationContext the adapter reads. No index signature,
 * so the library's `InvocationContext` class is assignable to it.
 */
export interface AzureInvocationContext {
  invocationId: string;
  functionName: string;
  triggerMetadata?: Record<string, unknown>;
  options?: { trigger?: { type?: string; name?: string; [key: string]: unknown } };
  retryContext?: { retryCount?: number } | null;
}

export type { AzureCookie, AzureHttpResponse } from './azure-http.js';

type AzureKind = 'http' | 'storage-queue' | 'service-bus' | 'timer' | 'blob' | 'event-grid' | 'event-hubs' | 'cosmosdb' | 'other';

const DECLARED: Record<string, AzureKind> = {
  httptrigger: 'http',
  queuetrigger: 'storage-queue',
  servicebustrigger: 'service-bus',
  timertrigger: 'timer',
  blobtrigger: 'blob',
  eventgridtrigger: 'event-grid',
  eventhubtrigger: 'event-hubs',
  cosmosdbtrigger: 'cosmosdb',
};

export function classifyAzureTrigger(trigger: unknown, context: AzureInvocationContext): AzureKind {
  const declared = context.options?.trigger?.type;
  const type = (typeof declared === 'string' ? declared : '').toLowerCase();
  const declaredKind = Object.hasOwn(DECLARED, type) ? DECLARED[type] : undefined;
  if (declaredKind) return declaredKind;
  // A context built without options (tests, tools) says `unknown`: read the arguments instead.
  if (type === '' || type === 'unknown') {
    if (isAzureHttpRequest(trigger)) return 'http';
    const meta = isRec(context.triggerMetadata) ? context.triggerMetadata : {};
    if ('dequeueCount' in meta && 'popReceipt' in meta) return 'storage-queue';
    if ('deliveryCount' in meta || 'messageIdArray' in meta) return 'service-bus';
    if (isRec(trigger) && 'scheduleStatus' in trigger && 'isPastDue' in trigger) return 'timer';
    if (isBlobTriggerMetadata(meta)) return 'blob';
    if (isEventHubsMetadata(meta)) return 'event-hubs';
    if (isEventGridEvent(trigger) || (Array.isArray(trigger) && trigger.length > 0 && trigger.every(isEventGridEvent))) return 'event-grid';
    if (isCosmosDocumentList(trigger)) return 'cosmosdb';
  }
  return 'other';
}

/**
 * How long an HTTP-triggered function has to answer, in ms, whatever `functionTimeout` says:
 * "Regardless of the function app timeout setting, 230 seconds is the maximum amount of time
 * that an HTTP triggered function can take to respond to a request" (the Azure Load Balancer's
 * idle timeout; Azure docs "Function app timeout duration", HTTP trigger "Limits").
 */
const AZURE_HTTP_RESPONSE_TIMEOUT_MS = 230_000;

function frameFor(def: Definition, trigger: unknown, context: unknown, view: AzureInvocationContext, http: boolean): Frame {
  return {
    provider: 'azure',
    principal: azurePrincipal,
    functionName: view.functionName,
    // Azure gives no clock: `timeoutMs` (the functionTimeout), and at most 230 s for HTTP.
    deadline: Date.now() + (http ? Math.min(def.timeoutMs, AZURE_HTTP_RESPONSE_TIMEOUT_MS) : def.timeoutMs),
    raw: { trigger, context },
    requestId: view.invocationId,
  };
}

/**
 * The worker parses every string it is handed as JSON when it can, metadata included, so a
 * numeric message id may arrive as a number; it is turned back into text here.
 */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return '';
}

/** A delivery count: a number, its decimal text, or an int64 the worker handed over as a protobuf Long (`idText`). */
function asCount(value: unknown): number | undefined {
  const text = typeof value === 'number' ? undefined : typeof value === 'string' ? value : idText(value);
  const n = text !== undefined && text.trim() !== '' ? Number(text) : typeof value === 'number' ? value : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function triggerOptions(context: AzureInvocationContext): Record<string, unknown> | undefined {
  return isRec(context.options) && isRec(context.options.trigger) ? context.options.trigger : undefined;
}

function triggerOption(context: AzureInvocationContext, name: string): string | undefined {
  const trigger = triggerOptions(context);
  return trigger ? str(trigger[name]) : undefined;
}

/** A boolean trigger option: `true` only when set to `true`; `undefined` when the context gives no trigger options. */
function triggerFlag(context: AzureInvocationContext, name: string): boolean | undefined {
  const trigger = triggerOptions(context);
  return trigger ? trigger[name] === true : undefined;
}

/**
 * The Cosmos DB account a trigger's `connection` names: the host of its endpoint, from the app
 * setting `<connection>__accountEndpoint` (identity-based connections) or the `AccountEndpoint`
 * of the connection string in `<connection>` (its key is never read out); else the setting's
 * name. The trigger binding gives no more than that name.
 */
function cosmosAccount(connection: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined {
  if (!connection) return undefined;
  const endpoint = env[`${connection}__accountEndpoint`] ?? /(?:^|;)\s*AccountEndpoint\s*=\s*([^;]+)/i.exec(env[connection] ?? '')?.[1];
  if (!endpoint) return connection;
  try {
    return new URL(endpoint.trim()).host || connection;
  } catch {
    return connection;
  }
}

function metadataOf(context: AzureInvocationContext): Rec {
  return isRec(context.triggerMetadata) ? context.triggerMetadata : {};
}

function queueMessageInvocation(trigger: unknown, context: AzureInvocationContext, mode: Definition['body'], raw: Rec | undefined, data: Rec | undefined): Invocation {
  const meta = metadataOf(context);
  // The host's own text first: the worker may have turned a numeric-looking id into a number.
  const id = rawText(raw, 'id') ?? asText(meta.id);
  if (!id) throw new MalformedEventError('Storage queue message has no id', [{ field: 'triggerMetadata.id', message: 'Missing', expected: 'string' }]);
  const attempt = asCount(meta.dequeueCount);
  const queue = triggerOption(context, 'queueName');
  return {
    // The host's own text first: the worker has parsed a JSON message (rounding big integers).
    trigger: withRawBody<QueueTrigger>(
      {
        kind: 'queue',
        source: 'azure-storage-queue',
        ...(queue ? { queue } : {}),
        messageId: id,
        ...(attempt ? { attempt } : {}),
        attributes: {},
        batchIndex: 0,
        batchSize: 1,
      },
      () => rawTriggerBodies(data, false, 1)?.[0] ?? rawBodyOf(trigger),
    ),
    requestId: context.invocationId,
    deliveryId: id,
    // The worker has already turned a JSON message into a value; other text stays text.
    payload: () => anyPayload(trigger, mode, { field: 'message' }),
  };
}

function serviceBusQueueName(context: AzureInvocationContext): string | undefined {
  const queue = triggerOption(context, 'queueName');
  if (queue) return queue;
  const topic = triggerOption(context, 'topicName');
  const subscription = triggerOption(context, 'subscriptionName');
  return topic ? (subscription ? `${topic}/${subscription}` : topic) : undefined;
}

function serviceBusInvocations(
  trigger: unknown,
  context: AzureInvocationContext,
  mode: Definition['body'],
  raw: Rec | undefined,
  data: Rec | undefined,
): { invocations: Invocation[]; many: boolean } {
  const meta = metadataOf(context);
  const queue = serviceBusQueueName(context);
  // Sequence numbers are unique per queue or subscription: the key names it.
  const entity = queue ?? 'azure-service-bus';
  const withIds = Array.isArray(meta.messageIdArray) || Array.isArray(meta.sequenceNumberArray);
  const many = triggerOption(context, 'cardinality')?.toLowerCase() === 'many' || (Array.isArray(trigger) && withIds);
  if (many && (!Array.isArray(trigger) || !withIds)) {
    const issues: FieldIssue[] = [];
    if (!Array.isArray(trigger)) issues.push({ field: 'messages', message: 'Not a list', expected: 'array' });
    if (!withIds) issues.push({ field: 'triggerMetadata.sequenceNumberArray', message: 'Missing', expected: 'array' });
    throw new MalformedEventError('Service Bus batch is not a list of messages with their ids', issues);
  }
  // Array.from: a sparse list (holes) still yields one invocation per index.
  const bodies: unknown[] = many ? Array.from(trigger as unknown[]) : [trigger];
  // The bodies as the host sent them: the worker parses JSON ones (rounding big integers).
  const hostBodies = lazyTriggerBodies(data, many, bodies.length);
  // The host's own text first: the worker turns "9007199254740993" into 9007199254740992.
  const rawIds = many ? rawTexts(raw, 'messageIdArray') : [rawText(raw, 'messageId')];
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const ids: unknown[] = (many ? list(meta.messageIdArray) : [meta.messageId]).map((id, i) => rawIds?.[i] ?? id);
  const counts: unknown[] = many ? list(meta.deliveryCountArray) : [meta.deliveryCount];
  // The host's own int64 first: the library rounds a JSON one past 2^53 (partitioned entities).
  const rawSequences = many ? rawIntegers(raw, 'sequenceNumberArray') : [rawInteger(raw, 'sequenceNumber')];
  const sequences: unknown[] = (many ? list(meta.sequenceNumberArray) : [meta.sequenceNumber]).map((n, i) => rawSequences?.[i] ?? n);
  // Session-enabled entities: the session is the message's FIFO group. The host's own text
  // first, as for ids: the worker turns a numeric-looking one into a (rounded) number.
  const rawSessions = many ? rawTexts(raw, 'sessionIdArray') : [rawText(raw, 'sessionId')];
  const sessions: unknown[] = (many ? list(meta.sessionIdArray) : [meta.sessionId]).map((s, i) => rawSessions?.[i] ?? s);
  // Extension v5 names them applicationProperties; v4 called them userProperties. The host's own
  // JSON first: the library camel-cases the property names and rounds longs past 2^53.
  const parsed = many ? list(meta.applicationPropertiesArray ?? meta.userPropertiesArray) : [meta.applicationProperties ?? meta.userProperties];
  const hostText = many ? (rawJson(raw, 'applicationPropertiesArray') ?? rawJson(raw, 'userPropertiesArray')) : (rawJson(raw, 'applicationProperties') ?? rawJson(raw, 'userProperties'));
  const props: unknown[] = many ? (Array.isArray(hostText) ? hostText : parsed) : [hostText ?? parsed[0]];
  const invocations = bodies.map((body, index): Invocation => {
    // MessageId is the sender's (optional in AMQP, unique only under duplicate detection);
    // SequenceNumber is the broker's, unique within the entity: the delivery is keyed by it.
    const messageId = asText(ids[index]);
    const sequenceNumber = idText(sequences[index]);
    if (!messageId && !sequenceNumber) {
      throw new MalformedEventError('Service Bus message has neither a sequenceNumber nor a messageId', [
        { field: many ? `triggerMetadata.sequenceNumberArray.${index}` : 'triggerMetadata.sequenceNumber', message: 'Missing', expected: 'integer' },
      ]);
    }
    const attempt = asCount(counts[index]);
    const groupId = asText(sessions[index]);
    return {
      trigger: withRawBody<QueueTrigger>(
        {
          kind: 'queue',
          source: 'azure-service-bus',
          ...(queue ? { queue } : {}),
          messageId,
          ...(attempt ? { attempt } : {}),
          ...(groupId ? { groupId } : {}),
          ...(sequenceNumber ? { sequenceNumber } : {}),
          attributes: propertiesAsText(props[index]),
          batchIndex: index,
          batchSize: bodies.length,
        },
        () => hostBodies()?.[index] ?? rawBodyOf(body),
      ),
      requestId: many ? `${context.invocationId}:${sequenceNumber ?? messageId}` : context.invocationId,
      deliveryId: sequenceNumber ? scopedDeliveryId(entity, sequenceNumber) : messageId,
      payload: () => anyPayload(body, mode, { field: many ? `messages.${index}` : 'message' }),
    };
  });
  return { invocations, many };
}

/** Five to seven fields of cron characters; not a TimeSpan (`00:05:00`) or an unresolved `%Setting%`. */
const CRON_EXPRESSION = /^[0-9A-Za-z*?/,#-]+(?:\s+[0-9A-Za-z*?/,#-]+){4,6}$/;

/** The timer binding's `schedule` when it is a cron (NCRONTAB) expression, trimmed; else undefined. */
function cronExpression(schedule: string | undefined): string | undefined {
  const text = schedule?.trim();
  return text && CRON_EXPRESSION.test(text) ? text : undefined;
}

/** Slack for a timer that fires a little before its occurrence (clock skew). */
const TIMER_EARLY_MS = 5_000;

function timerInvocation(trigger: unknown, context: AzureInvocationContext): Invocation {
  const status = isRec(trigger) && isRec(trigger.scheduleStatus) ? trigger.scheduleStatus : {};
  // While a tick runs, the host's status still says `next` = the occurrence being run (it
  // moves on afterwards), also for a past-due run after downtime. A run on startup or by
  // hand sees a `next` still ahead: that is not a tick of its own, so it gets no tick id.
  const next = str(status.next);
  const at = next ? Date.parse(next) : NaN;
  const tick = next && Number.isFinite(at) && at <= Date.now() + TIMER_EARLY_MS ? next : undefined;
  const schedule = context.functionName;
  const pastDue = isRec(trigger) && typeof trigger.isPastDue === 'boolean' ? trigger.isPastDue : undefined;
  const scheduleStatus: TimerScheduleStatus = {};
  for (const name of ['last', 'next', 'lastUpdated'] as const) {
    const value = str(status[name]);
    if (value !== undefined) scheduleStatus[name] = value;
  }
  const withStatus = Object.keys(scheduleStatus).length > 0;
  const cron = cronExpression(triggerOption(context, 'schedule'));
  return {
    trigger: {
      kind: 'schedule',
      source: 'azure-timer',
      schedule,
      ...(cron ? { cron } : {}),
      ...(tick ? { scheduledTime: tick } : {}),
      ...(pastDue === undefined ? {} : { pastDue }),
      ...(withStatus ? { scheduleStatus } : {}),
    },
    requestId: context.invocationId,
    deliveryId: tick ? `${schedule}@${tick}` : context.invocationId,
    payload: () => ({}),
  };
}

function throwIfFailed(def: Definition, outcomes: Outcome[]): void {
  const failed = outcomes.find((o) => reportsFailure(def, o));
  if (failed && !failed.ok) throw toPublicError(failed.error);
}

export async function invokeAzure(def: Definition, trigger: unknown, context: AzureInvocationContext): Promise<unknown> {
  // A normalised view for reading; the original context stays in ctx.raw.
  const given: Rec = isRec(context) ? context : {};
  const ctx: AzureInvocationContext = {
    invocationId: asText(given.invocationId) || randomUUID(),
    functionName: str(given.functionName) ?? process.env.WEBSITE_SITE_NAME ?? 'function',
    ...(isRec(given.triggerMetadata) ? { triggerMetadata: given.triggerMetadata } : {}),
    ...(isRec(given.options) ? { options: given.options as AzureInvocationContext['options'] } : {}),
  };
  const kind = classifyAzureTrigger(trigger, ctx);
  const frame = frameFor(def, trigger, context, ctx, kind === 'http');
  const host = takeRawInvocation(ctx.invocationId);
  const raw = host?.triggerMetadata;
  const data = host?.triggerData;
  if (kind === 'http') {
    let res: HttpResponse;
    try {
      if (!isAzureHttpRequest(trigger)) throw new MalformedEventError('Not an HTTP request');
      const request = await azureHttpRequest(trigger);
      const outcome = await runInvocation(def, frame, {
        trigger: { kind: 'http', source: 'azure-http', request },
        requestId: ctx.invocationId,
        deliveryId: undefined,
        payload: () => httpInput(request, def.body),
        http: AZURE_HTTP,
      });
      res = responseOf(outcome);
    } catch (thrown) {
      if (thrown instanceof ConfigurationError) {
        const issues = (thrown.issues ?? []).map(({ field, expected }) => ({ field, expected }));
        adapterLogger(def, 'azure', ctx.invocationId).error('invocation failed', { trigger: 'http', code: thrown.code, retryable: false, issues });
      }
      res = renderError(thrown instanceof MalformedEventError || thrown instanceof ConfigurationError ? thrown : new MalformedEventError('Could not read the HTTP request'));
    }
    return toAzureHttp(res, isRec(trigger) ? str(trigger.method) : undefined);
  }
  let invocations: Invocation[];
  let batch = false;
  // Event Hubs partitions, the Cosmos DB change feed and Service Bus sessions are ordered: stop at the first failure.
  let ordered = false;
  try {
    switch (kind) {
      case 'storage-queue':
        invocations = [queueMessageInvocation(trigger, ctx, def.body, raw, data)];
        break;
      case 'service-bus':
        ({ invocations, many: batch } = serviceBusInvocations(trigger, ctx, def.body, raw, data));
        // A session is Service Bus's FIFO group (a session receiver's batch comes from one
        // session, in order): run it in order and stop at the first failure, as a FIFO SQS batch.
        // The binding's `isSessionsEnabled` says so: a sender may set SessionId on a queue
        // without sessions (Azure delivers it). Only without trigger options, a SessionId does.
        ordered = triggerFlag(ctx, 'isSessionsEnabled') ?? invocations.some((inv) => inv.trigger.kind === 'queue' && inv.trigger.groupId !== undefined);
        break;
      case 'timer':
        invocations = [timerInvocation(trigger, ctx)];
        break;
      case 'blob':
        invocations = [withRequestId(blobTriggerItem(trigger, metadataOf(ctx), rawTriggerBodies(data, false, 1)?.[0]), ctx, false)];
        break;
      case 'event-grid':
        invocations = eventGridItems(trigger, def).map((item) => withRequestId(item, ctx, Array.isArray(trigger)));
        batch = Array.isArray(trigger);
        break;
      case 'event-hubs': {
        const many = triggerOption(ctx, 'cardinality')?.toLowerCase() === 'many' || Array.isArray(metadataOf(ctx).sequenceNumberArray);
        invocations = eventHubsItems(trigger, metadataOf(ctx), many, def, raw, data).map((item) => withRequestId(item, ctx, many));
        batch = many;
        ordered = true;
        break;
      }
      case 'cosmosdb': {
        const container = triggerOption(ctx, 'containerName') ?? triggerOption(ctx, 'collectionName') ?? '';
        const scope = [cosmosAccount(triggerOption(ctx, 'connection')), triggerOption(ctx, 'databaseName'), container].filter((part) => part).join('/');
        invocations = cosmosItems(trigger, container, scope).map((item) => withRequestId(item, ctx, true));
        batch = true;
        ordered = true;
        break;
      }
      default: {
        const declared = triggerOption(ctx, 'type');
        const shape = declared && declared.toLowerCase() !== 'unknown' ? `trigger type ${declared.slice(0, 60)}` : undefined;
        if (shape) adapterLogger(def, 'azure', ctx.invocationId).warn('event not recognised; running it as a direct invocation', { shape });
        invocations = [{ trigger: { kind: 'direct', source: 'azure', ...(shape ? { unrecognised: shape } : {}) }, requestId: ctx.invocationId, deliveryId: undefined, payload: () => trigger }];
      }
    }
  } catch (thrown) {
    const error = thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the trigger');
    adapterLogger(def, 'azure', ctx.invocationId).warn('malformed event', { code: error.code });
    // Under `terminalErrors: 'ack'` an unreadable message is acknowledged, as on the other
    // providers: thrown, the host would redeliver it `MaxDeliveryCount` times, never running it.
    if (reportsFailure(def, { ok: false, error })) throw toPublicError(error);
    return undefined;
  }
  if (!batch) {
    const outcome = await runInvocation(def, frame, invocations[0]!);
    throwIfFailed(def, [outcome]);
    return outcome.ok ? outcome.value : undefined;
  }
  // A failure is thrown: the host retries the whole batch (Event Hubs and Cosmos DB only with a
  // retry policy; without one the checkpoint moves on and the batch is not delivered again).
  const outcomes = await runBatch(def, frame, invocations, ordered);
  throwIfFailed(def, outcomes);
  return undefined;
}

/**
 * An event-source item with this invocation's id (one per record in a batch). The item itself,
 * not a copy: a spread would read a `deliveryId` the item works out on first read (the blob
 * trigger's content hash) when nothing may need it.
 */
function withRequestId(item: EventItem, context: AzureInvocationContext, many: boolean): Invocation {
  const invocation = item as EventItem & { requestId: string };
  invocation.requestId = many && item.deliveryId !== undefined ? `${context.invocationId}:${item.deliveryId}` : context.invocationId;
  return invocation;
}
