/**
 * The Redis lease store's claims: `claim` (one key, its own script, straight from the request)
 * and `claimMany` (a batch, one call per slot), and the give-back every failed claim runs before
 * it rejects (see `redisLeaseStore`'s TSDoc for when, and `give-back.ts`).
 */
import { raceSignal as abortable } from '@steadyfn/handler/internal';
import { LeaseRecordUnreadableError } from '../errors.js';
import type { CallOptions, ClaimRequest, ClaimResult } from '../types.js';
import { giveBack } from './give-back.js';
import { runBatch } from './redis-batch.js';
import type { RedisStoreContext } from './redis-context.js';
import { sendLuaScript } from './redis-eval.js';
import { claimOneReply, claimReply } from './redis-replies.js';
import { CLAIM, CLAIM_ONE } from './redis-scripts.js';
import { GIVE_BACK } from './redis-settle-scripts.js';
import type { RedisLeaseClient } from './redis-types.js';
import { redisStoreError } from './redis-unavailable.js';
import { watchDropped, watchSend } from './redis-unsent.js';

/** The claims of one store. */
export interface RedisClaims {
  /**
   * A batch of checked requests: one call per slot; a failure gives back what it may have
   * written. With a getter, a batch proven never sent is sent once more on the getter's next client (`again`).
   */
  claimChecked(checked: ClaimRequest[], callOptions?: CallOptions): Promise<ClaimResult[]>;
  /** One checked request on client `c`; `again`, when given, answers instead of the error when the claim provably was never sent. */
  claimOne(c: RedisLeaseClient, r: ClaimRequest, callOptions: CallOptions | undefined, again?: () => Promise<ClaimResult>): Promise<ClaimResult>;
  /** One checked request on the getter's client: connect, then claim; proven never sent, once more on the getter's next client. */
  claimAfterConnect(r: ClaimRequest, callOptions: CallOptions | undefined): Promise<ClaimResult>;
}

/** A claim's payload argument: `=<data>`, or empty. */
export const payload = (r: ClaimRequest): string => (r.data === undefined ? '' : `=${r.data}`);

/** The claims of the store `ctx` describes. */
export function redisClaims(ctx: RedisStoreContext): RedisClaims {
  const { redisKey, retainArg, retainMs, getClient, run, runSource, connected, clientFor, sawClient, refused } = ctx;

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
      await runBatch(on, GIVE_BACK, checked.map((r) => redisKey(r.key)), checked.map((r) => [r.owner, payload(r)]), () => undefined, signal, runSource, refused);
    });

  /**
   * `error` as the claim's caller sees it, once what the claim of `checked` wrote is given back —
   * at once when `unsent` (from `watchSend`) proves the claim never reached the server: it wrote
   * nothing, and the server is not there to give back to. Never skipped after the caller's abort:
   * the command may still be waiting in ioredis' offline queue, to be written on reconnect.
   *
   * Proven never sent, with `again` (a getter's first attempt): `again()` answers instead — the
   * claim sent once more on the client the getter gives now. After a freeze whose server dropped
   * the connection, ioredis may still say `ready` while its socket is already half closed (the
   * server's FIN read, not yet its `close`): the claim fails `Stream isn't writeable…`, and a
   * connections handle asked again sees the dead socket and rebuilds the client. Nothing of the
   * first send can land later (it never left ioredis), so the resend cannot break fencing.
   */
  const claimFailed = <R>(c: RedisLeaseClient, checked: ClaimRequest[], error: unknown, unsent: (error: unknown) => boolean, signal: AbortSignal | undefined, again?: () => Promise<R>): Promise<R> => {
    if (signal?.aborted === true || !unsent(error)) return giveBackClaims(checked, c).then(() => Promise.reject(redisStoreError(error)));
    return again === undefined ? Promise.reject(redisStoreError(error)) : again();
  };

  const claimChecked = async (checked: ClaimRequest[], callOptions?: CallOptions, retried = false): Promise<ClaimResult[]> => {
    if (checked.length === 0) return [];
    const signal = callOptions?.signal;
    const c = await clientFor(signal);
    // A getter's batch proven never sent goes once more, on the getter's client of then (see `claimFailed`).
    const again = getClient === undefined || retried ? undefined : () => claimChecked(checked, callOptions, true);
    sawClient(c);
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
        refused,
      );
    } catch (error) {
      // A slot's call failed (its master down, its reply lost): the others' claims, and its own if it ran, are given back.
      return claimFailed(c, checked, error, unsent, signal, again);
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

  /**
   * One claim, one round trip whatever the key holds: the claim script judges a record by the
   * key's TTL (Redis's clock; no clock of ours) and answers a live one, or claims. Sent straight
   * from the request — the batch path's arrays and async frames cost a duplicate several µs.
   */
  const claimOne = (c: RedisLeaseClient, r: ClaimRequest, callOptions: CallOptions | undefined, again?: () => Promise<ClaimResult>): Promise<ClaimResult> => {
    const signal = callOptions?.signal;
    sawClient(c);
    const now = Date.now();
    const leaseMs = r.leaseMs;
    const args = [1, redisKey(r.key), r.owner, String(leaseMs), payload(r), retainArg];
    // A failed send (its reply lost, the connection cut, an abort) may have claimed: given back before it rejects.
    const unsent = watchSend(c);
    return sendLuaScript(c, CLAIM_ONE, args, signal, (reply) => claimOneReply(reply, r, now), (error) => claimFailed(c, [r], error, unsent, signal, again));
  };

  // The getter awaited in place, not through `connected`: an async frame less on every call.
  // `retried`: the second attempt, after a first one proven never sent — no third.
  const claimAfterConnect = async (r: ClaimRequest, callOptions: CallOptions | undefined, retried = false): Promise<ClaimResult> => {
    let c: RedisLeaseClient;
    try {
      c = watchDropped(await abortable(Promise.resolve(getClient!()), callOptions?.signal));
    } catch (error) {
      throw redisStoreError(error);
    }
    return claimOne(c, r, callOptions, retried ? undefined : () => claimAfterConnect(r, callOptions, true));
  };

  return { claimChecked, claimOne, claimAfterConnect };
}
