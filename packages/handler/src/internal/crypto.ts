/**
 * `node:crypto`, loaded the way CommonJS loads it. An ESM `import … from 'node:crypto'` builds
 * the module's whole namespace, whose lazy `webcrypto` and `subtle` getters then load Web
 * Crypto: about 15 ms of every cold start for a `randomUUID`.
 */
import { ConfigurationError } from '../errors.js';

type NodeCrypto = typeof import('node:crypto');
let loaded: NodeCrypto | undefined;

/**
 * The `node:crypto` module (loaded on first use).
 *
 * @throws ConfigurationError on Node.js before 22.3 (no `process.getBuiltinModule`).
 */
export function nodeCrypto(): NodeCrypto {
  if (loaded) return loaded;
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof get !== 'function') {
    throw new ConfigurationError('steadyfn needs Node.js 22.3 or later (process.getBuiltinModule)', { field: 'node', expected: 'Node.js ≥ 22.3' });
  }
  return (loaded = get('node:crypto') as NodeCrypto);
}

/** A random (v4) UUID. */
export function randomUUID(): string {
  return nodeCrypto().randomUUID();
}
