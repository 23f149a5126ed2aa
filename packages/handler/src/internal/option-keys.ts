/**
 * Unknown option keys: a typo (`maxAtempts`) or an old name (`ttl` for `ttlMs`) would
 * otherwise be ignored and leave the default in force without a word. Every steadyfn factory
 * checks its options object — and each nested one — against the keys its type declares.
 */
import { invalidOption, STRING_NOT_SHOWN } from './options.js';
import { isRecord } from './record.js';

/**
 * The keys of an options type, from a record that must name every one of them (the compiler
 * refuses a missing or an extra key), so the list cannot drift from the type.
 *
 * @example
 * const KEYS = keysOf<RedisStoreOptions>({ client: true, prefix: true });
 */
export function keysOf<T>(keys: { [K in keyof Required<T>]: true }): ReadonlyArray<string> {
  return Object.keys(keys);
}

/** Option names users swap for one another across steadyfn's factories (`redis()` takes `url`, `mongo()` `uri`). */
const SWAPPED: Readonly<Record<string, string>> = { url: 'uri', uri: 'url' };

/**
 * Throws `ConfigurationError` (`CONFIG_INVALID`) for the first key of `value` not in
 * `allowed`, naming its full path and the allowed keys, and the `…Ms` name when the key is a
 * duration named before that convention (`ttl` → `ttlMs`), or its twin when it is one users swap
 * (`uri` → `url`). A string value is never quoted (`a string (value not shown)`): a misnamed
 * connection string carries its password. Keys holding `undefined` pass (an
 * option spread in as undefined is no typo). Does nothing when `value` is not an object (the
 * caller's own check reports that).
 *
 * @param owner - The factory, e.g. `idempotency`.
 * @param path - Where `value` sits in the options, e.g. `relay.poison`; empty for the top level.
 * @throws ConfigurationError, e.g. `idempotency(): option "ttl" must be left out: it is not an
 *   option of idempotency() (durations are in milliseconds: "ttlMs"); the options are store, ttlMs, …`.
 */
export function checkKnownKeys(owner: string, path: string, value: unknown, allowed: ReadonlyArray<string>): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key) || value[key] === undefined) continue;
    const field = path === '' ? key : `${path}.${key}`;
    const where = path === '' ? `an option of ${owner}()` : `an option of "${path}"`;
    const twin = SWAPPED[key];
    const hint = allowed.includes(`${key}Ms`) ? ` (durations are in milliseconds: "${key}Ms")` : twin !== undefined && allowed.includes(twin) ? ` (did you mean "${twin}"?)` : '';
    // A misnamed key's string is never quoted: it may be a connection string with its password.
    const got = typeof value[key] === 'string' ? STRING_NOT_SHOWN : value[key];
    invalidOption(owner, field, `left out: it is not ${where}${hint}; the options are ${allowed.join(', ')}`, got);
  }
}
