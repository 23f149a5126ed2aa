/**
 * A batch call of the Redis store: one script call on a single server; one per cluster slot on
 * a cluster (a script touches one slot), sent together.
 */
import { clusterSlot } from './redis-slot.js';
import type { LuaScript } from './redis-eval.js';
import type { RedisLeaseClient } from './redis-types.js';

/** Sends one script call: `c` runs `s` over `keys` with `args`. */
export type ScriptSend = (c: RedisLeaseClient, s: LuaScript, keys: string[], args: string[], signal: AbortSignal | undefined) => Promise<unknown>;

/**
 * Runs `s` over `keys` (with `args[i]` for `keys[i]`) through `send`, and reads each key's
 * reply with `read`. On a cluster, when a slot's call fails, the others are still waited for
 * before the first failure is thrown: a batch claim that fails on one master gives back what it
 * claimed on the others (`giveBackClaims`) only once they have answered.
 */
export async function runBatch<T>(
  c: RedisLeaseClient,
  s: LuaScript,
  keys: string[],
  args: string[][],
  read: (reply: unknown, index: number) => T,
  signal: AbortSignal | undefined,
  send: ScriptSend,
): Promise<T[]> {
  if (keys.length === 0) return [];
  const call = async (callKeys: string[], callArgs: string[]): Promise<unknown[]> => (await send(c, s, callKeys, callArgs, signal)) as unknown[];
  if (!c.isCluster) {
    const replies = await call(keys, args.flat());
    return keys.map((_, i) => read(replies[i], i));
  }
  const bySlot = new Map<number, number[]>();
  // ioredis sends `keyPrefix + key` (Cluster: its own keyPrefix, or redisOptions.keyPrefix, which it copies there).
  const keyPrefix = c.options?.keyPrefix;
  const sent = keyPrefix === undefined || keyPrefix.length === 0 ? '' : typeof keyPrefix === 'string' ? keyPrefix : Buffer.from(keyPrefix).toString();
  keys.forEach((key, i) => {
    const slot = clusterSlot(sent + key);
    const group = bySlot.get(slot);
    if (group) group.push(i);
    else bySlot.set(slot, [i]);
  });
  const out = new Array<T>(keys.length);
  const calls = await Promise.allSettled(
    [...bySlot.values()].map(async (indexes) => {
      const replies = await call(indexes.map((i) => keys[i]!), indexes.flatMap((i) => args[i]!));
      indexes.forEach((index, j) => {
        out[index] = read(replies[j], index);
      });
    }),
  );
  const failed = calls.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) throw failed.reason;
  return out;
}
