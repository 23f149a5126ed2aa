/**
 * Putting the invocation's trace context on what it sends, in the W3C names: as SQS (and SNS)
 * message attributes, and as HTTP headers. A consumer wrapped by steadyfn reads them back
 * into its `ctx.traceparent`.
 */
import { parseTraceparent, parseTracestate } from './traceparent.js';

/** Anything that carries a trace context: a `ctx`, an outbox envelope. */
export interface TraceCarrier {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** An SQS / SNS message attribute of type `String`. */
export interface StringMessageAttribute {
  DataType: 'String';
  StringValue: string;
}

/**
 * Message attributes for `SendMessage` / `SendMessageBatch` entries (and SNS `Publish`):
 * `traceparent`, and `tracestate` when there is one — two of the 10 attributes SQS allows a
 * message. Merge them with your own: `{ ...yours, ...traceAttributes(ctx) }`. An invalid or
 * missing `traceparent` gives `{}` (nothing wrong is sent).
 *
 * @example
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes: traceAttributes(ctx) }));
 * // MessageAttributes: { traceparent: { DataType: 'String', StringValue: '00-4bf9…-01' } }
 */
export function traceAttributes(carrier: TraceCarrier): Record<string, StringMessageAttribute> {
  const headers = traceHeaders(carrier);
  const out: Record<string, StringMessageAttribute> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = { DataType: 'String', StringValue: value };
  return out;
}

/**
 * W3C Trace Context headers for an outgoing HTTP request (or a Kafka record, a Pub/Sub or
 * Service Bus message's string properties): `{ traceparent, tracestate? }`; `{}` when the
 * carrier has no valid `traceparent`.
 *
 * @example
 * await fetch(url, { headers: { ...traceHeaders(ctx), 'content-type': 'application/json' } });
 */
export function traceHeaders(carrier: TraceCarrier): { traceparent?: string; tracestate?: string } {
  const parsed = parseTraceparent(carrier.traceparent);
  if (!parsed) return {};
  const tracestate = parseTracestate(carrier.tracestate);
  return tracestate === undefined ? { traceparent: parsed.text } : { traceparent: parsed.text, tracestate };
}
