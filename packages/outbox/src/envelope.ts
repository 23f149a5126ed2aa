/**
 * The event envelope: what the outbox stores, the relay sends as the SQS message body, the
 * inbox reads and `@steadyfn/backup` archives. One JSON object, documented field by field in
 * the README; `schemaVersion` versions the payload, `ENVELOPE_VERSION` this shape.
 */
import { v7 as uuidv7 } from 'uuid';
import { checkKnownKeys, invalidOption, isRecord, isZod4Schema, keysOf, maskedPath, toFieldIssues } from '@steadyfn/handler/internal';
import { EventInvalidError } from './errors.js';
import { changedByJson, droppedByJson } from './json-fidelity.js';
import { findInvalidCharacter, stringifyForSqs } from './sqs/chars.js';

/** Version of the envelope shape itself (not of any payload). Sent as the `outbox-envelope` message attribute. */
export const ENVELOPE_VERSION = 1;

/** The kind of change an event records, after Hasura's `op`: the row was inserted, updated, deleted, or the event was raised by hand. */
export type ChangeOp = 'insert' | 'update' | 'delete' | 'manual';

/**
 * The changed record, when the author includes it (`after` is what `@steadyfn/backup` restores to
 * a point in time). `before` and `after` must be plain JSON: a value `JSON.stringify` would change
 * (a BSON ObjectId or Long, a Date, a Map, a class instance) is refused with `OUTBOX_EVENT_INVALID`
 * naming its path. For a MongoDB document pass its Extended JSON, `EJSON.serialize(doc)` (`EJSON`
 * of `bson`, `BSON.EJSON` of `mongodb`), so the restore gets the ObjectId and Date back.
 */
export interface EventChange {
  op: ChangeOp;
  /** The record before the change (absent for an insert); plain JSON or Extended JSON. */
  before?: unknown;
  /** The record after the change (absent for a delete); plain JSON or Extended JSON. */
  after?: unknown;
}

/** Caller context copied from an explicit allow-list: flat, primitive values only. */
export type CallerContext = Record<string, string | number | boolean | null>;

/**
 * One outbox event.
 *
 * @example
 * {
 *   "id": "019a4c1e-7b2f-7c31-9d55-2f0e8a1b3c4d", "type": "OrderPaid",
 *   "aggregateType": "order", "aggregateId": "o-42", "seq": 3,
 *   "payload": { "amountCents": 1299 }, "occurredAt": "2025-11-30T11:27:03.512Z",
 *   "schemaVersion": 1, "correlationId": "c-1", "causationId": "m-9",
 *   "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 * }
 */
export interface EventEnvelope<Type extends string = string, Payload = unknown> {
  /** UUIDv7 (RFC 9562): unique, stable across every retry and redelivery, time-ordered. Also the FIFO deduplication id and the inbox key. */
  id: string;
  /** The event type, e.g. `OrderPaid`. */
  type: Type;
  /** The kind of aggregate, e.g. `order`. */
  aggregateType: string;
  /** The aggregate's id. With `aggregateType` it makes the FIFO `MessageGroupId`, `aggregateType/aggregateId` (hashed when not a valid group id): aggregates of two types sharing an id are in separate groups. */
  aggregateId: string;
  /** Per aggregate (type + id), strictly increasing from 1 with no gaps, assigned inside the atomic write. */
  seq: number;
  /** The event's data, validated by the zod schema declared for `type`. */
  payload: Payload;
  /** When the atomic write was prepared: ISO 8601 UTC with milliseconds. */
  occurredAt: string;
  /** Version of `payload`'s schema, from the declaration (default 1). */
  schemaVersion: number;
  /** Ties together everything one original request caused. */
  correlationId?: string;
  /** The message, event or request that directly caused this event. */
  causationId?: string;
  /** W3C Trace Context `traceparent` of the invocation that recorded the event. */
  traceparent?: string;
  /** The changed record (`op`, `before`, `after`), when the author includes it. */
  change?: EventChange;
  /** Related data the author joins in (e.g. the customer of an order). */
  related?: Record<string, unknown>;
  /** Caller context from the `callerContext` allow-list (never whole sessions). */
  context?: CallerContext;
}

