/**
 * `@steadyfn/handler/tracing`: W3C Trace Context and OpenTelemetry spans.
 *
 * - `ctx.traceparent` / `ctx.tracestate` are on every ctx (read from the trigger, or a new
 *   trace); this entry adds what goes beyond them:
 * - `tracing({ tracer })`: a span per invocation (and per batch message) through the
 *   `@opentelemetry/api` tracer you pass — no dependency on it;
 * - `traceAttributes(ctx)` / `traceHeaders(ctx)`: the trace context on outgoing SQS/SNS
 *   messages and HTTP requests;
 * - the parsers, for code that reads trace context itself.
 *
 * @packageDocumentation
 */
export { tracing } from './trace/plugin.js';
export type { TracingOptions, TracingState } from './trace/plugin.js';
export type { TracerLike, SpanLike, SpanContextLike, SpanOptionsLike, ContextLike, LinkLike, Attributes, AttributeValue } from './trace/otel.js';
export { traceAttributes, traceHeaders } from './trace/carry.js';
export type { TraceCarrier, StringMessageAttribute } from './trace/carry.js';
export { parseTraceparent, parseTracestate, formatTraceparent, newTraceparent } from './trace/traceparent.js';
export type { TraceContext, Traceparent } from './trace/traceparent.js';
export { xrayToTraceparent } from './trace/xray.js';
