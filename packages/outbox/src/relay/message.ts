/**
 * An outbox event as an SQS message. The body is the envelope JSON unchanged; attributes
 * repeat what a consumer routes and orders by (on a standard queue no deduplication id
 * carries the event id), so it need not parse the body to do so:
 *
 *   steadyfn.eventId    event id            steadyfn.seq        seq (decimal)
 *   steadyfn.type       event type          steadyfn.aggregate  aggregateType/aggregateId
 *   steadyfn.attempt    relay attempt that sent it (1 = first)
 *   traceparent         the envelope's W3C trace context (`traceAttributes` of @steadyfn/handler:
 *                       the name a steadyfn consumer reads into its `ctx.traceparent`)
 *
 * `groupKey` is the aggregate's identity the outbox orders by, `aggregateType/aggregateId`
 * (`aggregateKey`), not the bare id: aggregates of different types that share an id are
 * ordered apart in the store, so they get apart groups on the queue too (one FIFO group would
 * couple their order and hold one behind the other's failures). On a FIFO queue the sender
 * makes it the `MessageGroupId` (hashed when SQS would refuse it, e.g. over 128 characters) and
 * the event id the `MessageDeduplicationId`.
 */
import { traceAttributes } from '@steadyfn/handler/tracing';
import type { OutboundMessage, StoredEvent } from './types.js';

/** Attribute names the relay sets. */
export const ATTRIBUTES = {
  eventId: 'steadyfn.eventId',
  type: 'steadyfn.type',
  aggregate: 'steadyfn.aggregate',
  seq: 'steadyfn.seq',
  attempt: 'steadyfn.attempt',
  traceparent: 'traceparent',
} as const;

/** The message for one stored event. */
export function toMessage(event: StoredEvent): OutboundMessage {
  // Literal names (the values of ATTRIBUTES), not computed keys: every message's object then
  // has one shape from the start, with no keyed stores to build it.
  const attributes: Record<string, string> = {
    'steadyfn.eventId': event.id,
    'steadyfn.type': event.type,
    'steadyfn.aggregate': event.aggregate,
    'steadyfn.seq': String(event.seq),
    'steadyfn.attempt': String(event.started),
  };
  if (event.traceparent !== undefined) {
    // Only a valid traceparent is carried (traceAttributes checks it); none: nothing to build.
    const trace = traceAttributes(event);
    for (const name of Object.keys(trace)) attributes[name] = trace[name]!.StringValue;
  }
  return { id: event.id, groupKey: event.aggregate, body: event.body, attributes };
}
