/**
 * A Redis client as the function sees it (`ctx.redis`): the real client, except that each
 * command call goes through the handle, so a read broken by a connection error is sent
 * once more on a repaired client, and a write is never sent twice blindly.
 */
import { RUN_WITH, type RunWith } from './records.js';
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

/**
 * Builtin commands whose method is not a single command with a promised reply: `multi()` gives
 * a `Pipeline` to chain commands on (going through `handle.run` made it a promise of one), and
 * Pub/Sub puts the connection in subscriber mode. They are the client's own, unchanged.
 */
const PASSED_THROUGH: ReadonlySet<string> = new Set(['multi', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

const SAFE: RunOptions = { safe: true };
// One command per call: an error proving it unsent lets even a write be sent once more.
const UNSAFE: RunOptions = { single: true };

/**
 * Wraps a handle's client so that command methods run through `handle.run` (bounded by the
 * running invocation's signal), with `safe` set for read-only commands. Command methods are the
 * builtin commands, their twins with replies as bytes (`getBuffer`, …) and `call` /
 * `callBuffer` / `send_command` (ioredis' alias of `call`; a read when their first argument
 * names a read-only command). Other members
 * (pipeline, multi, Pub/Sub, status, on, …) are the current client's own. A call with a Node-style
 * callback is passed through unchanged. `redis()` and `redisCluster()` put this view on ctx.
 *
 * The view is a plain object whose prototype holds one wrapper per command, made once, so a
 * command call is an ordinary method call (no Proxy trap on the hot path); only members that
 * are not commands are looked up through a Proxy on the current client, further up the chain.
 *
 * @param handle - The handle whose client (current one, after rebuilds) receives the commands.
 * @param first - A connected client, used to list the commands and as the target before any rebuild.
 * @param readOnly - Lower-case command names that may be repeated after a connection error.
 * @default readOnly READ_ONLY_COMMANDS
 */
export function commandView<T extends Commander>(handle: ClientHandle<T>, first: T, readOnly: ReadonlySet<string> = READ_ONLY_COMMANDS): T {
  type Methods = Record<string, (...args: unknown[]) => unknown>;
  // After a rebuild the handle holds a new client; members come from that one.
  const members = new Proxy(first, {
    get(target, prop) {
      const client = handle.peek() ?? target;
      const value: unknown = Reflect.get(client, prop, client);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(client) : value;
    },
  });
  const commands = Object.create(members) as Methods;
  // The handle's run taking the arguments as they are (no closure per call), when it has one.
  const runWith = (handle as { [RUN_WITH]?: RunWith<T> })[RUN_WITH] ?? ((send, args, options) => handle.run((c) => send(c, args), options));
  const wrap = (method: string, optionsOf: (args: unknown[]) => RunOptions): void => {
    if (typeof (first as unknown as Methods)[method] !== 'function') return;
    const send = (c: T, args: unknown[]): unknown => (c as unknown as Methods)[method]!(...args);
    commands[method] = (...args: unknown[]): unknown => {
      if (typeof args[args.length - 1] === 'function') return send(handle.peek() ?? first, args);
      return runWith(send, args, optionsOf(args));
    };
  };
  for (const name of first.getBuiltinCommands()) {
    if (PASSED_THROUGH.has(name)) continue;
    const options = readOnly.has(name) ? SAFE : UNSAFE;
    const fixed = (): RunOptions => options;
    wrap(name, fixed);
    // Its twin with replies as bytes (`getBuffer`, `hgetallBuffer`, …): the same command.
    wrap(`${name}Buffer`, fixed);
  }
  // The generic `call('GET', key)`: one command, named by its first argument.
  const byName = (args: unknown[]): RunOptions => (typeof args[0] === 'string' && readOnly.has(args[0].toLowerCase()) ? SAFE : UNSAFE);
  wrap('call', byName);
  wrap('callBuffer', byName);
  // ioredis' deprecated alias of `call` (untyped, still used by code written for node_redis).
  wrap('send_command', byName);
  // In front, an object of its own: the command prototype is then used as a prototype, which V8 keeps in fast mode.
  return Object.create(commands) as T;
}
