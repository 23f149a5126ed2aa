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
 * A Service Bus delivery is keyed by the broker's `SequenceNumber` scoped by the namespace the
 * `connection` settings name and the entity (`<namespace>/<queue>#<n>`,
 * `<namespace>/<topic>/<subscription>#<n>`), not by the sender's `MessageId`. A message
 * that cannot be read is thrown, or acknowledged under `terminalErrors: 'ack'`.
 *
 * Inside the worker, ids, properties and `trigger.rawBody` come from the host's own RPC data
 * (kept by azure-raw.ts before `@azure/functions` parses every JSON string it can): one
 * message's body is the exact text or bytes; a `cardinality: 'many'` batch without `dataType`
 * is Json.NET's re-serialisation of each body (events/azure-host-metadata.ts `rawTriggerBodies`).
 * The queue, Service Bus and timer invocations are built in azure-messages.ts; HTTP's request
 * and answer in azure-http.ts.
 */
import { randomUUID } from '../internal/crypto.js';
import { ConfigurationError, MalformedEventError, toPublicError } from '../errors.js';
import { httpInput } from '../http.js';
import { isRecord as isRec, str, type Rec } from '../internal/record.js';
import { adapterLogger, reportsFailure, responseOf, runBatch, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { renderError, type HttpResponse } from '../response.js';
import { takeColdStart } from '../context.js';
import type { Outcome } from '../types.js';
import { blobTriggerItem, isBlobTriggerMetadata } from '../events/azure-blob.js';
import { cosmosItems, isCosmosDocumentList } from '../events/cosmos.js';
import { eventGridItems, isEventGridEvent } from '../events/event-grid.js';
import { eventHubsItems, isEventHubsMetadata } from '../events/event-hubs.js';
import type { EventItem } from '../events/item.js';
import { azurePrincipal } from '../principal-azure.js';
import { rawTriggerBodies } from '../events/azure-host-metadata.js';
import { takeRawInvocation } from './azure-raw.js';
import { asText, metadataOf, queueMessageInvocation, serviceBusInvocations, timerInvocation, triggerFlag, triggerOption } from './azure-messages.js';
import { AZURE_HTTP, azureHttpRequest, isAzureHttpRequest, toAzureHttp } from './azure-http.js';

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
    // Taken once per call: the adapter's lines, the invocation and a batch's messages share it.
    coldStart: takeColdStart(),
  };
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
        adapterLogger(def, frame, ctx.invocationId).error('invocation failed', { trigger: 'http', code: thrown.code, retryable: false, issues });
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
        if (shape) adapterLogger(def, frame, ctx.invocationId).warn('event not recognised; running it as a direct invocation', { shape });
        invocations = [{ trigger: { kind: 'direct', source: 'azure', ...(shape ? { unrecognised: shape } : {}) }, requestId: ctx.invocationId, deliveryId: undefined, payload: () => trigger }];
      }
    }
  } catch (thrown) {
    const error = thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the trigger');
    adapterLogger(def, frame, ctx.invocationId).warn('malformed event', { code: error.code });
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
