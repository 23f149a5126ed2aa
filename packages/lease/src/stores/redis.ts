/**
 * The lease store on Redis and Redis Cluster (ioredis). One key per lease, one Lua call per
 * operation — per batch on a single server, per slot on a cluster (`redis-batch.ts`). Values:
 * `redis-record.ts`; scripts: `redis-scripts.ts` (claim, renew, read) and
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
import { checkedGetter, checkKnownKeys, clientOption, invalidOption, keysOf, msOption, raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import { LeaseRecordUnreadableError } from '../errors.js';
import type { CallOptions, ClaimRequest, ClaimResult, SettleRequest } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkRenew, checkSettle } from '../validate.js';
import { giveBack } from './give-back.js';
import { runBatch } from './redis-batch.js';
import { runLuaScript, sendLuaScript, type LuaScript } from './redis-eval.js';
import { claimOneReply, claimReply, recordOf } from './redis-replies.js';
import { CLAIM, CLAIM_ONE, READ, RENEW } from './redis-scripts.js';
import { GIVE_BACK, HOLDS_FUNCTION, SETTLE, SETTLE_FRAGMENT, SETTLE_FUNCTION, SETTLE_ONE } from './redis-settle-scripts.js';
import type { RedisLeaseClient, RedisLeaseStore, RedisLeaseStoreOptions, RedisSettleCall } from './redis-types.js';
import { redisStoreError } from './redis-unavailable.js';
import { watchDropped, watchSend } from './redis-unsent.js';

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
 * checked at use — names the function the user called.
 */
