/**
 * The key that makes an invocation's atomic write exactly-once (Redis marker, embedded
 * applied-key list, transaction-mode marker): the inbox's (consumer, event id) when consuming
 * an outbox event, else the record key of the idempotency plugin holding this request, else
 * the delivery id (queue, event, schedule; with the record's time for a reusable position), else
 * the HTTP `Idempotency-Key` header.
 */
import type { Context } from '@steadyfn/handler';
import { heldIdempotencyKey, isReusablePosition, positionKey } from '@steadyfn/idempotency';
import type { EventEnvelope } from '../envelope.js';

/** What `inbox()` puts on `ctx` (read here, so the outbox and the inbox share no module state). */
export interface InboxMember {
  event?: EventEnvelope;
  key?: string;
  /** The delivery was a duplicate the inbox answered; the function did not run. */
  duplicate?: boolean;
}

/** `ctx.inbox` when an inbox plugin runs in this invocation. */
export function inboxOf(ctx: Context): InboxMember | undefined {
  const member = (ctx as Context & { inbox?: unknown }).inbox;
  return typeof member === 'object' && member !== null ? (member as InboxMember) : undefined;
}

/**
 * The delivery id as a key: with the record's time (`positionKey` of the idempotency plugin,
 * `<deliveryId>\0<time>`) when it is a position a NEW message can take again — a Service Bus
 * sequence number (queue recreated, geo-DR failover), a Kafka offset, an Event Hubs sequence
 * number, a Knative KafkaSource event — so such a message is not answered as a duplicate of the
 * old one (its write and event lost), while a redelivery, which keeps its time, still is.
 */
function deliveryKey(ctx: Context, deliveryId: string): string {
  return isReusablePosition(ctx.trigger) ? positionKey(deliveryId, ctx.trigger) : deliveryId;
}

/**
 * The invocation's request key, or undefined (a plain HTTP request without `Idempotency-Key` or
 * idempotency plugin). The inbox's and the idempotency plugin's keys are scoped already (the
 * consumer; the namespace or function); the delivery id and the header are scoped here by the
 * function name: one delivery id reaches several functions (an EventBridge event's targets, a
 * schedule tick's, a Pub/Sub message's subscriptions), and each must write once, not one of them.
 */
export function defaultRequestKey(ctx: Context): string | undefined {
  const fromInbox = inboxOf(ctx)?.key;
  if (fromInbox) return fromInbox;
  const held = heldIdempotencyKey(ctx);
  if (held) return `idempotency:${held}`;
  if (ctx.deliveryId) return `delivery:${JSON.stringify([ctx.functionName, deliveryKey(ctx, ctx.deliveryId)])}`;
  if (ctx.trigger.kind === 'http') {
    const header = ctx.trigger.request.headers['idempotency-key'];
    if (header) return `http:${JSON.stringify([ctx.functionName, header])}`;
  }
  return undefined;
}
