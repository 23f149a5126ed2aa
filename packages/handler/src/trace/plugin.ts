/**
 * `tracing({ tracer })`: one OpenTelemetry span per invocation — per message in a batch, with
 * one more span for the batch — as a child of the trace context the invocation came with,
 * with semantic-convention attributes and a status from the outcome. `ctx.traceparent`
 * becomes the span's context, so everything the function sends (outbox events, messages
 * through `traceAttributes(ctx)`) continues the trace under this span.
 *
 *   parent of an invocation span   the active span when there is one (e.g. the OpenTelemetry
 *                                  Lambda layer's), else the trace the invocation came with,
 *                                  else none (a new trace)
 *   batch span                     `process <queue>` from `beforeBatch` to `afterBatch`, linked
 *                                  to every message's span; each message span still continues
 *                                  its own producer's trace
 */
import { receivedTrace } from '../context.js';
import { invalidOption } from '../internal/options.js';
import type { Context, Outcome, Plugin } from '../types.js';
import { isHttpResponse } from '../response.js';
import {
  SPAN_KIND,
  SPAN_STATUS,
  activeContext,
  remoteSpanContext,
  runActive,
  spanIn,
  traceparentOf,
  withParent,
  withSpan,
  type Attributes,
  type LinkLike,
  type SpanLike,
  type TracerLike,
} from './otel.js';
import { destinationOf, invocationAttributes, isMessaging, spanKindOf, spanNameOf } from './semconv.js';

/** Options of `tracing()`. */
export interface TracingOptions {
  /** The tracer to make spans with: `trace.getTracer('orders')` from `@opentelemetry/api`. Required. */
  tracer: TracerLike;
  /**
   * Make the invocation's span the active one while the function runs, so spans the function
   * (or an instrumentation it uses) starts are its children. Needs a context manager
   * registered by your OpenTelemetry SDK (the Node SDK registers one).
   * @default true
   */
  activate?: boolean;
}

/** The plugin's state for one invocation. Opaque to users. */
export interface TracingState {
  span: SpanLike | undefined;
  /** The batch's span, kept by the first message's state. */
  batch: SpanLike | undefined;
}

function statusCodeOf(result: unknown): number | undefined {
  if (isHttpResponse(result)) return result.status;
  // A Lambda proxy result (the handler's result under middy).
  const status = (result as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function startInvocationSpan(tracer: TracerLike, ctx: Context): SpanLike {
  let parent = activeContext();
  if (!spanIn(parent)) {
    const received = receivedTrace(ctx);
    const remote = received ? remoteSpanContext(received.traceparent) : undefined;
    if (remote) parent = withParent(parent, remote);
  }
  return tracer.startSpan(spanNameOf(ctx), { kind: spanKindOf(ctx.trigger), attributes: invocationAttributes(ctx) }, parent);
}

function endWith(span: SpanLike, ctx: Context, outcome: Outcome): void {
  if (outcome.ok) {
    const status = ctx.trigger.kind === 'http' ? statusCodeOf(outcome.value) : undefined;
    if (status !== undefined) {
      span.setAttribute('http.response.status_code', status);
      // A server span is in error for a 5xx only (4xx is the client's).
      if (status >= 500) span.setStatus({ code: SPAN_STATUS.ERROR });
    }
  } else {
    const error = outcome.error;
    // The code, never the message: messages may carry values (a driver's, a payload's).
    span.setAttribute('error.type', error.code);
    if (ctx.trigger.kind === 'http') span.setAttribute('http.response.status_code', error.status);
    if (ctx.trigger.kind !== 'http' || error.status >= 500) span.setStatus({ code: SPAN_STATUS.ERROR, message: error.code });
  }
  span.end();
}

/**
 * The tracing plugin. Put it first in `use`, so its span covers the other plugins' hooks.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `tracer` has no `startSpan`.
 * @example
 * import { trace } from '@opentelemetry/api';
 * export const main = handler({ use: [tracing({ tracer: trace.getTracer('orders') }), idempotency(...)] }, fn);
 */
export function tracing(options: TracingOptions): Plugin<{}, TracingState> {
  if (typeof options !== 'object' || options === null) invalidOption('tracing', 'options', 'an options object', options);
  const tracer = options.tracer;
  if (typeof (tracer as Partial<TracerLike> | undefined)?.startSpan !== 'function') {
    invalidOption('tracing', 'tracer', "an OpenTelemetry Tracer (trace.getTracer('name'))", tracer);
  }
  if (options.activate !== undefined && typeof options.activate !== 'boolean') invalidOption('tracing', 'activate', 'a boolean', options.activate);
  const activate = options.activate ?? true;

  const plugin: Plugin<{}, TracingState> = {
    name: 'tracing',
    state: () => ({ span: undefined, batch: undefined }),
    extend(ctx, state) {
      const span = startInvocationSpan(tracer, ctx);
      state.span = span;
      const traceparent = traceparentOf(span);
      // A no-op tracer (no SDK registered) gives an invalid context: keep the one we have.
      if (traceparent) ctx.traceparent = traceparent;
      return {};
    },
    beforeBatch(ctxs, states) {
      const first = ctxs[0];
      if (!first || !states[0]) return;
      const links: LinkLike[] = [];
      for (const state of states) if (state?.span) links.push({ context: state.span.spanContext() });
      const trigger = first.trigger;
      const name = isMessaging(trigger) ? `process ${destinationOf(trigger) || trigger.source}` : `${first.functionName} batch`;
      const attributes: Attributes = { ...invocationAttributes(first), 'messaging.batch.message_count': ctxs.length };
      delete attributes['messaging.message.id'];
      delete attributes['steadyfn.delivery_id'];
      delete attributes['faas.invocation_id'];
      states[0].batch = tracer.startSpan(name, { kind: SPAN_KIND.CONSUMER, attributes, links }, activeContext());
    },
    finally(ctx, outcome, state) {
      if (state.span) endWith(state.span, ctx, outcome);
    },
    afterBatch(_ctxs, outcomes, states) {
      const batch = states[0]?.batch;
      if (!batch) return;
      const failed = outcomes.filter((o) => !o.ok).length;
      batch.setAttribute('steadyfn.batch.failed', failed);
      if (failed > 0) batch.setStatus({ code: SPAN_STATUS.ERROR, message: `${failed} of ${outcomes.length} messages failed` });
      batch.end();
    },
  };
  if (activate) {
    plugin.wrap = (_ctx, next, state) => (state.span ? runActive(withSpan(activeContext(), state.span), next) : next());
  }
  return plugin;
}
