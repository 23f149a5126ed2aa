/**
 * A drill's marker in a Redis scratch keyspace (a `redisTarget`, with a `keyPrefix` or without: a scratch database), as the
 * MongoDB target keeps one in its scratch database (mongo-scratch.ts): one string key holding
 * the marker's JSON — the drill, the backup storage it drilled from and the key patterns it
 * restored under the prefix. It is written (after the drill found the prefix empty of the
 * backup's datasets) before the first write and deleted last by the drill's drop, so a drill
 * whose drop failed (or that was killed) leaves it with its keys: the next drill from the same
 * storage finds it and removes exactly the keys under the prefix matching those patterns, and
 * never anything a drill did not restore.
 *
 * The marker's key lies outside the prefix (`steadyfn:drill-marker:<prefix>`, or
 * `~steadyfn:drill-marker:<prefix>` for a prefix that key would start with), so no dataset's
 * pattern under the prefix ever matches it: the drill's read-back and the emptiness check
 * never see it. Without a prefix the key is `~steadyfn:drill-marker:` and the patterns are the
 * database's: a drill into a scratch database drops, and a later one clears, only those keys.
 * `redisSource` skips it whatever its pattern (`isBookkeepingKey`, lock-places.ts): it is a drill's
 * bookkeeping in a database that may also be backed up, not data.
 */
import type { RedisLike } from '../sources/redis.js';
import type { ScratchMarker } from './targets.js';

/** The marker's key for the scratch prefix `prefix` (`''`: none, `~steadyfn:drill-marker:`): a key that does not start with it. */
export function scratchMarkerKey(prefix: string): string {
  const key = `steadyfn:drill-marker:${prefix}`;
  return key.startsWith(prefix) ? `~${key}` : key;
}

/** Whether a Redis key (as backed up) is a drill's marker (`scratchMarkerKey`) of some prefix. */
export function isScratchMarkerKey(key: Buffer): boolean {
  return /^~?steadyfn:drill-marker:/.test(key.toString('latin1'));
}

/** `pattern` under `prefix`, the prefix's glob characters escaped. */
export function underPrefix(prefix: string, pattern: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}${pattern}`;
}

/** Writes the marker (replacing one left by an earlier drill, whose keys are gone by then). */
export async function writeRedisScratchMarker(client: RedisLike, prefix: string, marker: ScratchMarker): Promise<void> {
  await client.call('SET', scratchMarkerKey(prefix), JSON.stringify(marker));
}

/** The marker a drill left, or undefined (none, or not a marker's shape: then nothing is taken for a drill's). */
export async function readRedisScratchMarker(client: RedisLike, prefix: string): Promise<ScratchMarker | undefined> {
  const raw = await client.call('GET', scratchMarkerKey(prefix));
  if (typeof raw !== 'string') return undefined;
  let found: Record<string, unknown>;
  try {
    found = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { drillId, backupId, storage, startedAt, collections } = found ?? {};
  if (typeof drillId !== 'string' || typeof backupId !== 'string' || typeof storage !== 'string' || typeof startedAt !== 'string') return undefined;
  if (!Array.isArray(collections) || !collections.every((c) => typeof c === 'string')) return undefined;
  return { drillId, backupId, storage, startedAt, collections: collections as string[] };
}

/**
 * Unlinks every key under `prefix` matching `patterns`, on every master node, but those `keep`
 * says to leave (steadyfn's bookkeeping: the database's restore lock may lie under a prefix, and
 * unlinking it while another restore holds it would let a third take it).
 */
export async function unlinkUnder(client: RedisLike, prefix: string, patterns: string[], signal?: AbortSignal, keep?: (key: Buffer) => boolean): Promise<void> {
  const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  for (const pattern of patterns) {
    for (const node of nodes) {
      let cursor = '0';
      do {
        signal?.throwIfAborted();
        const [next, keys] = (await node.callBuffer('SCAN', cursor, 'MATCH', underPrefix(prefix, pattern), 'COUNT', 500)) as [Buffer, Buffer[]];
        cursor = next.toString();
        for (const key of keys) if (!keep?.(key)) await node.callBuffer('UNLINK', key);
      } while (cursor !== '0');
    }
  }
}

/** Removes the keys the marker lists (patterns under the prefix; not those `keep` says to leave, as `unlinkUnder`), then the marker. */
export async function clearRedisScratch(client: RedisLike, prefix: string, marker: ScratchMarker, signal?: AbortSignal, keep?: (key: Buffer) => boolean): Promise<void> {
  await unlinkUnder(client, prefix, marker.collections, signal, keep);
  await client.call('DEL', scratchMarkerKey(prefix));
}
