/**
 * The envelope as a CloudEvent (CloudEvents 1.0.2, structured JSON mode), and back.
 *
 * | envelope        | CloudEvent attribute                                   |
 * | --------------- | ------------------------------------------------------ |
 * | id              | `id`                                                   |
 * | type            | `type`                                                 |
 * | (option)        | `source` (a URI-reference naming the producer)         |
 * | aggregateId     | `subject`                                              |
 * | occurredAt      | `time`                                                 |
 * | payload         | `data` (`datacontenttype: application/json`)           |
 * | seq             | `sequence` (Sequence extension: decimal, zero-padded to 16 digits so text order is seq order) |
 * | aggregateType   | `aggregatetype` (extension)                            |
 * | schemaVersion   | `schemaversion` (extension, integer)                   |
 * | correlationId   | `correlationid` (extension)                            |
 * | causationId     | `causationid` (extension)                              |
 * | traceparent     | `traceparent` (Distributed Tracing extension)          |
 * | change, related, context | `outboxchange`, `outboxrelated`, `outboxcontext` (extensions: the object as JSON text) |
 *
 * A context attribute may only hold a type of the CloudEvents type system (Boolean, Integer,
 * String, Binary, URI, URI-reference, Timestamp; spec.md "Type System"): an object is not one,
 * and a conformant SDK (sdk-go's `types.Validate`) refuses it, so the three objects travel as
 * JSON text in a String. `fromCloudEvent` also reads the object form versions before 2026-12 wrote.
 * Specs: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md,
 * extensions/sequence.md, extensions/distributed-tracing.md.
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { parseEnvelope, type EventEnvelope } from './envelope.js';

/** A CloudEvent in structured JSON mode. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: unknown;
  sequence: string;
  aggregatetype: string;
  schemaversion: number;
  correlationid?: string;
  causationid?: string;
  traceparent?: string;
  /** The envelope's `change`, as JSON text. */
  outboxchange?: string;
  /** The envelope's `related`, as JSON text. */
  outboxrelated?: string;
  /** The envelope's `context`, as JSON text. */
  outboxcontext?: string;
}

const SEQ_DIGITS = 16;

/** A URI-reference's characters: RFC 3986 unreserved, reserved, and `%` escapes of two hex digits. */
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
/** A scheme (RFC 3986 §3.1): a letter, then letters, digits, `+`, `-`, `.`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/**
 * Whether `text` is a non-empty RFC 3986 URI-reference (a URI, or a relative reference such as
 * `/shop/orders`): only the characters RFC 3986 allows (no space, no control or non-ASCII
 * character: those must be `%`-escaped), every `%` followed by two hex digits, at most one `#`,
 * `[` and `]` only in the authority (an IP literal), and a `:` before the first `/`, `?` or `#`
 * only after a valid scheme (a relative reference's first segment has none).
 */
export function isUriReference(text: string): boolean {
  if (!URI_CHARACTERS.test(text) || text.indexOf('#') !== text.lastIndexOf('#')) return false;
  const head = /^[^/?#]*/.exec(text)![0];
  const colon = head.indexOf(':');
  if (colon >= 0 && !SCHEME.test(head.slice(0, colon))) return false;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  const authority = rest.startsWith('//') ? /^\/\/[^/?#]*/.exec(rest)![0] : '';
  return !/[[\]]/.test(rest.slice(authority.length)) && !/[[\]]/.test(head.slice(colon + 1));
}

/**
 * Maps an envelope to a CloudEvent.
 *
 * @param source - The CloudEvents `source`, e.g. `/steadyfn/orders` or `urn:app:orders`: a
 *   non-empty RFC 3986 URI-reference (required).
 * @throws ConfigurationError (`CONFIG_INVALID`, field `source`) when `source` is not a non-empty
 *   URI-reference ({@link isUriReference}: no space or other character RFC 3986 leaves out, every
 *   `%` followed by two hex digits).
 * @example toCloudEvent(event, { source: '/shop/orders' }).sequence // '0000000000000003'
 */
export function toCloudEvent(event: EventEnvelope, options: { source: string }): CloudEvent {
  if (typeof options?.source !== 'string' || !isUriReference(options.source)) invalidOption('toCloudEvent', 'source', 'a non-empty URI-reference naming the producer (CloudEvents `source`)', options?.source);
  const ce: CloudEvent = {
    specversion: '1.0',
    id: event.id,
    source: options.source,
    type: event.type,
    subject: event.aggregateId,
    time: event.occurredAt,
    datacontenttype: 'application/json',
    data: event.payload,
    sequence: String(event.seq).padStart(SEQ_DIGITS, '0'),
    aggregatetype: event.aggregateType,
    schemaversion: event.schemaVersion,
  };
  if (event.correlationId !== undefined) ce.correlationid = event.correlationId;
  if (event.causationId !== undefined) ce.causationid = event.causationId;
  if (event.traceparent !== undefined) ce.traceparent = event.traceparent;
  if (event.change !== undefined) ce.outboxchange = JSON.stringify(event.change);
  if (event.related !== undefined) ce.outboxrelated = JSON.stringify(event.related);
  if (event.context !== undefined) ce.outboxcontext = JSON.stringify(event.context);
  return ce;
}

/** Maps a CloudEvent made by `toCloudEvent` back to the envelope; a reason when it is not one. */
export function fromCloudEvent(ce: unknown): { ok: true; event: EventEnvelope } | { ok: false; reason: string } {
  if (typeof ce !== 'object' || ce === null) return { ok: false, reason: 'not an object' };
  const c = ce as Partial<CloudEvent>;
  if (c.specversion !== '1.0') return { ok: false, reason: 'specversion is not 1.0' };
  if (typeof c.sequence !== 'string' || !/^\d{1,20}$/.test(c.sequence)) return { ok: false, reason: 'sequence is not decimal' };
  const envelope: Record<string, unknown> = {
    id: c.id,
    type: c.type,
    aggregateType: c.aggregatetype,
    aggregateId: c.subject,
    seq: Number(c.sequence),
    payload: c.data,
    occurredAt: c.time,
    schemaVersion: c.schemaversion,
  };
  if (c.correlationid !== undefined) envelope.correlationId = c.correlationid;
  if (c.causationid !== undefined) envelope.causationId = c.causationid;
  if (c.traceparent !== undefined) envelope.traceparent = c.traceparent;
  for (const [attribute, field] of [['outboxchange', 'change'], ['outboxrelated', 'related'], ['outboxcontext', 'context']] as const) {
    const value = fromJsonText(c[attribute]);
    if (value === INVALID) return { ok: false, reason: `${attribute} is not JSON text` };
    if (value !== undefined) envelope[field] = value;
  }
  return parseEnvelope(envelope);
}

const INVALID = Symbol('invalid');

/** An extension's JSON text parsed; an object (the form older versions wrote) as it is. */
function fromJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return INVALID;
  }
}
