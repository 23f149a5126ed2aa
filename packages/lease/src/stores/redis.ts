/**
 * The lease store on Redis and Redis Cluster (ioredis). One key per lease, one Lua call per
 * operation — per batch on a single server, per slot on a cluster (`redis-batch.ts`). This file:
 * the options and the store's calls; what they share (prefix, client, running a script):
 * `redis-context.ts`; claims and their give-back: `redis-claim.ts`; settles: `redis-settle.ts`.
 * Values: `redis-record.ts`; scripts: `redis-scripts.ts` (claim, renew, read) and
 * `redis-settle-scripts.ts` (settle, give-back); reading their replies: `redis-replies.ts`; the
 * public shapes: `redis-types.ts`.
 *
 *   claim / claimMany    Lua: GET + PTTL, SET … PX lease+retain when absent, released or expired
 *                        (claim: its own one-key script, EVALSHA straight from the request, no
 *                        batch bookkeeping, a flat reply)
 *   settle / settleMany  Lua: GET, compare state, generation and owner, SET (done/released) or DEL
 *                        (settle: its own one-key script, an integer reply)
 *   renew                Lua: GET, compare state, generation and owner, SET (held, next generation)
 *   get                  Lua: GET + PTTL
 */
import { checkKnownKeys, clientOption, invalidOption, keysOf, msOption, throwIfAborted } from '@steadyfn/handler/internal';
import type { ClaimRequest, SettleRequest } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkRenew, checkSettle } from '../validate.js';
import { redisClaims } from './redis-claim.js';
import { redisStoreContext } from './redis-context.js';
import { logNotices, type LeaseStoreNotice } from './redis-eviction.js';
import { recordOf } from './redis-replies.js';
import { READ, RENEW } from './redis-scripts.js';
import { HOLDS_FUNCTION, SETTLE_FRAGMENT, SETTLE_FUNCTION } from './redis-settle-scripts.js';
import { redisSettles, settleArgs } from './redis-settle.js';
import type { RedisLeaseStore, RedisLeaseStoreOptions } from './redis-types.js';

export type { RedisLeaseClient, RedisLeaseStore, RedisLeaseStoreOptions, RedisSettleCall, RedisSettleFragment } from './redis-types.js';

/**
 * A lease store on Redis ≥ 6.2 or Redis Cluster through ioredis.
 *
 * A command ioredis sends again after a reconnect (`autoResendUnfulfilledCommands`, on by
 * default), its first run applied and its reply lost, is answered as that first run would have
 * been: a claim (`claim` or `claimMany`, alike) finding the key held, live, by its own `owner`
 * with its own `data` answers `claimed: true` with the fence the key holds and the lease that run
 * set (nothing written, no new fence, not extended); a settle finding generation fence + 1 done
 * with its `data` (or released) answers `true`. A resent renewal cannot be told from a second
 * renewal with its spent fence: it answers `renewed: false` (the README's Redis section).
 *
 * A claim that throws instead (a client that does not resend: its reply lost, a cluster slot's
 * call failed, an abort) holds nothing it wrote: before it rejects, every key still held by the
 * request's owner with its data is released (`GIVE_BACK`), for up to 2 s (`LeaseStore`). A claim
 * that provably never reached the server wrote nothing, and rejects with
 * `LeaseStoreUnavailableError` at once, sending no give-back: on a single server (not a Cluster),
 * ioredis refused it before writing (`Stream isn't writeable…`, its offline queue off), or it was
 * sent while the client was not connected and ioredis dropped it from its offline queue
 * (`MaxRetriesPerRequestError`, `Connection is closed.`) before the client became ready again.
 * With a getter (`client` a function), such a claim is first sent once more on the client the
 * getter gives then (same signal; a second failure is the call's).
 * The give-back goes on the claim's own client, by `EVAL`: a claim that timed out (`commandTimeout`)
 * and runs later runs before it, never after (`giveBackClaims`).
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options.
 * @example
 * ```ts
 * import { redisLeaseStore } from '@steadyfn/lease';
 *
 * // redis: an ioredis Redis or Cluster
 * const leases = redisLeaseStore({ client: redis, prefix: 'relay:' });
 * const claim = await leases.claim({ key: 'orders', owner: crypto.randomUUID(), leaseMs: 30_000 });
 * ```
 */