/** A zod-compatible schema: anything with `safeParse` (every zod schema). Must be synchronous (no async refinements). */
export interface PayloadSchema<T = unknown> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** How one event type is declared: its aggregate type, payload schema and schema version. */
export interface EventDeclaration<P = unknown> {
  /** The aggregate type every event of this type belongs to, e.g. `order`. */
  aggregateType: string;
  /** zod schema of `payload`. */
  schema: PayloadSchema<P>;
  /**
   * Version of the payload schema: an integer from 1 to {@link MAX_SCHEMA_VERSION} (2^31 − 1, a
   * CloudEvents Integer, carried as `schemaversion`). @default 1
   */
  schemaVersion?: number;
}

/** The event types a function may record, by type name. */
export type EventDeclarations = Record<string, EventDeclaration<any>>;

/** The payload type of declared event `T`. */
export type PayloadOf<D extends EventDeclarations, T extends keyof D> = D[T] extends EventDeclaration<infer P> ? P : never;

/** What the function hands to `ctx.outbox.add`: the envelope less what the outbox fills in. */
export type EventDraft<D extends EventDeclarations = EventDeclarations> = {
  [T in keyof D & string]: {
    type: T;
    aggregateId: string;
    payload: PayloadOf<D, T>;
    change?: EventChange;
    related?: Record<string, unknown>;
  };
}[keyof D & string];

/** What the invocation contributes to each envelope (see `context.ts`). */
export interface EnvelopeMeta {
  correlationId?: string | undefined;
  causationId?: string | undefined;
  traceparent?: string | undefined;
  context?: CallerContext | undefined;
}

/** An event prepared for the atomic write: everything but `seq`, which the store assigns. */
export type PendingEvent = Omit<EventEnvelope, 'seq'>;

/**
 * Identifies an aggregate across the outbox: `<aggregateType>/<aggregateId>`. Per-aggregate
 * order, `seq`, leases and quarantine are all scoped by it.
 */
export function aggregateKey(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}/${aggregateId}`;
}

/** Longest `aggregateId`, `type` and ids we accept (they travel in attributes and keys). */
export const MAX_ID_LENGTH = 256;
/** An aggregate type name: 1-64 characters of A-Z a-z 0-9 . _ - (declarations, envelopes, the embedded store's `aggregateType`). */
export const AGGREGATE_TYPE = /^[A-Za-z0-9._-]{1,64}$/;
const TYPE_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

function invalid(field: string, message: string, expected: string): never {
  throw new EventInvalidError(`outbox: event field "${field}" ${message}`, { issues: [{ field, message, expected }] });
}

/**
 * The largest `schemaVersion`: 2^31 − 1. CloudEvents carries it as the `schemaversion` extension,
 * an Integer — a 32-bit signed one — so a larger version could not cross to a CloudEvents consumer.
 */
export const MAX_SCHEMA_VERSION = 2 ** 31 - 1;

/** Whether `v` is a schema version: an integer from 1 to {@link MAX_SCHEMA_VERSION}. */
const validSchemaVersion = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SCHEMA_VERSION;

/**
 * Checks a declaration table once, when the outbox is configured.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`, field `events.<Type>[.schema|.aggregateType|.schemaVersion]`, or the path of an unknown key).
 */
const DECLARATION_KEYS = keysOf<EventDeclaration>({ aggregateType: true, schema: true, schemaVersion: true });

