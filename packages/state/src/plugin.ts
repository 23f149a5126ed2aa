/**
 * The handler plugin: `ctx.state` (or a name you choose), typed, loaded before the function
 * runs, under the cache's staleness contract and the invocation's deadline.
 */
import type { Plugin } from '@steadyfn/handler';
import type { StateCache } from './cache.js';
import type { DeepReadonly } from './types.js';

export interface StatePluginOptions<K extends string> {
  /** The ctx member to add. Default `state`. */
  key?: K;
}

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
