/**
 * A store option given as a value or a getter (e.g. a `@steadyfn/connections` getter): a value
 * is checked when the store is made (`clientOption`), a getter's result at each use, the same
 * way — what it returns is not awaited into a `TypeError` deep in a write.
 */
import { clientOption, invalidOption } from '@steadyfn/handler/internal';

/**
 * Resolves `option` (a value, or a function returning one or a promise of one), checking a
 * getter's result has `methods`.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`, `field`) when the getter returns a function or
 *   something without `methods` (a connections handle is named as such).
 */
export function checkedGetter<T>(owner: string, field: string, option: unknown, methods: ReadonlyArray<string>, what: string): () => Promise<T> {
  if (typeof option !== 'function') return async () => option as T;
  const get = option as () => unknown;
  return async () => {
    const value = await get();
    if (typeof value === 'function') invalidOption(owner, field, `a function returning ${what} (it returned a function)`, value);
    clientOption(owner, field, value, methods, what);
    return value as T;
  };
}
