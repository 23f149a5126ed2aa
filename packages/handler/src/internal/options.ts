/**
 * Up-front validation of factory options, p-retry style: each failure is a
 * `ConfigurationError` naming the option, what was expected and what was given.
 */
import { ConfigurationError } from '../errors.js';

/** Passed as an option's value where the value must not be quoted (a string that may hold a secret). */
export const STRING_NOT_SHOWN: unique symbol = Symbol('a string (value not shown)');

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === STRING_NOT_SHOWN) return 'a string (value not shown)';
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

/** A bucket name under S3's current naming rule (see `s3BucketOption`). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PARTITION = '(?:aws|aws-cn|aws-us-gov)';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const ACCOUNT = '\\d{12}';
const ACCESS_POINT_NAME = '[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])';
/**
 * The ARNs AWS SDK v3 takes as `Bucket` for object requests: an access point
 * (`arn:aws:s3:us-east-1:123456789012:accesspoint/claims`), a Multi-Region Access Point
 * (`arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap`) and an S3 on Outposts access point
 * (`arn:aws:s3-outposts:us-east-1:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/claims`).
 */
const ACCESS_POINT_ARN = new RegExp(
  `^arn:${PARTITION}:(?:s3:${REGION}:${ACCOUNT}:accesspoint/${ACCESS_POINT_NAME}` +
    `|s3::${ACCOUNT}:accesspoint/[a-z0-9]+\\.mrap` +
    `|s3-outposts:${REGION}:${ACCOUNT}:outpost/op-[0-9a-f]{17}/accesspoint/${ACCESS_POINT_NAME})$`,
);

/** A Multi-Region Access Point ARN (refused before `ACCESS_POINT_ARN` is tried, with `conditionalWrites`). */
const MRAP_ARN = /^arn:[a-z-]+:s3::\d{12}:accesspoint\/[a-z0-9]+\.mrap$/;

/**
 * Where an S3 client sends object requests: a bucket name, or with `accessPoints` an access point
 * ARN. A value S3 cannot route is refused when the factory is called rather than at the first
 * request (`InvalidBucketName`, `NoSuchBucket` from an S3-compatible server, or the SDK's
 * "Invalid ARN").
 *
 * Accepted:
 * - a bucket name under S3's current rule (general purpose buckets since 2018, directory buckets
 *   `…--x-s3`, access point aliases `…-s3alias`): 3-63 characters of a-z 0-9 . -, starting and
 *   ending with a letter or digit, no `..`, not shaped like an IPv4 address;
 * - with `accessPoints: true`, an access point ARN, partition `aws`, `aws-cn` or `aws-us-gov`:
 *   `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`, a Multi-Region Access Point
 *   `arn:<partition>:s3::<account>:accesspoint/<alias>.mrap` (not with `conditionalWrites`), or an S3 on Outposts access point
 *   `arn:<partition>:s3-outposts:<region>:<account>:outpost/<op-…>/accesspoint/<name>` (account:
 *   12 digits; name: 3-50 characters of a-z 0-9 -, starting and ending with a letter or digit).
 *
 * Refused: anything else — among them the legacy names S3 allowed in us-east-1 before March 2018
 * (capitals, `_`, up to 255 characters: not reachable with virtual-hosted-style requests), bucket
 * ARNs (`arn:aws:s3:::bucket`: the SDK refuses them as `Bucket`) and S3 Object Lambda access
 * point ARNs (no `PutObject`). The reserved prefixes and suffixes of bucket creation (`xn--`,
 * `sthree-`, `--ol-s3`, …) are not checked: S3 never created such a bucket.
 *
 * @param owner - The factory, for the error: `sqsSender`.
 * @param field - The option, for the error: `claimCheck.bucket`.
 * @param options.accessPoints - Whether an access point ARN is accepted (every object request
 *   of the caller is one S3 routes through access points). @default false
 * @param options.conditionalWrites - Whether the caller relies on S3's conditional writes
 *   (`If-None-Match`, `If-Match`) for exclusion (a lease): a Multi-Region Access Point is then
 *   refused — it routes each request to the nearest of several buckets replicated asynchronously,
 *   so a condition is checked in one region only and two writers could both succeed. @default false
 * @returns The value, unchanged.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `field` and what is expected.
 * @example s3BucketOption('sqsSender', 'claimCheck.bucket', options.bucket, { accessPoints: true })
 */
export function s3BucketOption(owner: string, field: string, value: unknown, options: { accessPoints?: boolean; conditionalWrites?: boolean } = {}): string {
  const name = typeof value === 'string' && BUCKET_NAME.test(value) && !value.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(value);
  if (options.conditionalWrites === true && typeof value === 'string' && MRAP_ARN.test(value)) {
    const why = 'a Multi-Region Access Point routes to the nearest of several asynchronously replicated buckets, so a conditional write (If-None-Match, If-Match) is checked in one region only and two holders could take the same lease';
    return invalidOption(owner, field, `an S3 bucket name or a single-region access point ARN, not a Multi-Region Access Point (${why})`, value);
  }
  if (name || (options.accessPoints === true && typeof value === 'string' && ACCESS_POINT_ARN.test(value))) return value as string;
  const bucket = 'an S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, no "..", not an IP address';
  const mrap = options.conditionalWrites === true ? '' : ', a Multi-Region Access Point arn:aws:s3::<account>:accesspoint/<alias>.mrap';
  return invalidOption(owner, field, options.accessPoints === true ? `${bucket}; or an S3 access point ARN (arn:aws:s3:<region>:<account>:accesspoint/<name>${mrap}, or an S3 on Outposts access point)` : bucket, value);
}

/**
 * A MongoDB collection name, or `fallback` when undefined, under the server's rule: non-empty, not
 * starting with `.`, no NUL character, no `$`, and not in the reserved `system.` namespace. Dots
 * elsewhere are allowed (`shop.orders`, `orders.`, `a..b`: the server takes them). The server's
 * one `$` exception, `oplog.$main` (replication's, refused by FerretDB), is refused too: the
 * stores derive names from the collection's (`<name>_outbox`), and with a `$` those are names
 * the server refuses. The driver checks nothing: without this a bad name failed at the first
 * write.
 *
 * @param owner - The factory, for the error: `mongoEmbeddedOutbox`.
 * @param field - The option, for the error: `collection`.
 * @returns The name (or `fallback`).
 * @throws {ConfigurationError} `CONFIG_INVALID` naming `field` and what is expected.
 * @example mongoCollectionOption('mongoTransactionOutbox', 'collection', options.collection, 'outbox')
 */
export function mongoCollectionOption(owner: string, field: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '' || value.startsWith('.') || value.includes('\u0000') || value.includes('$') || value.startsWith('system.')) {
    invalidOption(owner, field, 'a MongoDB collection name: non-empty, without "$" or NUL, not starting with "." nor "system."', value);
  }
  return value;
}
