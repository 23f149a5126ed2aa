/**
 * What a Redis restore target holds (redis.ts: `heldData`, `prepare`'s warning): the database's
 * keys (DBSIZE per master, less steadyfn's bookkeeping keys in a small keyspace) and whether a
 * live key is under a prefix (SCAN). Reads only.
 */
import type { RedisLike } from '../sources/redis.js';
import { isBookkeepingKey } from './lock-places.js';

/** Up to this many keys on a master, `prepare` leaves bookkeeping keys out of its count (10 `SCAN` calls at most). */
const BOOKKEEPING_SCAN_MAX_KEYS = 10_000;

/**
 * How many keys of `node` are steadyfn's bookkeeping, not data: restore locks and markers of any
 * prefix and drill markers (`isBookkeepingKey`), found by one `SCAN … MATCH *steadyfn:*` (a key
 * `SCAN` returns twice is counted once).
 */
async function bookkeepingKeysOn(node: RedisLike, signal?: AbortSignal): Promise<number> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    signal?.throwIfAborted();
    const [next, keys] = (await node.callBuffer('SCAN', cursor, 'MATCH', '*steadyfn:*', 'COUNT', 1000)) as [Buffer, Buffer[]];
    cursor = next.toString();
    for (const key of keys) if (isBookkeepingKey(key)) found.add(key.toString('latin1'));
  } while (cursor !== '0');
  return found.size;
}

/** The keys of the database (DBSIZE per master), steadyfn's bookkeeping keys left out in a small keyspace. */
export async function databaseKeys(client: RedisLike, signal?: AbortSignal): Promise<number> {
  const masters = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  let keys = 0;
  for (const node of masters) {
    const size = Number(await node.call('DBSIZE'));
    // Not data: restore locks and markers (this target's and other prefixes'), drill markers.
    // Looked for only in a small keyspace: in a big one a few such keys do not change what
    // is said, and a whole-keyspace SCAN for it would cost a round trip per 1,000 keys.
    // Clamped: another restore may take its lock between DBSIZE and the SCAN.
    if (size > 0) keys += size <= BOOKKEEPING_SCAN_MAX_KEYS ? Math.max(0, size - (await bookkeepingKeysOn(node, signal))) : size;
  }
  return keys;
}

/**
 * Whether any key under `prefix` (`''`: any key; not steadyfn's bookkeeping) exists: SCAN MATCH
 * per master, stopping at the first. A key that expired but was not removed yet (DBSIZE still
 * counts it) is none: SCAN leaves it out.
 */
export async function anyKeyUnder(client: RedisLike, prefix: string, signal?: AbortSignal): Promise<boolean> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const masters = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  for (const node of masters) {
    let cursor = '0';
    do {
      signal?.throwIfAborted();
      const [next, keys] = (await node.callBuffer('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [Buffer, Buffer[]];
      cursor = next.toString();
      if (keys.some((key) => !isBookkeepingKey(key))) return true;
    } while (cursor !== '0');
  }
  return false;
}
