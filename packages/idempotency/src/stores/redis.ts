/**
 * Idempotency records on Redis and Redis Cluster: a `@steadyfn/lease` Redis store (one key
 * per record, one Lua call per claim, per completion and per batch — per slot on a cluster;
 * leases judged by the key's TTL on the server).
 */
import type { Logger } from '@steadyfn/handler';
import { checkKnownKeys, clientOption, invalidOption, keysOf, oneOfOption } from '@steadyfn/handler/internal';
import type { RedisLeaseClient } from '@steadyfn/lease';
import { redisLeaseStoreOf } from '@steadyfn/lease/internal';
import type { IdempotencyStore } from '../types.js';
import { idempotencyStoreOf } from './lease.js';
import { noticeBox, withNotices } from './notices.js';

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a function returning one (e.g. a cached connection
   * getter: `() => cache.get()`). A getter is asked once more for a claim that provably never
   * left ioredis, which is then sent again (the first invocation after a freeze whose server
   * dropped the connection answers, not 503). A fixed client is never sent a claim twice.
   */
  client: RedisLeaseClient | (() => RedisLeaseClient | Promise<RedisLeaseClient>);
  /**
   * Prepended to every key.
   * @default 'idem:'
   */
  prefix?: string;
  /**
   * `'scope'` wraps the function's scope in a hash tag (`idem:{scope}:id`) so all of one
   * function's records live in one cluster slot and a batch is always one call. `false`:
   * records spread over the cluster, and a batch costs one call per slot touched.
   * @default false
   */
  hashTag?: 'scope' | false;
  /**
   * Where the store's warning goes: once per store, `LEASE_STORE_EVICTS` (level `warn`, field
   * `code`) when a Redis server it claims on may evict records (`maxmemory-policy` other than
   * `noeviction`, read by `INFO memory` beside the first claim; the README's Redis section). Its
   * code and text only: no key, value, URL or setting read. A `Logger` (`createLogger()` of
   * `@steadyfn/handler`, or an object with its methods; the store calls `warn`).
   * @default the log of the invocation whose claim met the server (`ctx.log`, at its end)
   * @example
   * ```ts
   * import { createLogger } from '@steadyfn/handler';
   *
   * const store = redisStore({ client: redis, logger: createLogger({ component: 'orders' }) });
   * ```
   */
  logger?: Logger;
}

/**
 * An idempotency store on Redis ≥ 6.2 or Redis Cluster through ioredis.
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options.
 * @example
 * ```ts
 * import { redisStore } from '@steadyfn/idempotency';
 *
 * // redis: an ioredis Redis or Cluster
 * const store = redisStore({ client: redis });
 * ```
 */
export function redisStore(options: RedisStoreOptions): IdempotencyStore {
  if (typeof options !== 'object' || options === null) invalidOption('redisStore', 'options', 'an object', options);
  checkKnownKeys('redisStore', '', options, keysOf<RedisStoreOptions>({ client: true, prefix: true, hashTag: true, logger: true }));
  clientOption('redisStore', 'client', options.client, ['evalsha', 'eval'], 'an ioredis Redis or Cluster');
  // Checked here too, so the error names redisStore(), which the user called, not the lease store.
  if (options.prefix !== undefined && typeof options.prefix !== 'string') invalidOption('redisStore', 'prefix', 'a string', options.prefix);
  const tagScope = oneOfOption<'scope' | false>('redisStore', 'hashTag', options.hashTag, ['scope', false], false) === 'scope';
  // A server that may evict records (`LEASE_STORE_EVICTS`): the lease store warns through
  // `logger` when one is given, else the plugin logs it once (plugin.ts `finally`).
  const notices = noticeBox();
  const leaseOptions = { client: options.client, prefix: options.prefix ?? 'idem:' };
  const leases = options.logger === undefined ? redisLeaseStoreOf('redisStore', leaseOptions, notices.notify) : redisLeaseStoreOf('redisStore', { ...leaseOptions, logger: options.logger });
  const store = idempotencyStoreOf(leases);
  if (!tagScope) return withNotices(store, notices.take);
  // `scope:id` → `{scope}:id`: the scope alone decides the slot.
  const tagged = (key: string): string => {
    const colon = key.indexOf(':');
    return colon > 0 ? `{${key.slice(0, colon)}}${key.slice(colon)}` : `{${key}}`;
  };
  return withNotices({
    claim: (request, callOptions) => store.claim({ ...request, key: tagged(request.key) }, callOptions),
    claimMany: (requests, callOptions) => store.claimMany(requests.map((r) => ({ ...r, key: tagged(r.key) })), callOptions),
    complete: (request, callOptions) => store.complete({ ...request, key: tagged(request.key) }, callOptions),
    release: (request, callOptions) => store.release({ ...request, key: tagged(request.key) }, callOptions),
    completeMany: (requests, callOptions) => store.completeMany(requests.map((r) => ({ ...r, key: tagged(r.key) })), callOptions),
    get: (key, callOptions) => store.get(tagged(key), callOptions),
    joinable: (request) => store.joinable!({ ...request, key: tagged(request.key) }),
  }, notices.take);
}