export function checkDeclarations(owner: string, declarations: EventDeclarations): void {
  for (const [type, decl] of Object.entries(declarations)) {
    if (!TYPE_NAME.test(type)) invalidOption(owner, `events.${type}`, 'declared under an event type name of 1-128 characters of A-Z a-z 0-9 . _ : -', type);
    if (!isRecord(decl)) invalidOption(owner, `events.${type}`, 'a declaration { aggregateType, schema, schemaVersion? }', decl);
    checkKnownKeys(owner, `events.${type}`, decl, DECLARATION_KEYS);
    if (typeof decl.schema?.safeParse !== 'function') invalidOption(owner, `events.${type}.schema`, 'a zod schema', decl.schema);
    if (typeof decl.aggregateType !== 'string' || !AGGREGATE_TYPE.test(decl.aggregateType)) {
      invalidOption(owner, `events.${type}.aggregateType`, 'an aggregate type name of 1-64 characters of A-Z a-z 0-9 . _ -', decl.aggregateType);
    }
    if (decl.schemaVersion !== undefined && !validSchemaVersion(decl.schemaVersion)) {
      invalidOption(owner, `events.${type}.schemaVersion`, `an integer from 1 to ${MAX_SCHEMA_VERSION} (a CloudEvents Integer)`, decl.schemaVersion);
    }
  }
}

/**
 * A valid aggregate id: 1-256 characters, no control characters, and only characters SQS
 * carries in an attribute (the `steadyfn.aggregate` attribute repeats it, and no encoding can
 * rescue an attribute): no U+FFFE, U+FFFF or lone surrogate (which Redis and BSON would also
 * turn into U+FFFD, changing the aggregate's identity on the way).
 */
export function checkAggregateId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id) || findInvalidCharacter(id) !== undefined) {
    invalid('aggregateId', 'must be a string of 1-256 characters without control characters, U+FFFE, U+FFFF or lone surrogates', 'a string of 1-256 characters SQS accepts');
  }
  return id;
}

/**
 * Validates a draft against its declaration and fills in id (UUIDv7), occurredAt,
 * schemaVersion and the invocation's metadata. `seq` is left to the atomic write.
 *
 * @throws EventInvalidError for an undeclared type, a bad aggregate id, a payload the schema refuses (field
 *   `payload.<path>`, a key the caller chose in a `z.record()`/`z.map()`/`.catchall()` written `*`),
 *   a payload that is `undefined` after parsing or that `JSON.stringify` leaves out (a function, a symbol,
 *   an object whose `toJSON()` gives one of them: the envelope could not carry it), or a key of the
 *   draft (or of `change`) the outbox does not read — `correlationId` and the other fields it fills in included;
 *   or a `change.before`/`change.after` holding a value JSON would change (a BSON type such as ObjectId, a Date,
 *   a Map, any non-plain object: field = its path, e.g. `change.after._id`; pass `EJSON.serialize(doc)`).
 */
export function prepareEvent(declarations: EventDeclarations, draft: EventDraft, meta: EnvelopeMeta, now: number = Date.now()): PendingEvent {
  if (!isRecord(draft)) invalid('', 'must be an object', 'an event draft');
  checkDraftKeys(draft, DRAFT_KEYS, '');
  const decl = Object.hasOwn(declarations, draft.type) ? declarations[draft.type] : undefined;
  if (!decl) invalid('type', `${JSON.stringify(String(draft.type)).slice(0, 80)} is not declared in the outbox's events`, 'a declared event type');
  const aggregateId = checkAggregateId(draft.aggregateId);
  const parsed = decl.schema.safeParse(draft.payload);
  if (!parsed.success) {
    // A key the caller chose (of a z.record(), a z.map(), a .catchall()) is payload, not schema:
    // its segment is `*`, as in the handler's validation (an email address as a key is not logged).
    const schema = decl.schema;
    const issues = isZod4Schema(schema) ? parsed.error.issues.map((issue) => ({ ...issue, path: maskedPath(schema, issue.path) })) : parsed.error.issues;
    throw new EventInvalidError(`outbox: payload of ${draft.type} does not match its schema`, { issues: toFieldIssues(issues, 'payload') });
  }
  // JSON.stringify drops a property whose value it turns into nothing: the envelope would go
  // out without `payload`, which every consumer (parseEnvelope) refuses. `null` or `{}` says "no data".
  if (parsed.data === undefined) invalid('payload', `of ${draft.type} is undefined, which JSON cannot carry (use null or {})`, 'a JSON value');
  const dropped = droppedByJson(parsed.data);
  if (dropped !== undefined) invalid('payload', `of ${draft.type} is ${dropped}, which JSON.stringify leaves out (use null or {})`, 'a JSON value');
  const event: PendingEvent = {
    id: uuidv7({ msecs: now }),
    type: draft.type,
    aggregateType: decl.aggregateType,
    aggregateId,
    payload: parsed.data,
    occurredAt: new Date(now).toISOString(),
    schemaVersion: decl.schemaVersion ?? 1,
  };
  if (meta.correlationId !== undefined) event.correlationId = meta.correlationId;
  if (meta.causationId !== undefined) event.causationId = meta.causationId;
  if (meta.traceparent !== undefined) event.traceparent = meta.traceparent;
  if (draft.change !== undefined) event.change = checkChange(draft.change);
  if (draft.related !== undefined) {
    if (!isRecord(draft.related)) invalid('related', 'must be an object', 'an object');
    event.related = draft.related;
  }
  if (meta.context !== undefined && Object.keys(meta.context).length > 0) event.context = meta.context;
  return event;
}

