/**
 * A Redis client as the function sees it (`ctx.redis`): the real client, except that each
 * command call goes through the handle, so a read broken by a connection error is sent
 * once more on a repaired client, and a write is never sent twice blindly.
 */
import type { ClientHandle, RunOptions } from './spec.js';

/**
 * Commands that only read, so sending one twice cannot change anything. Anything not
 * listed (writes, scripts, transactions, module commands) is repeated only when the error
 * proves it was never sent.
 */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'get', 'mget', 'getrange', 'substr', 'strlen', 'lcs', 'getbit', 'bitcount', 'bitpos',
  'exists', 'ttl', 'pttl', 'expiretime', 'pexpiretime', 'type', 'keys', 'scan', 'randomkey', 'dbsize', 'dump',
  'hget', 'hmget', 'hgetall', 'hkeys', 'hvals', 'hlen', 'hexists', 'hstrlen', 'hscan', 'hrandfield',
  'lrange', 'lindex', 'llen', 'lpos',
  'smembers', 'sismember', 'smismember', 'scard', 'srandmember', 'sscan', 'sinter', 'sunion', 'sdiff', 'sintercard',
  'zrange', 'zrangebyscore', 'zrevrange', 'zrevrangebyscore', 'zrangebylex', 'zrevrangebylex', 'zscore', 'zmscore',
  'zrank', 'zrevrank', 'zcard', 'zcount', 'zlexcount', 'zscan', 'zrandmember', 'zinter', 'zunion', 'zdiff', 'zintercard',
  'xrange', 'xrevrange', 'xlen', 'xread',
  'geopos', 'geodist', 'geohash', 'geosearch', 'georadius_ro', 'georadiusbymember_ro',
  'pfcount', 'sort_ro', 'eval_ro', 'evalsha_ro', 'fcall_ro',
  'ping', 'echo', 'time', 'info',
]);

interface Commander {
  getBuiltinCommands(): string[];
}

const SAFE: RunOptions = { safe: true };
const UNSAFE: RunOptions = {};

/**
 * Wraps a handle's client so that command methods run through `handle.run` (bounded by the
 * running invocation's signal), with `safe` set for read-only commands. Other members
 * (pipeline, multi, status, on, …) are the current client's own. A call with a Node-style
 * callback is passed through unchanged. `redis()` and `redisCluster()` put this view on ctx.
 *
 * @param handle - The handle whose client (current one, after rebuilds) receives the commands.
 * @param first - A connected client, used to list the commands and as the target before any rebuild.
 * @param readOnly - Lower-case command names that may be repeated after a connection error.
 * @default readOnly READ_ONLY_COMMANDS
 */
export function commandView<T extends Commander>(handle: ClientHandle<T>, first: T, readOnly: ReadonlySet<string> = READ_ONLY_COMMANDS): T {
  const commands = new Set(first.getBuiltinCommands());
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(first, {
    get(target, prop) {
      // Commands (the hot path) are wrapped once; the wrapper finds the current client itself.
      const cached = wrappers.get(prop as string);
      if (cached) return cached;
      // After a rebuild the handle holds a new client; members come from that one.
      const client = handle.peek() ?? target;
      const value: unknown = Reflect.get(client, prop, client);
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !commands.has(prop)) return (value as (...a: unknown[]) => unknown).bind(client);
      const options = readOnly.has(prop) ? SAFE : UNSAFE;
      const wrapper = (...args: unknown[]): unknown => {
        if (typeof args[args.length - 1] === 'function') {
          const live = handle.peek() ?? target;
          return (live as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
        }
        return handle.run((c) => (c as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args), options);
      };
      wrappers.set(prop, wrapper);
      return wrapper;
    },
  });
}
