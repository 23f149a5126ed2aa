/**
 * What the Redis lease store's calls share (`redis.ts` builds it once per store): the key
 * prefix, the retain time, the client (a fixed one, or a getter's, checked at each use) and the
 * one way every script runs — its errors read as the store's (`redisStoreError`).
 */
import { checkedGetter, raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import { refusedSlots, type RefusedSlots } from './redis-batch.js';
import { runLuaScript, type LuaScript } from './redis-eval.js';
import { evictionWatch, type LeaseStoreNotice } from './redis-eviction.js';
import type { RedisLeaseClient, RedisLeaseStoreOptions } from './redis-types.js';
import { redisStoreError } from './redis-unavailable.js';
import { watchDropped } from './redis-unsent.js';

/** Runs `s` on `c` with `keys` and `args`; rejects with the store's error. */
export type RunScript = (c: RedisLeaseClient, s: LuaScript, keys: string[], args: string[], signal: AbortSignal | undefined) => Promise<unknown>;

/** One Redis lease store's settings and client access. */
export interface RedisStoreContext {
  /** How long a done or released record is kept past its lease (ms), and as a script argument. */
  retainMs: number;
  retainArg: string;
  /** The getter of a `client` given as a function (checked at each use); `undefined` for a fixed client. */
  getClient: (() => Promise<RedisLeaseClient>) | undefined;
  /** The client given as is; `undefined` with a getter. */
  fixed: RedisLeaseClient | undefined;
  /** The Redis key of a lease key: `prefix` + key. */
  redisKey(key: string): string;
  /** The getter's client; a getter that fails as the driver does (e.g. a raw `connect()`) is the store unavailable. */
  connected(signal: AbortSignal | undefined): Promise<RedisLeaseClient>;
  /** The client for a batch call, `renew` or `get`, once `signal` is checked: the fixed one, or the getter's. */
  clientFor(signal: AbortSignal | undefined): RedisLeaseClient | Promise<RedisLeaseClient>;
  /** A script by `EVALSHA` (then `EVAL` on `NOSCRIPT`). */
  run: RunScript;
  /**
   * `run`, with the script's source (`EVAL`) every time: the give-back's. A give-back may be
   * answered only after it timed out (a paused server, a stalled link); its `EVALSHA` would then
   * answer `NOSCRIPT` unheard — no `EVAL` follows a rejected call — and, the give-back's script
   * running only on failures, it is usually not loaded. Sent whole, whenever it runs it releases.
   */
  runSource: RunScript;
  /** Called with each claim's client before the claim is sent: asks a client met for the first time its eviction policy (`evictionWatch`). */
  sawClient(c: RedisLeaseClient): void;
  /** The cluster slots whose batch call was refused lately: their batches go key by key at once (`runBatch`). */
  refused: RefusedSlots;
}

/**
 * The context of a store on `options.client` under `prefix`; `owner` names the factory in a
 * getter's errors; `notify` gets what the store learns of its server (`LEASE_STORE_EVICTS`), once.
 */
export function redisStoreContext(owner: string, client: RedisLeaseStoreOptions['client'], prefix: string, retainMs: number, notify?: (notice: LeaseStoreNotice) => void): RedisStoreContext {
  // A getter's result is checked at each use (a connections handle, a function: CONFIG_INVALID, not a TypeError).
  const getClient = typeof client === 'function' ? checkedGetter<RedisLeaseClient>(owner, 'client', client, ['evalsha', 'eval'], 'an ioredis Redis or Cluster') : undefined;
  const fixed = typeof client === 'function' ? undefined : client;
  if (fixed !== undefined) watchDropped(fixed);

  const connected = async (signal: AbortSignal | undefined): Promise<RedisLeaseClient> => {
    try {
      return watchDropped(await abortable(Promise.resolve(getClient!()), signal));
    } catch (error) {
      throw redisStoreError(error);
    }
  };

  return {
    retainMs,
    retainArg: String(retainMs),
    getClient,
    fixed,
    redisKey: (key) => prefix + key,
    connected,
    clientFor(signal) {
      throwIfAborted(signal);
      return fixed ?? connected(signal);
    },
    run: (c, s, keys, args, signal) => runLuaScript(c, s, keys, args, { signal }).catch((error: unknown) => Promise.reject(redisStoreError(error))),
    sawClient: evictionWatch(notify),
    refused: refusedSlots(),
    runSource: (c, s, keys, args, signal) => abortable(c.eval(s.source, keys.length, ...keys, ...args), signal).catch((error: unknown) => Promise.reject(redisStoreError(error))),
  };
}
