/**
 * The Redis lease store's public shapes: the client it calls, its options, and the pieces a
 * caller's own Lua script uses to settle a lease inside its atomic write. Structural, so the
 * package's types import no driver.
 */
import type { Logger } from '@steadyfn/handler';
import type { LeaseStore, SettleRequest } from '../types.js';

/**
 * The client the store calls: an ioredis `Redis` or `Cluster` satisfies it. Structural, so
 * the package's types import no driver. Every operation is a Lua script (`EVALSHA`, and `EVAL`
 * once per script per server, when it answers `NOSCRIPT`).
 */
export interface RedisLeaseClient {
  readonly isCluster: boolean;
  /** ioredis's options: a `keyPrefix` there is prepended to every key sent, so it decides a key's cluster slot too. */
  readonly options?: { readonly keyPrefix?: string | Uint8Array | undefined };
  /**
   * ioredis' connection state (`ready`, `reconnecting`, `end`, …) and its `ready` event: with
   * them, a claim sent while the client was not connected, and failed by ioredis before it became
   * ready, is known never to have been written, so no give-back is sent for it.
   */
  readonly status?: string;
  on?(event: 'ready', listener: () => void): unknown;
  evalsha(...args: any[]): Promise<unknown>;
  eval(...args: any[]): Promise<unknown>;
  /** ioredis' `call`: the store sends `INFO memory` with it, once per client, to read the server's eviction policy (`redis-eviction.ts`). */
  call?(...args: any[]): Promise<unknown>;
  /** ioredis Cluster's `nodes('master')`: each master is asked its eviction policy. */
  nodes?(role: 'master'): Array<{ call?(...args: any[]): Promise<unknown> }>;
}

/** Options of `redisLeaseStore`. */
export interface RedisLeaseStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a function returning one (e.g. a cached connection
   * getter). A getter is asked at each call, and once more for a claim that provably never left
   * ioredis (`Stream isn't writeable…` on a single server): that claim is sent again on the
   * getter's client of then, under the same signal. A fixed client is never sent a claim twice.
   */
  client: RedisLeaseClient | (() => RedisLeaseClient | Promise<RedisLeaseClient>);
  /**
   * Prepended to every key. On a cluster, a hash tag in the key (`{order-42}:lease`) or in the
   * prefix decides the slot, as Redis documents.
   * @default 'lease:'
   */
  prefix?: string;
  /**
   * How long a record stays after its lease or keep time ends, so its generation (the fence)
   * is remembered and a late settle is judged against it; after that the key is gone and the
   * next claim starts again at fence 1. Whole milliseconds ≥ 0. Keep it longer than any holder
   * may outlive its lease: with `0`, a takeover after the lease ran out (and a claim after a
   * release) gets fence 1 again, the same fence the stale holder has — fencing tokens then do
   * not increase, so use `0` only where nothing is fenced.
   * @default 3_600_000 (1 hour)
   */
  retainMs?: number;
  /**
   * Where the store's warnings go: once per store, `LEASE_STORE_EVICTS` (level `warn`, field
   * `code`) when a Redis server it claims on answers `INFO memory` with a `maxmemory-policy`
   * other than `noeviction` — it may evict live leases (the README's Redis section). The store
   * asks each client (each master of a Cluster) once, beside its first claim; nothing is logged
   * when an ACL refuses `INFO`. The line holds no key, value, URL or setting read. A `Logger`
   * (`createLogger()` of `@steadyfn/handler`, or an object of your own with its methods; the
   * store calls `warn`); anything else is refused (`CONFIG_INVALID` naming `logger`).
   * @default the running invocation's `ctx.log` (inside a `@steadyfn/handler` function), else a
   *   JSON logger on stdout with `component: "steadyfn-lease"`
   * @example
   * ```ts
   * import { createLogger } from '@steadyfn/handler';
   *
   * const leases = redisLeaseStore({ client: redis, logger: createLogger({ component: 'relay' }) });
   * ```
   */
  logger?: Logger;
}

/** The layout a Lua script of the caller's follows to settle inside its own atomic write. */
export interface RedisSettleFragment {
  /**
   * Lua source defining `local function steadyfn_lease_settle(key, owner, fence, mode, data,
   * keepMs)`; it returns 1 after settling, 0 (having written nothing) when `owner` no longer
   * holds generation `fence`. It also defines `steadyfn_lease_holds(key, owner, fence)`: 1 when
   * that settle would succeed, 0 otherwise, writing nothing — so a script that settles several
   * leases (or checks other things) can check everything before it writes anything — and
   * `steadyfn_lease_record(value)`, which both use to recognise a lease value (give your own
   * functions other names). Put it at the top of your script (after a `#!lua` shebang line, if
   * any).
   */
  source: string;
  /** `'steadyfn_lease_settle'`. */
  name: string;
  /** `'steadyfn_lease_holds'`: the check, with the first three arguments of the settle. */
  check: string;
  /** What to pass, in order: see `RedisLeaseStore.settleCall`. */
  args: ReadonlyArray<'key' | 'owner' | 'fence' | 'mode' | 'data' | 'keepMs'>;
}

/** The key and arguments for one `steadyfn_lease_settle` call. */
export interface RedisSettleCall {
  /** The Redis key (prefix included): pass it in KEYS so a cluster routes the script to its slot. */
  key: string;
  /** `[owner, fence, mode, data, keepMs]` as strings: pass them in ARGV. */
  args: [owner: string, fence: string, mode: 'd' | 'r', data: string, keepMs: string];
}

/** A lease store on Redis, with the pieces another script needs to settle atomically. */
export interface RedisLeaseStore extends LeaseStore {
  /**
   * The settle as a Lua fragment another script can include (e.g. an outbox write). Unlike the
   * store's own `settle`, `steadyfn_lease_settle` answers 0 to a resend of a settle it applied
   * (the script's other writes must not run twice): read the key to tell.
   */
  readonly settleFragment: RedisSettleFragment;
  /**
   * The KEYS entry and ARGV for settling `request` inside your own script.
   * @throws LeaseRequestError for a malformed request.
   * @example
   * ```ts
   * const call = store.settleCall({ key: 'relay', owner, fence, data: 'sent', keepMs: 60_000 });
   * await redis.eval(
   *   `${store.settleFragment.source}
   *   if steadyfn_lease_settle(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) == 0 then return 0 end
   *   redis.call('XADD', KEYS[2], '*', 'event', ARGV[6])
   *   return 1`,
   *   2, call.key, '{relay}:stream', ...call.args, 'payload');
   * ```
   */
  settleCall(request: SettleRequest): RedisSettleCall;
  /** The Redis key a lease key is stored under (the prefix added). */
  redisKey(key: string): string;
}
