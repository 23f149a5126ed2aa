/**
 * Checks that the positions of the events hydration applies increase: an event store that
 * returns one twice, one without a position, or positions out of order would otherwise change
 * the state without a word (an event applied twice, or skipped at a page boundary; a page read
 * again "after undefined", from the start). Messages name positions, never an event's contents.
 */
import { SourceError } from '../errors.js';
import { sameVersion } from '../util.js';

/** The kind of a position, in words: compared between neighbours (a store's order across kinds is its own). */
function kindOf(position: unknown): string {
  if (typeof position !== 'object' || position === null) return `a ${typeof position}`;
  const name = (Object.getPrototypeOf(position) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
}

/** A position in words for a message: numbers, strings, bigints and Dates as they are; anything else by its kind. */
export function describePosition(position: unknown): string {
  if (typeof position === 'number' || typeof position === 'bigint') return String(position);
  if (typeof position === 'string') return position.length <= 64 ? position : `${position.slice(0, 64)}…`;
  if (position instanceof Date) return Number.isNaN(position.getTime()) ? 'an invalid Date' : position.toISOString();
  const hex = (position as { toHexString?: unknown } | null)?.toHexString;
  if (typeof hex === 'function') return String(hex.call(position));
  return kindOf(position);
}

/** -1, 0, 1 for numbers, bigints and Dates of one kind; undefined for what has no order known here (strings: a store's own). */
function order(a: unknown, b: unknown): number | undefined {
  const value = (x: unknown): number | bigint | undefined => (typeof x === 'number' || typeof x === 'bigint' ? x : x instanceof Date ? x.getTime() : undefined);
  const x = value(a);
  const y = value(b);
  if (x === undefined || y === undefined || typeof x !== typeof y) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

const RULE = 'positions must increase: give the store a unique index on the position, and read strictly after it';

/**
 * Checks `position`, the next event's, against `previous` (the last applied, or the position the
 * read started after: the snapshot's, or undefined at the start).
 * @param first - Whether this is the first event of a read after `previous` (its read was inclusive, then).
 * @throws SourceError naming both positions when the position is missing, equal to `previous`,
 *   of another kind, or (numbers, bigints, Dates) not greater.
 */
export function checkNextPosition(previous: unknown, position: unknown, first: boolean): void {
  const where = previous === undefined ? 'the start' : `position ${describePosition(previous)}`;
  if (position === undefined || position === null) {
    throw new SourceError(`an event has no position (${first ? 'the first event read after' : 'the event after'} ${where}; ${RULE})`);
  }
  if (previous === undefined) return;
  const p = describePosition(position);
  if (sameVersion(previous, position) || order(previous, position) === 0) {
    // Two events at one position, or a read that was not strictly after `previous` (the first of a read).
    throw new SourceError(`an event at position ${p} came after ${where}${first ? ', where the read started' : ''}: two events at one position, or a read not strictly after it (${RULE})`);
  }
  if (kindOf(previous) !== kindOf(position)) {
    throw new SourceError(`position ${p} (${kindOf(position)}) came after ${where} (${kindOf(previous)}): ${RULE}, of one kind`);
  }
  if (order(previous, position) === 1) throw new SourceError(`position ${p} came after ${where} (${RULE})`);
}
