/**
 * What one embedded write is checked for before anything is sent (no server needed): the
 * filter's `_id`, the author's operators and fields, the events' document, and whether they fit
 * an empty document. The plugin runs these before it arms the watchdog, so a write refused
 * here sends nothing at all; `embeddedWrite` runs them again (it is called on its own too).
 */
import { aggregateKey, serializeEvent, type PendingEvent } from '../envelope.js';
import { EventInvalidError } from '../errors.js';
import { bsonSize, embeddedBytes } from '../stores/bson-size.js';
import { OUTBOX_FIELDS, isOutboxField, type EmbeddedEvent } from '../stores/mongo-shapes.js';
import type { EmbeddedLimits, EmbeddedUpdate } from './mongo-embedded.js';

/** Update operators an author's update may use (all run by FerretDB 1.24). */
export const EMBEDDED_OPERATORS = ['$set', '$unset', '$inc', '$min', '$max', '$mul', '$push', '$addToSet', '$pop', '$pullAll', '$currentDate', '$setOnInsert', '$rename'] as const;

function checkAuthorUpdate(update: Record<string, unknown>): void {
  for (const [op, fields] of Object.entries(update)) {
    if (!(EMBEDDED_OPERATORS as readonly string[]).includes(op)) {
      throw new EventInvalidError(`outbox: update operator ${JSON.stringify(op)} is not supported in embedded mode (use ${EMBEDDED_OPERATORS.join(', ')})`, { issues: [{ field: `update.${op}`, message: 'unsupported operator' }] });
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new EventInvalidError(`outbox: update operator ${op} must map field paths to values`, { issues: [{ field: `update.${op}`, message: 'must be an object of field paths' }] });
    }
    for (const [field, value] of Object.entries(fields)) {
      // `$rename` writes where its value points: that path may not be the outbox's either.
      const owned = isOutboxField(field) || (op === '$rename' && typeof value === 'string' && isOutboxField(value));
      if (owned) throw new EventInvalidError(`outbox: the update may not touch ${op === '$rename' ? `${field} → ${String(value)}` : field}: the outbox owns ${OUTBOX_FIELDS.join(', ')}`, { issues: [{ field: `update.${op}.${field}`, message: 'owned by the outbox' }] });
    }
  }
}

/** The events as the document stores them, numbered from `base + 1`. */
export function embeddedEvents(events: ReadonlyArray<PendingEvent>, base: number, now: Date): EmbeddedEvent[] {
  return events.map((e, i) => ({ i: e.id, s: base + i + 1, t: e.type, e: serializeEvent(e, base + i + 1), c: now, ...(e.traceparent ? { p: e.traceparent } : {}) }));
}

/** More than a drained document takes: waiting cannot help, so not the retryable "full". */
export function refuseOversized(count: number, bytes: number, limits: EmbeddedLimits): void {
  if (count <= limits.maxPendingEvents && bytes <= limits.maxPendingBytes) return;
  throw new EventInvalidError(`outbox: this update's ${count} event(s) of ${bytes} bytes exceed what one document holds (maxPendingEvents ${limits.maxPendingEvents}, maxPendingBytes ${limits.maxPendingBytes}); nothing was written`, {
    issues: [{ field: 'events', message: 'larger than the document caps even with nothing pending' }],
  });
}

/**
 * Everything of one embedded write that needs no server, checked before anything is sent (the
 * plugin arms the watchdog only after it): the filter names the document by a string `_id`,
 * the update's operators and fields, every event of that document, and the events fit an
 * empty document (their size with the smallest seq: a write whose seq's digits push it past
 * `maxPendingBytes` is refused by {@link embeddedWrite} itself).
 *
 * @throws EventInvalidError for an `_id` that is not a non-empty string, an unsupported
 *   operator, a touched field of the outbox's (`OUTBOX_FIELDS`, or a path inside one), an event of another aggregate, or events larger than
 *   one document holds.
 */
export async function checkEmbeddedWrite(aggregateType: string, write: Pick<EmbeddedUpdate, 'filter' | 'update'>, events: ReadonlyArray<PendingEvent>, limits: EmbeddedLimits): Promise<void> {
  const id = write.filter._id;
  // A string: the relay finds the document by its aggregate id (a string); a document with a
  // number or ObjectId _id would hold events no relay ever reads.
  if (typeof id !== 'string' || id === '') throw new EventInvalidError('outbox: an embedded update filter must name the document by its _id, a non-empty string (the aggregate id)', { issues: [{ field: 'filter._id', message: 'must be a non-empty string' }] });
  checkAuthorUpdate(write.update);
  for (const e of events) {
    if (e.aggregateType !== aggregateType || e.aggregateId !== id) {
      throw new EventInvalidError(`outbox: event ${e.type} belongs to ${aggregateKey(e.aggregateType, e.aggregateId)}, not to the document ${aggregateKey(aggregateType, id)} being updated`);
    }
  }
  const size = await bsonSize();
  const embedded = embeddedEvents(events, 0, new Date());
  refuseOversized(embedded.length, embedded.reduce((sum, e) => sum + embeddedBytes(e, size), 0), limits);
}

