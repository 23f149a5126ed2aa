/**
 * Where an invocation's trace context comes from, per trigger, first found wins:
 *
 *   HTTP                  `traceparent` / `tracestate` headers (a repeated `traceparent` is
 *                         invalid); on AWS, else `X-Amzn-Trace-Id` (X-Ray, mapped)
 *   queue, stream,        `traceparent` / `tracestate` attributes: SQS string message
 *   notification          attributes, Pub/Sub attributes, Service Bus and Event Hubs
 *                         application properties, Kafka headers, SNS message attributes;
 *                         else `Diagnostic-Id` (the Azure SDKs' W3C traceparent property);
 *                         else `googclient_traceparent` (Pub/Sub client libraries)
 *   carried by the        the CloudEvents `traceparent` / `tracestate` extension (Distributed
 *   adapter               Tracing extension), OpenWhisk `traceparent` params; else SQS's
 *                         `AWSTraceHeader` system attribute (X-Ray, mapped)
 *
 * Only a valid `traceparent` counts; a `tracestate` is kept only beside the one it came with.
 */
import type { Provider, Trigger } from '../types.js';
import { parseTraceparent, parseTracestate, type TraceContext } from './traceparent.js';
import { xrayToTraceparent } from './xray.js';

/** Trace context an adapter read from the provider event outside the normalised trigger; raw values, checked when read. */
export interface CarriedTrace {
  traceparent?: unknown;
  tracestate?: unknown;
  /** An X-Ray trace header (SQS `AWSTraceHeader`). */
  xray?: unknown;
}

function pair(traceparent: unknown, tracestate: unknown): TraceContext | undefined {
  const parsed = parseTraceparent(traceparent);
  return parsed ? { traceparent: parsed.text, tracestate: parseTracestate(tracestate) } : undefined;
}

function fromAttributes(a: Record<string, string>): TraceContext | undefined {
  return (
    pair(a.traceparent, a.tracestate) ??
    pair(a['Diagnostic-Id'], a.tracestate) ??
    pair(a.googclient_traceparent, a.googclient_tracestate)
  );
}

/**
 * The trace context the invocation was called with, or undefined when it carries none (then
 * `ctx.traceparent` is a new trace).
 */
export function incomingTrace(trigger: Trigger, provider: Provider, carried: CarriedTrace | undefined): TraceContext | undefined {
  let found: TraceContext | undefined;
  switch (trigger.kind) {
    case 'http': {
      const request = trigger.request;
      const headers = request.headers;
      // The spec: more than one traceparent header is invalid.
      if ((request.multiHeaders?.traceparent?.length ?? 1) === 1) found = pair(headers.traceparent, headers.tracestate);
      if (!found && provider === 'aws') {
        const xray = xrayToTraceparent(headers['x-amzn-trace-id']);
        if (xray) found = { traceparent: xray, tracestate: undefined };
      }
      break;
    }
    case 'queue':
    case 'stream':
    case 'notification':
      found = fromAttributes(trigger.attributes);
      break;
    default:
      break;
  }
  if (found || !carried) return found;
  found = pair(carried.traceparent, carried.tracestate);
  if (found) return found;
  const xray = xrayToTraceparent(carried.xray);
  return xray ? { traceparent: xray, tracestate: undefined } : undefined;
}