export function redisLeaseStore(options: RedisLeaseStoreOptions): RedisLeaseStore {
  return redisLeaseStoreOf('redisLeaseStore', options);
}

/**
 * `redisLeaseStore()` built for a sibling's factory (`owner`, e.g. `redisStore` of
 * `@steadyfn/idempotency`), so an option error — when the store is made, or a getter's result
 * checked at use — names the function the user called. `notify`, when given, is told once what
 * the store learns of its server that should be logged: `LEASE_STORE_EVICTS` when a server it
 * claims on may evict keys (`redis-eviction.ts`; the sibling logs it through its invocation's
 * logger); without it, `options.logger` (or its default) logs it.
 */
export function redisLeaseStoreOf(owner: string, options: RedisLeaseStoreOptions, notify?: (notice: LeaseStoreNotice) => void): RedisLeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption(owner, 'options', 'an object', options);
  checkKnownKeys(owner, '', options, keysOf<RedisLeaseStoreOptions>({ client: true, prefix: true, retainMs: true, logger: true }));
  const client = options.client;
  clientOption(owner, 'client', client, ['evalsha', 'eval'], 'an ioredis Redis or Cluster');
  const prefix = options.prefix ?? 'lease:';
  if (typeof prefix !== 'string') invalidOption(owner, 'prefix', 'a string', prefix);
  const retainMs = msOption(owner, 'retainMs', options.retainMs, 3_600_000, 0);
  // A sibling's `notify` (it logs through its own logger), else the `logger` option's warning.
  const ctx = redisStoreContext(owner, client, prefix, retainMs, notify ?? logNotices(owner, options.logger));
  const { fixed, redisKey, clientFor, run } = ctx;
  const { claimChecked, claimOne, claimAfterConnect } = redisClaims(ctx);
  const { settleChecked, settleOne, settleAfterConnect } = redisSettles(ctx);

  return {
    // Not async: a duplicate's answer (a live record) costs one promise hop fewer.
    claim(request, callOptions) {
      let r: ClaimRequest;
      try {
        r = checkClaim(request);
        throwIfAborted(callOptions?.signal);
      } catch (error) {
        return Promise.reject(error);
      }
      return fixed === undefined ? claimAfterConnect(r, callOptions) : claimOne(fixed, r, callOptions);
    },
    async claimMany(requests, callOptions) {
      return claimChecked(checkBatch(requests, checkClaim), callOptions);
    },
    // Not async, as `claim`: a first call's completion costs no extra promise hops.
    settle(request, callOptions) {
      let r: SettleRequest;
      try {
        r = checkSettle(request);
        throwIfAborted(callOptions?.signal);
      } catch (error) {
        return Promise.reject(error);
      }
      return fixed === undefined ? settleAfterConnect(r, callOptions) : settleOne(fixed, r, callOptions);
    },
    async settleMany(requests, callOptions) {
      return settleChecked(checkBatch(requests, checkSettle), callOptions);
    },
    async renew(request, callOptions) {
      const r = checkRenew(request);
      const signal = callOptions?.signal;
      const c = await clientFor(signal);
      const sentAt = Date.now();
      const reply = (await run(c, RENEW, [redisKey(r.key)], [r.owner, String(r.fence), String(r.leaseMs)], signal)) as [number, number?];
      return Number(reply[0]) === 1 ? { renewed: true, fence: Number(reply[1]), expiresAt: sentAt + r.leaseMs } : { renewed: false };
    },
    async get(key, callOptions) {
      const k = redisKey(checkGetKey(key));
      const signal = callOptions?.signal;
      const c = await clientFor(signal);
      const now = Date.now();
      const reply = (await run(c, READ, [k], [], signal)) as [string, number] | null;
      return reply ? recordOf(String(reply[0]), Number(reply[1]), now) : undefined;
    },
    settleFragment: { source: SETTLE_FRAGMENT, name: SETTLE_FUNCTION, check: HOLDS_FUNCTION, args: ['key', 'owner', 'fence', 'mode', 'data', 'keepMs'] },
    settleCall(request) {
      const r = checkSettle(request);
      return { key: redisKey(r.key), args: settleArgs(r) };
    },
    redisKey,
  };
}
