/**
 * `node:crypto`, loaded the way CommonJS loads it. An ESM `import … from 'node:crypto'` builds
 * the module's whole namespace, whose lazy `webcrypto` and `subtle` getters then load Web
 * Crypto: about 15 ms of every cold start for a `randomUUID`.
 */
import { builtinModule } from './builtin.js';

type NodeCrypto = typeof import('node:crypto');
let loaded: NodeCrypto | undefined;

/**
 * The `node:crypto` module (loaded on first use).
 *
 * @throws ConfigurationError on Node.js before 22.3 (no `process.getBuiltinModule`).
 */
export function nodeCrypto(): NodeCrypto {
  return (loaded ??= builtinModule<NodeCrypto>('node:crypto'));
}

/** A random (v4) UUID. */
export function randomUUID(): string {
  return nodeCrypto().randomUUID();
}
