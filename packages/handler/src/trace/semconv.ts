/**
 * OpenTelemetry semantic-convention attributes of an invocation's span: FaaS
 * (https://opentelemetry.io/docs/specs/semconv/faas/faas-spans/), cloud, HTTP server and
 * messaging (https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/). Names
 * are written out here rather than imported: `@opentelemetry/semantic-conventions` is not a
 * dependency.
 */
import type { Context, Provider, Trigger } from '../types.js';
import { SPAN_KIND, type Attributes } from './otel.js';

/** `faas.trigger`: what kind of event invoked the function. */
function faasTrigger(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'http':
      return 'http';
    case 'queue':
    case 'stream':
    case 'notification':
    case 'event':
      return 'pubsub';
    case 'change':
    case 'storage':
      return 'datasource';
    case 'schedule':
      return 'timer';
    default:
      return 'other';
  }
}

const CLOUD_PROVIDER: Partial<Record<Provider, string>> = { aws: 'aws', gcp: 'gcp', azure: 'azure' };

/** `messaging.system` for the sources the conventions name. */
const MESSAGING_SYSTEM: Record<string, string> = {
  sqs: 'aws_sqs',
  sns: 'aws_sns',
  pubsub: 'gcp_pubsub',
  'azure-service-bus': 'servicebus',
  'azure-event-hubs': 'eventhubs',
  'event-grid': 'eventgrid',
  kafka: 'kafka',
  'ow-kafka': 'kafka',
};

/** Whether the invocation handles a message (a queue, stream or notification delivery). */
export function isMessaging(trigger: Trigger): trigger is Extract<Trigger, { kind: 'queue' | 'stream' | 'notification' }> {
  return trigger.kind === 'queue' || trigger.kind === 'stream' || trigger.kind === 'notification';
}

/** The destination a message came from: queue, stream/topic, or SNS/Event Grid topic. */
export function destinationOf(trigger: Trigger): string | undefined {
  if (trigger.kind === 'queue') return trigger.queue;
  if (trigger.kind === 'stream') return trigger.stream;
  if (trigger.kind === 'notification') return trigger.topic;
  return undefined;
}

/** The span's kind: SERVER for HTTP, CONSUMER for messages and events, INTERNAL otherwise. */
export function spanKindOf(trigger: Trigger): number {
  if (trigger.kind === 'http') return SPAN_KIND.SERVER;
  if (isMessaging(trigger) || trigger.kind === 'event' || trigger.kind === 'change' || trigger.kind === 'storage') return SPAN_KIND.CONSUMER;
  return SPAN_KIND.INTERNAL;
}

/** The span name: `process <destination>` for a message (messaging conventions), `<METHOD>` for HTTP, else the function name. */
export function spanNameOf(ctx: Context): string {
  const trigger = ctx.trigger;
  if (trigger.kind === 'http') return trigger.request.method;
  if (isMessaging(trigger)) return `process ${destinationOf(trigger) || trigger.source}`;
  return ctx.functionName;
}

/** The attributes every invocation span starts with. */
export function invocationAttributes(ctx: Context): Attributes {
  const trigger = ctx.trigger;
  const attributes: Attributes = {
    'faas.trigger': faasTrigger(trigger),
    'faas.invocation_id': ctx.requestId,
    'faas.coldstart': ctx.coldStart,
    'faas.name': ctx.functionName,
    'cloud.provider': CLOUD_PROVIDER[ctx.provider],
    'steadyfn.trigger.source': 'source' in trigger ? trigger.source : undefined,
    'steadyfn.delivery_id': ctx.deliveryId,
  };
  if (trigger.kind === 'http') {
    attributes['http.request.method'] = trigger.request.method;
    attributes['url.path'] = trigger.request.path;
  } else if (isMessaging(trigger)) {
    attributes['messaging.system'] = MESSAGING_SYSTEM[trigger.source];
    attributes['messaging.operation.type'] = 'process';
    attributes['messaging.destination.name'] = destinationOf(trigger);
    attributes['messaging.message.id'] = trigger.kind === 'stream' ? ctx.deliveryId : trigger.messageId;
    if (trigger.kind === 'queue' && trigger.attempt !== undefined) attributes['steadyfn.attempt'] = trigger.attempt;
    if (trigger.kind === 'stream') attributes['messaging.destination.partition.id'] = trigger.partition;
  } else if (trigger.kind === 'schedule') {
    attributes['faas.time'] = trigger.scheduledTime;
    // `faas.cron` is the schedule period as a cron expression; the schedule's name or ARN has
    // no attribute in the conventions, so it goes under the wrapper's own namespace.
    attributes['faas.cron'] = trigger.cron;
    attributes['steadyfn.schedule'] = trigger.schedule;
  } else if (trigger.kind === 'change' || trigger.kind === 'storage') {
    attributes['faas.document.collection'] = trigger.kind === 'change' ? trigger.collection : trigger.bucket;
    attributes['faas.document.operation'] = trigger.op;
    attributes['faas.document.name'] = trigger.kind === 'storage' ? trigger.key : typeof trigger.key === 'string' ? trigger.key : undefined;
  }
  return attributes;
}
