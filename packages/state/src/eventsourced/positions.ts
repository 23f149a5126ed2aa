/**
 * Checks that the positions of the events hydration applies increase: an event store that
 * returns one twice, one without a position, or positions out of order would otherwise change
 * the state without a word (an event applied twice, or skipped at a page boundary; a page read
 * again "after undefined", from the start). Messages name positions, never an event's contents.
 */
import { SourceError } from '../errors.js';
import { sameVersion } from '../util.js';

/** The kind of a position, in words: compared between neighbours (a store's order across kinds is its own). */
export function kindOf(position: unknown): string {
  if (typeof position === 'bigint' || numericBson(position) !== undefined) return 'a number';
  if (typeof position !== 'object' || position === null) return `a ${typeof position}`;
  const name = (Object.getPrototypeOf(position) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
}

/** A position in words for a message: numbers, strings, bigints and Dates as they are; anything else by its kind. */
export function describePosition(position: unknown): string {
  if (typeof position === 'number' || typeof position === 'bigint' || typeof numericBson(position) !== 'undefined') return String(position);
  if (typeof position === 'string') return position.length <= 64 ? position : `${position.slice(0, 64)}…`;
  if (position instanceof Date) return Number.isNaN(position.getTime()) ? 'an invalid Date' : position.toISOString();
  const hex = (position as { toHexString?: unknown } | null)?.toHexString;
  if (typeof hex === 'function') return String(hex.call(position));
  return kindOf(position);
}

/**
 * A BSON number as a JS one: a Long or Timestamp as a bigint (exact past 2^53), an Int32 or
 * Double as a number; undefined for anything else (a Decimal128 is a number with no order here).
 */
function numericBson(x: unknown): number | bigint | null | undefined {
  const type = (x as { _bsontype?: unknown } | null)?._bsontype;
  if (type === 'Long' || type === 'Timestamp') return BigInt(String(x));
  if (type === 'Int32' || type === 'Double') return Number((x as { valueOf(): unknown }).valueOf());
  return type === 'Decimal128' ? null : undefined;
}

/** -1, 0, 1 for numbers (numbers, bigints, BSON numbers, mixed) and for Dates; undefined for what has no order known here (strings: a store's own). */
export function order(a: unknown, b: unknown): number | undefined {
  const date = (x: unknown): number | undefined => (x instanceof Date ? x.getTime() : undefined);
  const number = (x: unknown): number | bigint | undefined => (typeof x === 'number' || typeof x === 'bigint' ? x : (numericBson(x) ?? undefined));
  const [x, y] = date(a) !== undefined || date(b) !== undefined ? [date(a), date(b)] : [number(a), number(b)];
  if (x === undefined || y === undefined) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

const RULE = 'positions must increase: give the store a unique index on the position, and read strictly after it';

/**
 * Checks `position`, the next event's, against `previous` (the last applied, or the position the
 * read started after: the snapshot's, or undefined at the start).
 * @param first - Whether this is the first event of a read after `previous` (its read was inclusive, then).
 * @param previousIsEvent - Whether `previous` is an event's position read in this replay. When it
 *   is not (the snapshot's, or the cached state's from an earlier load), a position of another
 *   kind is not compared with it: a store of your own may keep the snapshot's position as a
 *   string ("2", exact past 2^53) while its events' are numbers; of one kind, it is. Even then
 *   the two are refused when they are one position written two ways (same text, or integers of
 *   any form — numbers, bigints, BSON Longs, decimal strings — equal) or integers not increasing.
 * @throws SourceError naming both positions when the position is missing, equal to `previous`,
 *   of another kind than the event before it, or (numbers, bigints, Dates) not greater.
 */
export function checkNextPosition(previous: unknown, position: unknown, first: boolean, previousIsEvent: boolean): void {
  const where = previous === undefined ? 'the start' : `position ${describePosition(previous)}`;
  if (position === undefined || position === null) {
    throw new SourceError(`an event has no position (${first ? 'the first event read after' : 'the event after'} ${where}; ${RULE})`);
  }
  if (previous === undefined) return;
  const otherKind = kindOf(previous) !== kindOf(position);
  const p = describePosition(position);
  if (otherKind && !previousIsEvent) {
    // The snapshot's position of another kind than its events' ("2" over numbers) has no order
    // known here, but one written two ways is still one position (a read not strictly after it),
    // and two integers, whatever their forms, are ordered.
    const [a, b] = [integerOf(previous), integerOf(position)];
    const same = a !== undefined && b !== undefined ? a === b : textOf(previous) !== undefined && textOf(previous) === textOf(position);
    if (!same && (a === undefined || b === undefined || a < b)) return;
    if (!same) throw new SourceError(`position ${p} came after ${where}, where the read started (${RULE})`);
  }
  if (sameVersion(previous, position) || order(previous, position) === 0 || (otherKind && !previousIsEvent)) {
    // Two events at one position, or a read that was not strictly after `previous` (the first of a read).
    throw new SourceError(`an event at position ${p} came after ${where}${first ? ', where the read started' : ''}: two events at one position, or a read not strictly after it (${RULE})`);
  }
  if (otherKind) {
    throw new SourceError(`position ${p} (${kindOf(position)}) came after ${where} (${kindOf(previous)}): consecutive events' positions must be of one kind (${RULE})`);
  }
  if (order(previous, position) === 1) throw new SourceError(`position ${p} came after ${where} (${RULE})`);
}

/**
 * An integer-like position as a bigint: an integer number, a bigint, a BSON Long, Timestamp or
 * Int32, or a string of decimal digits (a store's own exact form past 2^53); undefined otherwise.
 */
function integerOf(position: unknown): bigint | undefined {
  if (typeof position === 'string') return /^-?\d+$/.test(position) ? BigInt(position) : undefined;
  const value = typeof position === 'number' || typeof position === 'bigint' ? position : numericBson(position);
  if (typeof value === 'bigint') return value;
  return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
}

/** A position's own text (`String(position)`), or undefined when it has none (`[object …]`, or String() throws). */
function textOf(position: unknown): string | undefined {
  try {
    const text = String(position);
    return text.startsWith('[object ') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** A stream entry id (`ms-seq`, or `ms` for `ms-0`) as a pair that compares in stream order; undefined when not one. */
function parseId(id: string): [bigint, bigint] | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  return match ? [BigInt(match[1]!), BigInt(match[2] ?? '0')] : undefined;
}

/** Whether Redis stream entry id `a` comes after `b` (false when either is not an id). */
export function isAfter(a: string | undefined, b: string): boolean {
  const x = a === undefined ? undefined : parseId(a);
  const y = parseId(b);
  if (!x || !y) return false;
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

/** An ObjectId's 24 hex digits (which sort as the ObjectIds do: time, then the rest), or undefined. */
function objectIdHex(x: unknown): string | undefined {
  if ((x as { _bsontype?: unknown } | null)?._bsontype !== 'ObjectId') return undefined;
  const hex = String((x as { toHexString(): unknown }).toHexString()).toLowerCase();
  return /^[0-9a-f]{24}$/.test(hex) ? hex : undefined;
}

/** Whether position `a` is known to come after `b`: numbers and Dates (`order`), ObjectIds (in MongoDB's order), or Redis stream entry ids. */
export function laterPosition(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return isAfter(a, b);
  const [x, y] = [objectIdHex(a), objectIdHex(b)];
  if (x !== undefined && y !== undefined) return x > y;
  return order(a, b) === 1;
}

/** Whether `a` and `b` are one position (as versions compare, or numerically: a Long and a number). */
export function samePosition(a: unknown, b: unknown): boolean {
  return sameVersion(a, b) || order(a, b) === 0;
}

// A registered symbol: one tag across copies of this package (an ESM and a CJS one) in a bundle.
const GONE = Symbol.for('@steadyfn/state.eventsGone');

/**
 * Marks `page`, read by `mongoEvents` or `redisStreamEvents` after a position whose event is no
 * longer in the store (none when the store holds no event at all), for `hydrate` to judge against
 * the snapshot. The tag is a non-enumerable symbol on the array itself: `readAfter` still returns
 * the events it documents, and a store of yours wrapping one of these (upcasting events with
 * `map`, copying the page) returns a new array without it — read as any page — rather than
 * passing on a signal about events it has not seen.
 */
export function markGone<T>(page: T[]): T[] {
  Object.defineProperty(page, GONE, { value: true });
  return page;
}

/** Whether `page` was marked by `markGone` (the event at the position read after is gone). */
export function isGone(page: unknown): boolean {
  return Array.isArray(page) && (page as unknown as Record<symbol, unknown>)[GONE] === true;
}
