/**
 * Unknown option keys: a typo (`maxAtempts`) or an old name (`lease` for `leaseMs`) would
 * otherwise be ignored and leave the default in force without a word. Every factory of this
 * package checks its options object — and each nested one — against the keys its type
 * declares. (The handler's `handler()` does the same for its own options; this is the
 * general form, for the lead to move to `@steadyfn/handler/internal`.)
 */
import { invalidOption, isRecord } from '@steadyfn/handler/internal';

/**
 * The keys of an options type, from a record that must name every one of them (the compiler
 * refuses a missing or an extra key), so the list cannot drift from the type.
 */
export function keysOf<T>(keys: { [K in keyof Required<T>]: true }): ReadonlyArray<string> {
  return Object.keys(keys);
}

/**
 * Throws `ConfigurationError` (`CONFIG_INVALID`) for the first key of `value` not in
 * `allowed`, naming its full path and the allowed keys. Keys holding `undefined` pass (an
 * option spread in as undefined is no typo). Does nothing when `value` is not an object (the
 * caller's own check reports that).
 *
 * @param owner - The factory, e.g. `outbox`.
 * @param path - Where `value` sits in the options, e.g. `relay.poison`; empty for the top level.
 */
export function checkKnownKeys(owner: string, path: string, value: unknown, allowed: ReadonlyArray<string>): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key) || value[key] === undefined) continue;
    const field = path === '' ? key : `${path}.${key}`;
    const where = path === '' ? `an option of ${owner}()` : `an option of "${path}"`;
    const hint = allowed.includes(`${key}Ms`) ? ` (durations are in milliseconds: "${key}Ms")` : '';
    invalidOption(owner, field, `left out: it is not ${where}${hint}; the options are ${allowed.join(', ')}`, value[key]);
  }
}
