/**
 * The handler plugin: `ctx.state` (or a name you choose), typed, loaded before the function
 * runs, under the cache's staleness contract and the invocation's deadline.
 */
import { checkKnownKeys, CONTEXT_MEMBERS, invalidOption, keysOf } from '@steadyfn/handler/internal';
import type { Plugin } from '@steadyfn/handler';
import type { StateCache } from './cache.js';
import { StateError, failuresForLog } from './errors.js';
import type { DeepReadonly } from './types.js';

/** Options of the `state()` plugin. */
export interface StatePluginOptions<K extends string> {
  /**
   * The ctx member to add; not one every ctx already has (`log`, `signal`, `input`, …), nor
   * one another plugin in `use` adds (a second `state()`, a `connections()` handle named
   * `state`): that is refused at the first invocation (`CONFIG_INVALID`, field `use.state:<key>.extend`).
   * @default 'state'
   */
  key?: K;
}

/** Whether `value` is what `defineState()` returns. */
function isStateCache(value: unknown): value is StateCache<unknown> {
  const cache = value as Partial<StateCache<unknown>> | null;
  return typeof cache === 'object' && cache !== null && typeof cache.get === 'function' && typeof cache.status === 'function' && typeof cache.invalidate === 'function';
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const PLUGIN_KEYS = keysOf<StatePluginOptions<string>>({ key: true });

/**
 * The handler plugin: loads `cache` (a `defineState()` result) in its `extend` hook, under the
 * invocation's deadline and `ctx.signal`, and puts it on `ctx[key]`, typed by the schema and
 * read-only. A failed load fails the invocation with the `StateError` (retryable: queues
 * redeliver) and logs its failures — source, kind, field, expected; never a value.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `cache` is not a `defineState()` result, or
 *   `key` is not a non-empty string or names a member every ctx has.
 * @example
 * const settings = defineState({ sources: { env: envVars({ prefix: 'SHOP_' }) } });
 * export const main = handler({ use: [state(settings)] }, async (_input, ctx) => ctx.state.env);
 */
export function state<T, K extends string = 'state'>(
  cache: StateCache<T>,
  options: StatePluginOptions<K> = {},
): Plugin<{ [P in K]: DeepReadonly<T> }> {
  if (!isStateCache(cache)) invalidOption('state', 'cache', 'a state cache made by defineState()', cache);
  if (typeof options !== 'object' || options === null) invalidOption('state', 'options', 'an options object', options);
  checkKnownKeys('state', '', options, PLUGIN_KEYS);
  const key = (options.key ?? 'state') as K;
  if (typeof key !== 'string' || key === '') invalidOption('state', 'key', 'a non-empty string', key);
  if (CONTEXT_MEMBERS.has(key)) invalidOption('state', 'key', `a name that is not a member of every ctx (${[...CONTEXT_MEMBERS].join(', ')})`, key);
  return {
    name: `state:${key}`,
    async extend(ctx) {
      try {
        const value = await cache.get(ctx);
        return { [key]: value } as { [P in K]: DeepReadonly<T> };
      } catch (error) {
        // The invocation's log line has only the code; the failures say which source and field.
        if (error instanceof StateError) {
          ctx.log.error('state could not be loaded', {
            code: error.code,
            ...failuresForLog(error.failures, (f) => ({ source: f.source, kind: f.kind, field: f.field, message: f.message, ...(f.expected === undefined ? {} : { expected: f.expected }) })),
          });
        }
        throw error;
      }
    },
  };
}