export function redisLeaseStoreOf(owner: string, options: RedisLeaseStoreOptions): RedisLeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption(owner, 'options', 'an object', options);
  checkKnownKeys(owner, '', options, keysOf<RedisLeaseStoreOptions>({ client: true, prefix: true, retainMs: true }));
  const client = options.client;
  clientOption(owner, 'client', client, ['evalsha', 'eval'], 'an ioredis Redis or Cluster');
  const prefix = options.prefix ?? 'lease:';
  if (typeof prefix !== 'string') invalidOption(owner, 'prefix', 'a string', prefix);
  const retainMs = msOption(owner, 'retainMs', options.retainMs, 3_600_000, 0);
  const retainArg = String(retainMs);
  // A getter's result is checked at each use (a connections handle, a function: CONFIG_INVALID, not a TypeError).
  const getClient = typeof client === 'function' ? checkedGetter<RedisLeaseClient>(owner, 'client', client, ['evalsha', 'eval'], 'an ioredis Redis or Cluster') : undefined;
  const fixed = typeof client === 'function' ? undefined : client;
  if (fixed !== undefined) watchDropped(fixed);

  const redisKey = (key: string): string => prefix + key;

  /** The getter's client; a getter that fails as the driver does (e.g. a raw `connect()`) is the store unavailable. */
  const connected = async (signal: AbortSignal | undefined): Promise<RedisLeaseClient> => {
    try {
      return watchDropped(await abortable(Promise.resolve(getClient!()), signal));
    } catch (error) {
      throw redisStoreError(error);
    }
  };

  /** The client for a batch call, `renew` or `get`, once `signal` is checked: the fixed one, or the getter's. */
  const clientFor = (signal: AbortSignal | undefined): RedisLeaseClient | Promise<RedisLeaseClient> => {
    throwIfAborted(signal);
    return fixed ?? connected(signal);
  };

  const run = (c: RedisLeaseClient, s: LuaScript, keys: string[], args: string[], signal: AbortSignal | undefined): Promise<unknown> =>
    runLuaScript(c, s, keys, args, { signal }).catch((error: unknown) => Promise.reject(redisStoreError(error)));

  /**
   * `run`, with the script's source (`EVAL`) every time: the give-back's. A give-back may be
   * answered only after it timed out (a paused server, a stalled link); its `EVALSHA` would then
   * answer `NOSCRIPT` unheard — no `EVAL` follows a rejected call — and, the give-back's script
   * running only on failures, it is usually not loaded. Sent whole, whenever it runs it releases.
   */
  const runSource = (c: RedisLeaseClient, s: LuaScript, keys: string[], args: string[], signal: AbortSignal | undefined): Promise<unknown> =>
    abortable(c.eval(s.source, keys.length, ...keys, ...args), signal).catch((error: unknown) => Promise.reject(redisStoreError(error)));

  /** A claim's payload argument: `=<data>`, or empty. */
  const payload = (r: ClaimRequest): string => (r.data === undefined ? '' : `=${r.data}`);

  /**
   * The one give-back of `claim` and `claimMany` (see `give-back.ts`): before a claim that
   * failed throws, each key still held by its request's owner with its request's data — what
   * the claim wrote, its reply lost or its batch refused or failed on another slot — is released
   * (`GIVE_BACK`), whatever the claim's replies said. Bounded and never throws: what the server
   * cannot be reached for ends with its lease.
   *
   * Sent on the claim's own client `c`, whole (`runSource`), so that it runs after the claim
   * whenever the claim runs. A failed claim (`Command timed out`, an abort) may still be queued
   * in that client — written, unanswered, or in ioredis' offline queue — and be applied later.
   * ioredis writes one client's commands in the order they are sent (after a reconnect: the
   * unanswered ones again, then the offline queue, `readyHandler`), and Redis runs one
   * connection's commands in order; a Cluster client routes both by one slot map, and follows a
   * node's in-order `MOVED`/`ASK` replies in order. Another client (a getter's next one) has no
   * such order: its give-back could run first, find nothing, and the claim then hold the key.
   * Only once `c` has ended (its queues flushed: nothing of the claim is written from it any
   * more) is the getter's current client used.
   */
  const giveBackClaims = (checked: ClaimRequest[], c: RedisLeaseClient): Promise<void> =>
    giveBack(async (signal) => {
      const on = c.status === 'end' && getClient !== undefined ? await connected(signal) : c;
      await runBatch(on, GIVE_BACK, checked.map((r) => redisKey(r.key)), checked.map((r) => [r.owner, payload(r)]), () => undefined, signal, runSource);
    });

  /**
   * `error` as the claim's caller sees it, once what the claim of `checked` wrote is given back —
   * at once when `unsent` (from `watchSend`) proves the claim never reached the server: it wrote
   * nothing, and the server is not there to give back to. Never skipped after the caller's abort:
   * the command may still be waiting in ioredis' offline queue, to be written on reconnect.
   */
  const claimFailed = (c: RedisLeaseClient, checked: ClaimRequest[], error: unknown, unsent: (error: unknown) => boolean, signal: AbortSignal | undefined): Promise<never> =>
    signal?.aborted !== true && unsent(error) ? Promise.reject(redisStoreError(error)) : giveBackClaims(checked, c).then(() => Promise.reject(redisStoreError(error)));

  const claimChecked = async (checked: ClaimRequest[], callOptions?: CallOptions): Promise<ClaimResult[]> => {
    if (checked.length === 0) return [];
    const signal = callOptions?.signal;
    const c = await clientFor(signal);
    const now = Date.now();
    // In the tick the command is handed to ioredis (runBatch sends it before its first await).
    const unsent = watchSend(c);
    let replies: Array<[unknown, unknown, unknown]>;
    try {
      replies = await runBatch(
        c,
        CLAIM,
        checked.map((r) => redisKey(r.key)),
        checked.map((r) => [r.owner, String(r.leaseMs), payload(r), retainArg, String(r.leaseMs + retainMs)]),
        (reply) => reply as [unknown, unknown, unknown],
        signal,
        run,
      );
    } catch (error) {
      // A slot's call failed (its master down, its reply lost): the others' claims, and its own if it ran, are given back.
      return claimFailed(c, checked, error, unsent, signal);
    }
    try {
      // A key another program wrote: the script that met it wrote nothing (tag -1: the script
      // refuses before any write). A reply this side cannot read although the script took it for
      // a record cannot happen while `RECORD_FRAGMENT` and `parseValue` agree; if it did, the
      // batch's other keys were written. Either way what the call holds is given back, so a
      // refused batch holds no key.
      if (replies.some(([tag]) => Number(tag) < 0)) throw new LeaseRecordUnreadableError();
      return replies.map((reply, i) => claimReply(reply, checked[i]!, now, retainMs));
    } catch (error) {
      await giveBackClaims(checked, c);
      throw error;
    }
  };

  const settled = (reply: unknown): boolean => Number(reply) === 1;

  const settleArgs = (r: SettleRequest): RedisSettleCall['args'] =>
    r.data === undefined ? [r.owner, String(r.fence), 'r', '', '0'] : [r.owner, String(r.fence), 'd', r.data, String(r.keepMs)];

  const settleChecked = async (checked: SettleRequest[], callOptions?: CallOptions): Promise<boolean[]> => {
    const signal = callOptions?.signal;
    if (checked.length === 0) return [];
    const c = await clientFor(signal);
    return runBatch(c, SETTLE, checked.map((r) => redisKey(r.key)), checked.map(settleArgs), settled, signal, run);
  };

  /**
   * One claim, one round trip whatever the key holds: the claim script judges a record by the
   * key's TTL (Redis's clock; no clock of ours) and answers a live one, or claims. Sent straight
   * from the request — the batch path's arrays and async frames cost a duplicate several µs.
   */
  const claimOne = (c: RedisLeaseClient, r: ClaimRequest, callOptions: CallOptions | undefined): Promise<ClaimResult> => {
    const signal = callOptions?.signal;
    const now = Date.now();
    const leaseMs = r.leaseMs;
    const args = [1, redisKey(r.key), r.owner, String(leaseMs), payload(r), retainArg];
    // A failed send (its reply lost, the connection cut, an abort) may have claimed: given back before it rejects.
    const unsent = watchSend(c);
    return sendLuaScript(c, CLAIM_ONE, args, signal, (reply) => claimOneReply(reply, r, now), (error) => claimFailed(c, [r], error, unsent, signal));
  };

  /** One settle: `SETTLE_ONE` by its SHA1, straight from the request (`EVAL` once per server, as the claim). */
  const settleOne = (c: RedisLeaseClient, r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean> => {
    const signal = callOptions?.signal;
    const args = [1, redisKey(r.key), ...settleArgs(r)];
    return sendLuaScript(c, SETTLE_ONE, args, signal, settled, redisStoreError);
  };

  // The getter awaited in place, not through `connected`: an async frame less on every call.
  /** A client from a getter: connect, then settle. */
  const settleAfterConnect = async (r: SettleRequest, callOptions: CallOptions | undefined): Promise<boolean> => {
    let c: RedisLeaseClient;
    try {
      c = watchDropped(await abortable(Promise.resolve(getClient!()), callOptions?.signal));
    } catch (error) {
      throw redisStoreError(error);
    }
    return settleOne(c, r, callOptions);
  };

  /** A client from a getter: connect, then claim. */
  const claimAfterConnect = async (r: ClaimRequest, callOptions: CallOptions | undefined): Promise<ClaimResult> => {
    let c: RedisLeaseClient;
    try {
      c = watchDropped(await abortable(Promise.resolve(getClient!()), callOptions?.signal));
    } catch (error) {
      throw redisStoreError(error);
    }
    return claimOne(c, r, callOptions);
  };

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
