/**
 * What an invocation contributes to the envelopes it records: correlation and causation ids,
 * a W3C `traceparent`, and caller context copied from an explicit allow-list.
 *
 *   consumed outbox event   correlationId = its correlationId (or its id), causationId = its id
 *   HTTP                    correlationId = `x-correlation-id` header, else the request id; causationId = request id
 *   queue / event / tick    correlationId = the `correlationId` attribute, else the delivery id; causationId = delivery id
 */
import { randomBytes } from 'node:crypto';
import type { Context } from '@steadyfn/handler';
import { isRecord } from '@steadyfn/handler/internal';
import type { CallerContext, EnvelopeMeta, EventEnvelope } from './envelope.js';

/** W3C Trace Context `traceparent` (version 00): https://www.w3.org/TR/trace-context/#traceparent-header */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ID_TOKEN = /^[\x21-\x7e]{1,128}$/;

/**
 * A `traceparent` for work caused by `incoming`: the same trace id and flags with a new
 * parent id, or a new trace when `incoming` is absent or invalid (all-zero ids are invalid).
 */
export function childTraceparent(incoming: string | undefined): string {
  const match = incoming === undefined ? null : TRACEPARENT.exec(incoming.trim().toLowerCase());
  const spanId = randomBytes(8).toString('hex');
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) return `00-${match[1]}-${spanId}-${match[3]}`;
  return `00-${randomBytes(16).toString('hex')}-${spanId}-01`;
}

/** Options for caller context. */
export interface CallerContextOptions {
  /** Field names that may be copied into `context` of each envelope. Anything else is dropped. */
  allow: ReadonlyArray<string>;
  /** Where the fields come from, e.g. `(ctx) => ctx.session`. Only allow-listed, primitive values are copied. */
  from: (ctx: Context) => unknown;
}

/** Copies the allow-listed primitive fields of `source`; objects, arrays and other fields never pass. */
export function pickContext(source: unknown, allow: ReadonlyArray<string>): CallerContext | undefined {
  if (!isRecord(source)) return undefined;
  const out: CallerContext = {};
  for (const name of allow) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name] = value;
    else if (typeof value === 'string') out[name] = value.length > 1024 ? value.slice(0, 1024) : value;
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
  let incomingTrace: string | undefined;
  if (consumed) {
    correlationId = consumed.correlationId ?? consumed.id;
    causationId = consumed.id;
    incomingTrace = consumed.traceparent;
  } else if (trigger.kind === 'http') {
    correlationId = token(trigger.request.headers['x-correlation-id']) ?? ctx.requestId;
    causationId = ctx.requestId;
    incomingTrace = trigger.request.headers.traceparent;
  } else {
    const attributes = trigger.kind === 'queue' ? trigger.attributes : {};
    causationId = ctx.deliveryId ?? ctx.requestId;
    correlationId = token(attributes.correlationId) ?? causationId;
    incomingTrace = attributes.traceparent;
  }
  const meta: EnvelopeMeta = { correlationId, causationId, traceparent: childTraceparent(incomingTrace) };
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
