/**
 * The MongoDB-wire lease store's indexes (`ensureIndexes`): (key, generation) for its reads,
 * and the TTL index that deletes records `retainMs` after they end — where the server has TTL
 * indexes (FerretDB has none: `purge()` on a schedule instead).
 */
import { ConfigurationError, raceSignal as abortable } from '@steadyfn/handler/internal';
import { errorCode, type MongoLeaseCollection } from './mongodb-docs.js';

/** NotImplemented (FerretDB), CommandNotSupported, InvalidOptions. */
const NOT_SUPPORTED = new Set([238, 115, 72]);
/** IndexOptionsConflict, IndexKeySpecsConflict. */
const INDEX_CONFLICT = new Set([85, 86]);

/**
 * Creates both indexes on `col`; `{ ttl: false }` when the server has no TTL indexes.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `retainMs`, named as `owner`'s option) when
 *   a TTL index with another `retainMs` exists.
 */
export async function ensureLeaseIndexes(col: MongoLeaseCollection, owner: string, retainMs: number, signal: AbortSignal | undefined): Promise<{ ttl: boolean }> {
  await abortable(col.createIndex({ k: 1, g: -1 }, { name: 'steadyfn_lease_key' }), signal);
  try {
    await abortable(col.createIndex({ p: 1 }, { name: 'steadyfn_lease_purge', expireAfterSeconds: Math.ceil(retainMs / 1000) }), signal);
    return { ttl: true };
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && NOT_SUPPORTED.has(code)) return { ttl: false };
    if (code !== undefined && INDEX_CONFLICT.has(code)) {
      throw new ConfigurationError(`${owner}(): option "retainMs" (${retainMs} ms) differs from the TTL index steadyfn_lease_purge already on the collection; drop that index or use the retainMs it was made with`, {
        field: 'retainMs',
        expected: 'the retainMs the existing TTL index was made with',
        cause: error,
      });
    }
    throw error;
  }
}
