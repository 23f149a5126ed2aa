/**
 * The slice of ioredis the Redis outbox calls, structural so the package's types import no
 * driver, and one `EVALSHA`-then-`EVAL` helper for its scripts.
 */
import { createHash } from 'node:crypto';

/** An ioredis `Redis` or `Cluster` (or anything with the same methods). */
export interface RedisLike {
  readonly isCluster: boolean;
  evalsha(...args: any[]): Promise<unknown>;
  eval(...args: any[]): Promise<unknown>;
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** A client, or a function returning one (e.g. a cached getter from `@steadyfn/connections`). */
export type RedisClientOption = RedisLike | (() => RedisLike | Promise<RedisLike>);

/** Resolves a `RedisClientOption` to its client. */
export function clientGetter(option: RedisClientOption): () => Promise<RedisLike> {
  if (typeof option === 'function') return async () => option();
  return async () => option;
}

/** A Lua script with its SHA1, as `EVALSHA` names it. */
export interface LuaScript {
  source: string;
  sha: string;
}

/** Wraps Lua source; the SHA is what Redis caches it under. */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs a script by SHA, loading it with `EVAL` the first time a server has not seen it. */
export async function runScript(client: RedisLike, script: LuaScript, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}

/**
 * A reply of field/value or member/score pairs as a flat list: ioredis answers `call()` of
 * `WITHSCORES` and `HGETALL` as nested pairs (RESP3 shape) or flat, by version.
 */
export function flatPairs(reply: unknown): string[] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) return Object.entries(reply as Record<string, unknown>).flat().map(String);
  return reply.flatMap((item) => (Array.isArray(item) ? item.map(String) : [String(item)]));
}
