/**
 * Guards and safe property access for values that come from outside (provider events,
 * stored records): one copy for every adapter and package.
 */

/** A plain object record (not null, not an array). */
export type Rec = Record<string, unknown>;

/** Whether `value` is an object that is neither null nor an array. */
export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when it is a string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * `value` when it is a string with something other than whitespace in it, else undefined: an
 * identity read from an event (an event id, a message id) that is `""` or `"  "` names nothing,
 * and kept it would give every such event one delivery id (one idempotency key). The string is
 * returned as it came (not trimmed).
 *
 * @example nonEmptyStr('  ') // undefined
 */
export function nonEmptyStr(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * A JSON value as text: a string as it is, anything else as its JSON text. `String()` would
 * throw on an object whose `toString` is not a function (`{"toString":{}}` from an event).
 */
export function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : String(JSON.stringify(value));
}

/**
 * Sets an own property even for names such as `__proto__` or `toString`, which arrive in
 * hostile headers and query strings and must neither pollute nor collide with the prototype.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  // `__proto__` is the one accessor on Object.prototype: assigning it would set the prototype.
  // Any other name becomes an own property by plain assignment, which keeps the object in
  // V8's fast mode (defineProperty on every key costs microseconds).
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** An own property's value; undefined for inherited names such as `constructor`. */
export function getOwn<T>(target: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}
