/**
 * Azure Functions: the invocations of the message and timer triggers — a storage queue
 * message, a Service Bus message or batch, a timer tick — built from the trigger, the host's
 * own RPC data (azure-raw.ts) and the context's trigger metadata and options, which these
 * readers also give azure.ts. The dispatch, HTTP and the event sources are in azure.ts.
 */
import { MalformedEventError, type FieldIssue } from '../errors.js';
import { isRecord as isRec, nonEmptyStr, str, type Rec } from '../internal/record.js';
import type { Definition, Invocation } from '../invoke.js';
import type { QueueTrigger, TimerScheduleStatus } from '../types.js';
import { idText, rawBodyOf, scopedDeliveryId, withRawBody } from '../events/item.js';
import { anyPayload } from '../message.js';
import { lazyTriggerBodies, rawInteger, rawIntegers, rawJson, rawText, rawTexts, rawTriggerBodies } from '../events/azure-host-metadata.js';
import { propertiesAsText } from '../events/attributes.js';
import type { AzureInvocationContext } from './azure.js';
import { resolveAppSettings } from './azure-app-settings.js';

/**
 * The worker parses every string it is handed as JSON when it can, metadata included, so a
 * numeric message id may arrive as a number; it is turned back into text here.
 */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return '';
}

/** A delivery count: a number, its decimal text, or an int64 the worker handed over as a protobuf Long (`idText`). */
export function asCount(value: unknown): number | undefined {
  const text = typeof value === 'number' ? undefined : typeof value === 'string' ? value : idText(value);
  const n = text !== undefined && text.trim() !== '' ? Number(text) : typeof value === 'number' ? value : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function triggerOptions(context: AzureInvocationContext): Record<string, unknown> | undefined {
  return isRec(context.options) && isRec(context.options.trigger) ? context.options.trigger : undefined;
}

/**
 * A string trigger option (`queueName`, `cardinality`, `schedule`…) of the function's trigger
 * binding, its `%Setting%` references resolved as the host resolves them (azure-app-settings.ts:
 * `%ORDERS_QUEUE%` is the queue's name, not that text); undefined when unset.
 */
export function triggerOption(context: AzureInvocationContext, name: string): string | undefined {
  const trigger = triggerOptions(context);
  const value = trigger ? str(trigger[name]) : undefined;
  return value === undefined ? undefined : resolveAppSettings(value);
}

/** A boolean trigger option: `true` only when set to `true`; `undefined` when the context gives no trigger options. */
export function triggerFlag(context: AzureInvocationContext, name: string): boolean | undefined {
  const trigger = triggerOptions(context);
  return trigger ? trigger[name] === true : undefined;
}

/** The context's trigger metadata (`{}` when it has none). */
export function metadataOf(context: AzureInvocationContext): Rec {
  return isRec(context.triggerMetadata) ? context.triggerMetadata : {};
}

/**
 * A storage queue message, keyed by its id.
 *
 * @throws MalformedEventError when the message has no id.
 */
export function queueMessageInvocation(trigger: unknown, context: AzureInvocationContext, mode: Definition['body'], raw: Rec | undefined, data: Rec | undefined): Invocation {
  const meta = metadataOf(context);
  // The host's own text first: the worker may have turned a numeric-looking id into a number.
  const id = nonEmptyStr(rawText(raw, 'id')) ?? nonEmptyStr(asText(meta.id));
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

/** The app setting a Service Bus trigger without a `connection` reads (Azure docs, Service Bus trigger "Connections"). */
const DEFAULT_SERVICE_BUS_CONNECTION = 'AzureWebJobsServiceBus';

/**
 * The Service Bus namespace a trigger's `connection` names, lower-cased
 * (`contoso.servicebus.windows.net`): from the app setting `<connection>__fullyQualifiedNamespace`
 * (identity-based connections), else the `Endpoint=sb://<host>/` of the connection string in
 * `<connection>` (its key is never read out); a port either names is dropped (`sb://host:5671/`
 * and `host:5671` are `host`); undefined when neither is set (a hand-built context). The
 * trigger metadata names no namespace.
 *
 * @example serviceBusNamespace('ServiceBusConnection', { ServiceBusConnection: 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=…' }) // 'contoso.servicebus.windows.net'
 */
export function serviceBusNamespace(connection: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined {
  const name = connection?.trim() || DEFAULT_SERVICE_BUS_CONNECTION;
  const given = env[`${name}__fullyQualifiedNamespace`]?.trim() || /(?:^|;)\s*Endpoint\s*=\s*([^;]+)/i.exec(env[name] ?? '')?.[1]?.trim();
  if (!given) return undefined;
  // `sb://host/` in a connection string, a bare host in the namespace setting; either may name a
  // port (`:5671`), which is dropped: the namespace is the host, whichever setting names it.
  const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(given)?.[1] ?? given.replace(/\/+$/, '');
  const namespace = host.replace(/^[^@]*@/, '').replace(/^(\[[^\]]*\]|[^:]*):\d*$/, '$1').toLowerCase();
  return namespace === '' ? undefined : namespace;
}

function serviceBusQueueName(context: AzureInvocationContext): string | undefined {
  const queue = triggerOption(context, 'queueName');
  if (queue) return queue;
  const topic = triggerOption(context, 'topicName');
  const subscription = triggerOption(context, 'subscriptionName');
  return topic ? (subscription ? `${topic}/${subscription}` : topic) : undefined;
}

/**
 * A Service Bus message, or a batch (`cardinality: 'many'`): one invocation per message, keyed by
 * the broker's `SequenceNumber` scoped by the namespace and entity
 * (`<namespace>/<queue>#<n>`, `<namespace>/<topic>/<subscription>#<n>`; without `<namespace>/`
 * when the connection settings name none — `serviceBusNamespace`), its `EnqueuedTimeUtc` as
 * `trigger.time`. A sequence number is still a position a new message can take again (a
 * recreated queue starts over at 1; a geo-DR alias fails over to another namespace's queue under
 * the same name): `@steadyfn/idempotency` adds the time to its key.
 *
 * @throws MalformedEventError when a batch is not a list with its ids, or a message has neither
 *   a sequence number nor a message id.
 */
export function serviceBusInvocations(
  trigger: unknown,
  context: AzureInvocationContext,
  mode: Definition['body'],
  raw: Rec | undefined,
  data: Rec | undefined,
): { invocations: Invocation[]; many: boolean } {
  const meta = metadataOf(context);
  const queue = serviceBusQueueName(context);
  // Sequence numbers count from 1 per queue or subscription, in every namespace: the key names
  // the namespace (when the connection says) and the entity.
  const namespace = serviceBusNamespace(triggerOption(context, 'connection'));
  const entity = `${namespace ? `${namespace}/` : ''}${queue ?? 'azure-service-bus'}`;
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
  // The broker's enqueue time: the same on every redelivery, another for a new message.
  const times: unknown[] = many ? list(meta.enqueuedTimeUtcArray) : [meta.enqueuedTimeUtc];
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
    const messageId = nonEmptyStr(asText(ids[index])) ?? '';
    const sequenceNumber = idText(sequences[index]);
    if (!messageId && !sequenceNumber) {
      throw new MalformedEventError('Service Bus message has neither a sequenceNumber nor a messageId', [
        { field: many ? `triggerMetadata.sequenceNumberArray.${index}` : 'triggerMetadata.sequenceNumber', message: 'Missing', expected: 'integer' },
      ]);
    }
    const attempt = asCount(counts[index]);
    const groupId = asText(sessions[index]);
    const time = nonEmptyStr(times[index]);
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
          ...(time ? { time } : {}),
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

/** A timer tick: keyed `<function>@<occurrence>`, or by the invocation id for a run on startup or by hand. */
export function timerInvocation(trigger: unknown, context: AzureInvocationContext): Invocation {
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
