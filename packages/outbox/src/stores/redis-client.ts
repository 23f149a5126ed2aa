/**
 * The slice of ioredis the Redis outbox calls, structural so the package's types import no
 * driver. Scripts run through `@steadyfn/lease`'s `runLuaScript` (one EVALSHA-then-EVAL rule).
 */
import { checkedGetter } from '@steadyfn/handler/internal';

/** One server of a cluster, as ioredis `Cluster.nodes()` gives it. */
export interface RedisNodeLike {
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** An ioredis `Redis` or `Cluster` (or anything with the same methods). */
export interface RedisLike {
  readonly isCluster: boolean;
  evalsha(...args: any[]): Promise<unknown>;
  eval(...args: any[]): Promise<unknown>;
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
  /**
   * Redis Cluster (ioredis `Cluster`): the connections to its masters, scanned when the
   * partition list must be rebuilt (`redis-partition-epoch.ts`). Unused on one server.
   */
  nodes?(role: 'master'): ReadonlyArray<RedisNodeLike>;
}

/** A client, or a function returning one (e.g. a cached getter from `@steadyfn/connections`). */
export type RedisClientOption = RedisLike | (() => RedisLike | Promise<RedisLike>);

/**
 * Resolves a `RedisClientOption` to its client; a getter's result is checked at each use.
 *
 * @throws ConfigurationError (field `client`) when the getter returns what is not a client.
 */
export function clientGetter(option: RedisClientOption, owner = 'redisOutbox'): () => Promise<RedisLike> {
  return checkedGetter<RedisLike>(owner, 'client', option, ['evalsha', 'eval', 'call'], 'an ioredis Redis or Cluster');
}

/**
 * A reply of field/value or member/score pairs as a flat list of strings: ioredis answers
 * `call()` of `WITHSCORES` and `HGETALL` as nested pairs (RESP3 shape) or flat, by version.
 */
export function flatPairs(reply: unknown): string[] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) return Object.entries(reply as Record<string, unknown>).flat().map(String);
  return reply.flatMap((item) => (Array.isArray(item) ? item.map(String) : [String(item)]));
}
