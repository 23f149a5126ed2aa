/**
 * Node.js built-in modules loaded on first use, as CommonJS loads them: nothing is loaded
 * while a function module loads, only when a call needs it. A static `import … from 'node:zlib'`
 * loads zlib (and its native binding) at every cold start — about 2 ms of CPU for a function
 * that never sees a coded request body.
 */
import { ConfigurationError } from '../errors.js';

/**
 * The built-in module `id` (`'node:crypto'`, `'node:zlib'`…), from `process.getBuiltinModule`
 * (Node caches it: later calls cost a lookup).
 *
 * @throws ConfigurationError on Node.js before 22.3 (no `process.getBuiltinModule`).
 */
export function builtinModule<T>(id: `node:${string}`): T {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof get !== 'function') {
    throw new ConfigurationError('steadyfn needs Node.js 22.3 or later (process.getBuiltinModule)', { field: 'node', expected: 'Node.js ≥ 22.3' });
  }
  return get(id) as T;
}
