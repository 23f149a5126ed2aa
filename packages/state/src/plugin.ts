/**
 * The handler plugin: `ctx.state` (or a name you choose), typed, loaded before the function
 * runs, under the cache's staleness contract and the invocation's deadline.
 */
import type { Plugin } from '@steadyfn/handler';
import type { StateCache } from './cache.js';
import type { DeepReadonly } from './types.js';

/** Options of the `state()` plugin. */
export interface StatePluginOptions<K extends string> {
  /**
   * The ctx member to add.
   * @default 'state'
   */
  key?: K;
}

/**
 * The handler plugin that puts `cache`'s state on `ctx.state` (or `ctx[key]`) before the
 * function runs, bounded by the invocation's deadline (`ctx.signal`). A load that fails fails
 * the invocation with the `StateError` (`STATE_UNAVAILABLE` or `STATE_INVALID`, retryable)
 * before the function starts.
 * @example
 * export const main = handler({ use: [state(appState, { key: 'config' })] }, async (_input, ctx) => ctx.config);
 */
export function state<T, K extends string = 'state'>(
  cache: StateCache<T>,
  options: StatePluginOptions<K> = {},
): Plugin<{ [P in K]: DeepReadonly<T> }> {
  const key = (options.key ?? 'state') as K;
  return {
    name: `state:${key}`,
    async extend(ctx) {
      const value = await cache.get(ctx);
      return { [key]: value } as { [P in K]: DeepReadonly<T> };
    },
  };
}
