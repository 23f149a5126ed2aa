/**
 * The key that makes an invocation's atomic write exactly-once (Redis marker, embedded
 * applied-key list): the inbox's (consumer, event id) when consuming an outbox event, else
 * the delivery id (queue, event, schedule), else the HTTP `Idempotency-Key` header.
 */
import type { Context } from '@steadyfn/handler';

/** Request keys an inbox sets for its consumer invocations. */
export const inboxRequestKeys = new WeakMap<object, string>();

/** The invocation's request key, or undefined (a plain HTTP request without `Idempotency-Key`). */
export function defaultRequestKey(ctx: Context): string | undefined {
  const fromInbox = inboxRequestKeys.get(ctx);
  if (fromInbox) return fromInbox;
  if (ctx.deliveryId) return `delivery:${ctx.deliveryId}`;
  if (ctx.trigger.kind === 'http') {
    const header = ctx.trigger.request.headers['idempotency-key'];
    if (header) return `http:${header}`;
  }
  return undefined;
}
