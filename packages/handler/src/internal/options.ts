/**
 * Up-front validation of factory options, p-retry style: each failure is a
 * `ConfigurationError` naming the option, what was expected and what was given.
 */
import { ConfigurationError } from '../errors.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Throws `ConfigurationError` for `owner`'s option `field`: `owner(): option "field" must be <expected>; got <value>`. */
export function invalidOption(owner: string, field: string, expected: string, got: unknown, code?: string): never {
  throw new ConfigurationError(`${owner}(): option "${field}" must be ${expected}; got ${describe(got)}`, {
    field,
    expected,
    ...(code === undefined ? {} : { code }),
  });
}

/**
 * A whole number of milliseconds ≥ `min` (default 1) and ≤ `max` (default none), or `fallback`
 * when undefined. Pass `MAX_TIMER_MS` as `max` for a duration that arms a timer: Node fires a
 * longer one after 1 ms.
 */
export function msOption(owner: string, field: string, value: unknown, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const upTo = max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${max}`;
    invalidOption(owner, field, `a whole number of milliseconds ≥ ${min}${upTo}`, value);
  }
  return value;
}

/** An integer in [min, max], or `fallback` when undefined. */
export function intOption(owner: string, field: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalidOption(owner, field, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** One of `allowed`, or `fallback` when undefined. */
export function oneOfOption<T extends string | boolean>(owner: string, field: string, value: unknown, allowed: ReadonlyArray<T>, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) invalidOption(owner, field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  return value as T;
}

/** A non-empty string, or `fallback` when undefined (pass `undefined` as fallback to make it required). */
export function stringOption(owner: string, field: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') invalidOption(owner, field, 'a non-empty string', value);
  return value;
}

/**
 * A driver client option: an object with `methods`, or a function returning one (checked at
 * first use). A `@steadyfn/connections` handle — the likeliest mistake, since those are what a
 * function keeps in module scope — is named as such, with the getter to pass instead.
 *
 * @param what - The client in words, e.g. `an ioredis Redis or Cluster`.
 */
export function clientOption(owner: string, field: string, value: unknown, methods: ReadonlyArray<string>, what: string): void {
  if (typeof value === 'function') return;
  const object = value as Record<string, unknown> | null;
  const expected = `${what}, or a function returning one`;
  // Checked first: a handle has a `get` of its own, which a Redis client's `get` check would take for the client's.
  const isHandle = typeof object === 'object' && object !== null && typeof object.acquire === 'function' && typeof object.get === 'function' && typeof object.name === 'string';
  if (isHandle) {
    throw new ConfigurationError(`${owner}(): option "${field}" must be ${expected}; got a @steadyfn/connections handle — pass its getter: \`${field}: () => handle.get()\``, { field, expected });
  }
  if (typeof object === 'object' && object !== null && methods.every((m) => typeof object[m] === 'function')) return;
  invalidOption(owner, field, expected, value);
}

/**
 * What a client option's getter returned, checked as `clientOption` checks a value: the getter
 * is called at use, so a getter returning the wrong thing (a `@steadyfn/connections` handle, a
 * `MongoClient` for a `Db`, a function) is a configuration error there, before anything is
 * written — not a `TypeError` deep in a call that would read as retryable.
 *
 * @returns `value`, typed.
 * @throws ConfigurationError (`CONFIG_INVALID`, `field`) when `value` is a function or lacks `methods`.
 */
function gotClient<T>(owner: string, field: string, value: unknown, methods: ReadonlyArray<string>, what: string): T {
  if (typeof value === 'function') invalidOption(owner, field, `${what}, or a function returning one (the function returned a function)`, value);
  clientOption(owner, field, value, methods, what);
  return value as T;
}

/**
 * A client option given as a value or a getter, resolved: a value as it is (check it with
 * `clientOption` when the store is made), a getter's result checked at each use (`gotClient`).
 *
 * @throws ConfigurationError from the returned function, as `gotClient`.
 */
export function checkedGetter<T>(owner: string, field: string, option: unknown, methods: ReadonlyArray<string>, what: string): () => Promise<T> {
  if (typeof option !== 'function') return async () => option as T;
  const get = option as () => unknown;
  return async () => gotClient<T>(owner, field, await get(), methods, what);
}

/**
 * An S3 bucket name as S3 names new buckets (general purpose and directory buckets): 3-63
 * characters of a-z 0-9 . -, starting and ending with a letter or digit, no `..`, not shaped
 * like an IP address. A name S3 cannot hold is refused when the factory is called rather than
 * at the first upload (`InvalidBucketName`, or `NoSuchBucket` from an S3-compatible server).
 */
export function s3BucketOption(owner: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) || value.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    invalidOption(owner, field, 'an S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, no "..", not an IP address', value);
  }
  return value;
}

/**
 * A MongoDB collection name, or `fallback` when undefined: non-empty, no `$` and no NUL
 * character, not starting with `system.`, no leading or trailing `.` and no `..` (what the
 * driver and the server refuse at the first use).
 */
export function mongoCollectionOption(owner: string, field: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '' || value.includes('$') || value.includes('\u0000') || value.startsWith('system.') || value.startsWith('.') || value.endsWith('.') || value.includes('..')) {
    invalidOption(owner, field, 'a MongoDB collection name: non-empty, without "$", NUL or "..", not starting with "system." nor starting or ending with "."', value);
  }
  return value;
}