const OPS: ReadonlySet<string> = new Set<ChangeOp>(['insert', 'update', 'delete', 'manual']);

/** The keys a draft may hold; the envelope's other fields the outbox fills in itself. */
const DRAFT_KEYS: ReadonlySet<string> = new Set(['type', 'aggregateId', 'payload', 'change', 'related']);
const CHANGE_KEYS: ReadonlySet<string> = new Set(['op', 'before', 'after']);

/**
 * Refuses a key the outbox would drop without a word (a typo, or an envelope field it fills in
 * itself such as `correlationId`); a key holding `undefined` passes, as in options.
 */
function checkDraftKeys(value: Record<string, unknown>, known: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(value)) {
    if (known.has(key) || value[key] === undefined) continue;
    const field = `${path}${key}`;
    const filled = path === '' && ENVELOPE_KEYS.has(key);
    invalid(field, filled ? 'is filled in by the outbox, not by the draft' : 'is not a field the outbox reads', `only ${[...known].join(', ')}`);
  }
}

/** Envelope fields the outbox fills in (a draft that sets one would lose it). */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['id', 'aggregateType', 'seq', 'occurredAt', 'schemaVersion', 'correlationId', 'causationId', 'traceparent', 'context']);

function checkChange(change: EventChange): EventChange {
  if (!isRecord(change) || !OPS.has(change.op as string)) invalid('change.op', 'must be "insert", "update", "delete" or "manual"', 'a change op');
  checkDraftKeys(change as unknown as Record<string, unknown>, CHANGE_KEYS, 'change.');
  const out: EventChange = { op: change.op };
  if (change.before !== undefined) out.before = checkImage(change.before, 'change.before');
  if (change.after !== undefined) out.after = checkImage(change.after, 'change.after');
  return out;
}

/** Where the refusal of an image points: plain JSON, or Extended JSON for a MongoDB document. */
const IMAGE_EXPECTED = 'plain JSON (objects, arrays, strings, finite numbers, booleans, null); for a MongoDB document, EJSON.serialize(doc) (EJSON of bson, BSON.EJSON of mongodb)';

/**
 * A `before`/`after` image as the envelope will carry it: one JSON would change (an ObjectId
 * written as hex, a Date as an ISO string) is refused, since `@steadyfn/backup` would restore
 * it with the types lost, beside the original document rather than over it.
 */
function checkImage(image: unknown, field: 'change.before' | 'change.after'): unknown {
  const changed = changedByJson(image, field);
  if (changed !== undefined) invalid(changed.path, `is ${changed.found}, which JSON.stringify would change or leave out`, IMAGE_EXPECTED);
  return image;
}

/**
 * The envelope as stored and sent: JSON text with `seq` in place. Fails clearly for a
 * payload JSON cannot carry (a BigInt, a cycle) rather than storing something else.
 *
 * @throws EventInvalidError when the event is not JSON-serialisable.
 */
