/**
 * The parts of the OpenTelemetry JavaScript API (`@opentelemetry/api` 1.x) the tracing plugin
 * uses, typed structurally so the package has no dependency on it. Two of the API's own
 * cross-copy contracts let us work with whichever copy the user loaded:
 *
 * - context keys are `Symbol.for(description)`, so a span put in a context under
 *   `Symbol.for('OpenTelemetry Context Key SPAN')` is the span every copy's `trace.getSpan`
 *   reads (that is how two installed copies of the API interoperate);
 * - the registered globals (context manager, tracer provider) live on `globalThis` under
 *   `Symbol.for('opentelemetry.js.api.1')`, so the context manager the user's SDK registered
 *   (e.g. `AsyncLocalStorageContextManager`) is found there, and the invocation's span can be
 *   made the active one while the function runs.
 *
 * https://github.com/open-telemetry/opentelemetry-js/tree/main/api
 */
import { parseTraceparent } from './traceparent.js';

/** `SpanKind` of the API: SERVER for an HTTP invocation, CONSUMER for a message, INTERNAL otherwise. */
export const SPAN_KIND = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
/** `SpanStatusCode` of the API. */
export const SPAN_STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** An attribute value as the API takes it. */
export type AttributeValue = string | number | boolean | Array<null | undefined | string> | Array<null | undefined | number> | Array<null | undefined | boolean>;
export type Attributes = Record<string, AttributeValue | undefined>;

/** `SpanContext`: ids as lower-case hex, `traceFlags` bit 0 = sampled. */
export interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: unknown;
}

/** `Context`: an immutable map the API's `with`, `getSpan` and samplers read. */
export interface ContextLike {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): ContextLike;
  deleteValue(key: symbol): ContextLike;
}

/** A `Link` to another span's context. */
export interface LinkLike {
  context: SpanContextLike;
  attributes?: Attributes;
}

/** `SpanOptions`. */
export interface SpanOptionsLike {
  kind?: number;
  attributes?: Attributes;
  links?: LinkLike[];
  root?: boolean;
}

/** The `Span` members the plugin calls. */
export interface SpanLike {
  spanContext(): SpanContextLike;
  setAttribute(key: string, value: AttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(endTime?: number): void;
}

/** A `Tracer`, e.g. `trace.getTracer('orders')` from `@opentelemetry/api`. */
export interface TracerLike {
  startSpan(name: string, options?: SpanOptionsLike, context?: ContextLike): SpanLike;
}

/** The `ContextManager` an SDK registers. */
interface ContextManagerLike {
  active(): ContextLike;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: ContextLike, fn: F, thisArg?: unknown, ...args: A): ReturnType<F>;
}

const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** An immutable context of our own, for when no context manager is registered (the API's root context behaves the same). */
class PlainContext implements ContextLike {
  constructor(private readonly values: ReadonlyMap<symbol, unknown> = new Map()) {}
  getValue(key: symbol): unknown {
    return this.values.get(key);
  }
  setValue(key: symbol, value: unknown): ContextLike {
    return new PlainContext(new Map(this.values).set(key, value));
  }
  deleteValue(key: symbol): ContextLike {
    const next = new Map(this.values);
    next.delete(key);
    return new PlainContext(next);
  }
}

function contextManager(): ContextManagerLike | undefined {
  const api = (globalThis as Record<symbol, { context?: Partial<ContextManagerLike> } | undefined>)[API_GLOBAL];
  const manager = api?.context;
  return manager && typeof manager.active === 'function' && typeof manager.with === 'function' ? (manager as ContextManagerLike) : undefined;
}

/** The active context of the registered context manager, or an empty one. */
export function activeContext(): ContextLike {
  return contextManager()?.active() ?? new PlainContext();
}

/** The span in `context`, when it holds a valid span context (e.g. the Lambda layer's invocation span). */
export function spanIn(context: ContextLike): SpanLike | undefined {
  const span = context.getValue(SPAN_KEY) as Partial<SpanLike> | undefined;
  if (!span || typeof span.spanContext !== 'function') return undefined;
  const sc = span.spanContext();
  return parseTraceparent(`00-${sc.traceId}-${sc.spanId}-01`) ? (span as SpanLike) : undefined;
}

/** A span context read from a `traceparent` (remote: it came from the caller). */
export function remoteSpanContext(traceparent: string): SpanContextLike | undefined {
  const parsed = parseTraceparent(traceparent);
  return parsed ? { traceId: parsed.traceId, spanId: parsed.parentId, traceFlags: parsed.flags, isRemote: true } : undefined;
}

/** `context` with a non-recording span for `parent` in it, as the API's `trace.setSpanContext` makes. */
export function withParent(context: ContextLike, parent: SpanContextLike): ContextLike {
  const span: SpanLike & { isRecording(): boolean } = {
    spanContext: () => parent,
    setAttribute: () => span,
    setStatus: () => span,
    end: () => undefined,
    isRecording: () => false,
  };
  return context.setValue(SPAN_KEY, span);
}

/** `context` with `span` as its span. */
export function withSpan(context: ContextLike, span: SpanLike): ContextLike {
  return context.setValue(SPAN_KEY, span);
}

/** Runs `fn` with `context` active (when a context manager is registered; else just runs it). */
export function runActive<T>(context: ContextLike, fn: () => T): T {
  const manager = contextManager();
  return manager ? manager.with(context, fn) : fn();
}

/** The `traceparent` of a span, or undefined when its context is not valid (a no-op tracer's span). */
export function traceparentOf(span: SpanLike): string | undefined {
  const sc = span.spanContext();
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  return parseTraceparent(`00-${sc.traceId}-${sc.spanId}-${flags}`)?.text;
}
