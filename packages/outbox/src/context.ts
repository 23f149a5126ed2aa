/**
 * What an invocation contributes to the envelopes it records: correlation and causation ids,
 * the invocation's W3C `traceparent` (`ctx.traceparent`: what the trigger carried — HTTP
 * header, message attribute, CloudEvents extension, X-Ray — or the `tracing()` plugin's span,
 * or a new trace), and caller context copied from an explicit allow-list.
 *
 *   consumed outbox event   correlationId = its correlationId (or its id), causationId = its id
 *   HTTP                    correlationId = `x-correlation-id` header, else the request id; causationId = request id
 *   queue / event / tick    correlationId = the `correlationId` attribute, else the delivery id; causationId = delivery id
 */
import type { Context } from '@steadyfn/handler';
import { cutAt, isRecord } from '@steadyfn/handler/internal';
import type { CallerContext, EnvelopeMeta, EventEnvelope } from './envelope.js';

const ID_TOKEN = /^[\x21-\x7e]{1,128}$/;

/** Options for caller context. */
export interface CallerContextOptions {
  /** Field names that may be copied into `context` of each envelope. Anything else is dropped. */
  allow: ReadonlyArray<string>;
  /** Where the fields come from, e.g. `(ctx) => ctx.session`. Only allow-listed, primitive values are copied. */
  from: (ctx: Context) => unknown;
}

/** Longest caller-context string, in UTF-16 code units; longer ones are cut. */
const MAX_CONTEXT_LENGTH = 1024;

/** Copies the allow-listed primitive fields of `source` (strings cut to 1,024 code units, whole characters); objects, arrays and other fields never pass. */
export function pickContext(source: unknown, allow: ReadonlyArray<string>): CallerContext | undefined {
  if (!isRecord(source)) return undefined;
  const out: CallerContext = {};
  for (const name of allow) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name] = value;
    else if (typeof value === 'string') out[name] = value.length > MAX_CONTEXT_LENGTH ? cutAt(value, MAX_CONTEXT_LENGTH) : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function token(value: unknown): string | undefined {
  return typeof value === 'string' && ID_TOKEN.test(value) ? value : undefined;
}

/**
 * The metadata this invocation stamps on its events. `consumed` is the outbox event being
 * handled, when the invocation is an inbox consumer.
 */
export function envelopeMeta(ctx: Context, consumed: EventEnvelope | undefined, caller: CallerContextOptions | undefined): EnvelopeMeta {
  const trigger = ctx.trigger;
  let correlationId: string | undefined;
  let causationId: string | undefined;
  if (consumed) {
    correlationId = consumed.correlationId ?? consumed.id;
    causationId = consumed.id;
  } else if (trigger.kind === 'http') {
    correlationId = token(trigger.request.headers['x-correlation-id']) ?? ctx.requestId;
    causationId = ctx.requestId;
  } else {
    const attributes = trigger.kind === 'queue' ? trigger.attributes : {};
    causationId = ctx.deliveryId ?? ctx.requestId;
    correlationId = token(attributes.correlationId) ?? causationId;
  }
  const meta: EnvelopeMeta = { correlationId, causationId, traceparent: ctx.traceparent };
  if (caller) {
    let source: unknown;
    try {
      source = caller.from(ctx);
    } catch {
      source = undefined;
    }
    const context = pickContext(source, caller.allow);
    if (context) meta.context = context;
  }
  return meta;
}