export function serializeEvent(event: PendingEvent, seq: number): string {
  const envelope: EventEnvelope = { ...event, seq };
  try {
    // Escaped so every body is one SQS accepts as it is (sqs/chars.ts has the rule).
    return stringifyForSqs(orderedEnvelope(envelope));
  } catch (error) {
    throw new EventInvalidError(`outbox: event ${event.type} cannot be serialised as JSON`, { cause: error });
  }
}

/** Key order fixed so stored bytes are stable and readable: identity first, data after. */
function orderedEnvelope(e: EventEnvelope): EventEnvelope {
  const out: EventEnvelope = {
    id: e.id,
    type: e.type,
    aggregateType: e.aggregateType,
    aggregateId: e.aggregateId,
    seq: e.seq,
    payload: e.payload,
    occurredAt: e.occurredAt,
    schemaVersion: e.schemaVersion,
  };
  if (e.correlationId !== undefined) out.correlationId = e.correlationId;
  if (e.causationId !== undefined) out.causationId = e.causationId;
  if (e.traceparent !== undefined) out.traceparent = e.traceparent;
  if (e.change !== undefined) out.change = e.change;
  if (e.related !== undefined) out.related = e.related;
  if (e.context !== undefined) out.context = e.context;
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/;

/**
 * Whether `text` is an ISO 8601 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) naming a real
 * instant: month 1–12, a day the month has (29 February only in a leap year), hour 0–23,
 * minute and second 0–59 — the fields a `Date` gives back unchanged (`2025-13-45T99:99:99Z` has
 * the shape, not a date).
 */
function isUtcTime(text: string): boolean {
  const m = ISO_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * Reads an envelope from outside (an SQS body, an archived line). Returns it, or a reason
 * it is not one; never throws.
 */
export function parseEnvelope(value: unknown): { ok: true; event: EventEnvelope } | { ok: false; reason: string } {
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch {
      return { ok: false, reason: 'body is not JSON' };
    }
  }
  if (!isRecord(data)) return { ok: false, reason: 'not an object' };
  const e = data as Record<string, unknown>;
  if (typeof e.id !== 'string' || !UUID.test(e.id)) return { ok: false, reason: 'id is not a UUID' };
  if (typeof e.type !== 'string' || !TYPE_NAME.test(e.type)) return { ok: false, reason: 'type is missing or invalid' };
  if (typeof e.aggregateType !== 'string' || !AGGREGATE_TYPE.test(e.aggregateType)) return { ok: false, reason: 'aggregateType is missing or invalid' };
  if (typeof e.aggregateId !== 'string' || e.aggregateId.length === 0 || e.aggregateId.length > MAX_ID_LENGTH) return { ok: false, reason: 'aggregateId is missing or invalid' };
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return { ok: false, reason: 'seq is not a positive integer' };
  if (!('payload' in e)) return { ok: false, reason: 'payload is missing' };
  if (typeof e.occurredAt !== 'string' || !isUtcTime(e.occurredAt)) return { ok: false, reason: 'occurredAt is not an ISO 8601 UTC time of a real date' };
  if (!validSchemaVersion(e.schemaVersion)) return { ok: false, reason: `schemaVersion is not an integer from 1 to ${MAX_SCHEMA_VERSION}` };
  for (const field of ['correlationId', 'causationId', 'traceparent'] as const) {
    if (e[field] !== undefined && typeof e[field] !== 'string') return { ok: false, reason: `${field} is not a string` };
  }
  if (e.change !== undefined && (!isRecord(e.change) || !OPS.has(e.change.op as string))) return { ok: false, reason: 'change.op is invalid' };
  if (e.related !== undefined && !isRecord(e.related)) return { ok: false, reason: 'related is not an object' };
  if (e.context !== undefined && !isRecord(e.context)) return { ok: false, reason: 'context is not an object' };
  return { ok: true, event: e as unknown as EventEnvelope };
}
