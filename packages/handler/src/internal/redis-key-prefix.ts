/**
 * The `keyPrefix` an ioredis client prepends to every key it sends. ioredis prefixes the key
 * arguments of key commands (`GET`, `DUMP`, `EVALSHA`'s keys, …), not `SCAN … MATCH` patterns,
 * and returns the full names `SCAN` finds (redis/ioredis#1526, #169): code that scans and then
 * reads what it found, or computes a key's Cluster slot, must know it. A `Cluster` keeps its own
 * `options.keyPrefix`, or copies `options.redisOptions.keyPrefix` there (read as well, in case).
 * Shared by the lease store (Cluster slots), the state sources (same node) and the backup's Redis
 * source and target (which refuse a prefixed client).
 */

/** The slice of an ioredis `Redis` or `Cluster` read here (structural: no driver types). */
interface PrefixedClient {
  readonly options?: { readonly keyPrefix?: unknown; readonly redisOptions?: { readonly keyPrefix?: unknown } };
}

/**
 * The `keyPrefix` of an ioredis `client` as a string (a `Buffer`/`Uint8Array` prefix decoded as
 * UTF-8), `''` when it has none or `client` is not an ioredis client.
 * @example redisKeyPrefix(new Redis({ keyPrefix: 'app:' })) // 'app:'
 */
export function redisKeyPrefix(client: unknown): string {
  if (typeof client !== 'object' || client === null) return '';
  const options = (client as PrefixedClient).options;
  const prefix = options?.keyPrefix ?? options?.redisOptions?.keyPrefix;
  if (typeof prefix === 'string') return prefix;
  if (prefix instanceof Uint8Array) return Buffer.from(prefix).toString();
  return '';
}
