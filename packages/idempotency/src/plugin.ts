/**
 * `idempotency({ store, ttlMs, ... })`: a repeated invocation replays the first one's result
 * instead of running its effects again.
 *
 *   first call:     claim (1 store call) -> run -> complete (1 store call)
 *   duplicate:      claim finds the completed record (1 store call) -> replay
 *   warm duplicate: local cache (0 store calls) -> replay
 *   batch:          one claim round trip for all messages, one complete round trip
 *
 * Per-invocation bookkeeping lives in the plugin's state slot (the core makes one per
 * invocation and hands it to every hook), never in module state. While it holds the record the
 * state is also reachable from `ctx` for `pendingCompletion` (see `join.ts`): another plugin's
 * atomic write may carry the completion, and the plugin then skips its own.
 *
 * This file wires the hooks; the work is in plain functions over the plugin's checked options
 * (`Settings`, made once per plugin) and the invocation's state:
 *   options.ts  the options, checked once          state.ts  the per-invocation state
 *   claim.ts    key, claim, replay, wait           local.ts  the local cache of completed records
 *   settle.ts   completion, release, join          batch.ts  a batch's one claim and one completion
 *   cache-errors.ts  which failures are stored (`cacheErrors`; a returned 5xx, 429 or 408 is one;
 *                    so is, under middy, a partial batch response reporting its own message failed)
 *   returned.ts  a failure after the function returned: the record completed, not released
 */
// From /internal, not the root entry: unbundled, the root loads every provider's adapter.
import { effectsPending, functionReturned, functionStarted, recoveredFrom, refuseEffectsWriterBefore } from '@steadyfn/handler/internal';
import type { Context, Plugin } from '@steadyfn/handler';
import { answerExisting, claimOrAnswer, resolveInto } from './claim.js';
import { claimBatch, settleBatch } from './batch.js';
import { IdempotencyKeyMissingError } from './errors.js';
import { JOIN, isRequestAlreadyApplied, type Joinable } from './join.js';
import { resolveKey, runsWithoutKey } from './key.js';
import { fromLocal } from './local.js';
import { replayDuplicate } from './proxy-replay.js';
import { settingsOf, type IdempotencyOptions, type Settings } from './options.js';
import { decodeStored, encodeStored, errorStored, replayTooLarge, resultStored } from './record.js';
import { releasesResult, shouldCache } from './cache-errors.js';
import { completionOf, firstAnswer, settle } from './settle.js';
import { completesReturned, settleReturned } from './returned.js';
import type { IdempotencyState, Joiner } from './state.js';
import type { TakeNotice } from './stores/notices.js';

export type { IdempotencyOptions, LocalCacheOptions } from './options.js';
export type { IdempotencyState } from './state.js';

/**
 * The idempotency plugin.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid, e.g.
 *   `idempotency(): option "ttlMs" must be a whole number of milliseconds ≥ 1 and ≤ 1000000000000; got -1`.
 * @example
 * handler({ use: [idempotency({ store: redisStore({ client: redis }), ttlMs: 24 * 3_600_000 })] }, fn);
 */
export function idempotency(options: IdempotencyOptions): Plugin<{}, IdempotencyState> {
  const s = settingsOf(options);
  const join: Joiner = { completion: (state, result) => completionOf(s, state, result) };

  return {
    name: 'idempotency',

    state: () => ({ batch: false, keyInBefore: false, began: false, settled: false, join }),

    // Before any claim (a batch's too: every `extend` runs before `beforeBatch`): refused after a
    // writer of the effects (the outbox), whose `after` would write after this one completed.
    extend(ctx) {
      refuseEffectsWriterBefore(ctx, 'idempotency', 'record');
      return {};
    },

    beforeBatch: (ctxs, states) => claimBatch(s, ctxs, states),

    // Not async: a local-cache hit answers without a promise, and a duplicate's claim answers in its own reaction.
    before(ctx, state) {
      state.began = true;
      expose(ctx, state);
      if (state.refused) throw state.refused;
      if (state.owner) return;
      if (state.existing) return answerExisting(s, ctx, state, state.existing);
      // A read, or a tick with no identity of its own: nothing to do only once (see runsWithoutKey).
      if (runsWithoutKey(ctx, s.source)) return;
      const key = resolveKey(ctx, s.source);
      if (!key) {
        if (s.required) throw new IdempotencyKeyMissingError(ctx.trigger.kind === 'http');
        return;
      }
      resolveInto(s, ctx, state, key);
      const cached = fromLocal(s, state);
      if (cached) return cached;
      return claimOrAnswer(s, ctx, state);
    },

    async after(ctx, result, state) {
      // A joined write completed the record with this result: the answer is still the stored form.
      if (!state.owner || (state.settled && !state.joined)) return;
      const recovered = recoveredFrom(ctx);
      if (isRequestAlreadyApplied(recovered)) {
        // Not a failure: an earlier attempt applied the request and recorded its answer. As in
        // onError (which an inner catch-all onError kept from running): completed with that
        // answer, which replaces the inner plugin's rendering of the error, so this caller and
        // every retry get the first attempt's answer (a replay: marked as one under middy too) and
        // the function is not run again.
        if (!state.settled) await settle(s, ctx, state, recovered.answer);
        return { answer: replayDuplicate(state, decodeStored(recovered.answer)) };
      }
      if (recovered !== undefined) {
        if (state.settled) return;
        // The function returned, then an inner plugin's `after` failed and its onError answered
        // (a fallback): the effects are done, so completed with the function's result, as in onError.
        const returned = functionReturned(ctx);
        if (completesReturned(ctx, state, returned)) return settleReturned(s, ctx, state, returned, recovered);
        // An inner plugin's onError answered for a failure (a fallback): not the function's result,
        // never stored. Released, so a retry runs the function, unless it may still be running:
        // cut off at the deadline, whatever code an inner onError mapped the cut-off to.
        await settleUnfinished(s, ctx, state, recovered.code === 'DEADLINE_EXCEEDED' || ctx.signal.aborted);
        return;
      }
      if (!functionStarted(ctx)) {
        // A later plugin answered in the function's place (its `before` or `wrap`): not the
        // function's result, so not stored; released, a retry gets what that plugin answers then.
        await settle(s, ctx, state, undefined);
        return;
      }
      const stored = resultStored(result);
      if (releasesResult(s, ctx, result, stored)) {
        // A 5xx, 429 or 408 the function returned, or (middy) `{ batchItemFailures }` naming its own
        // message: a retryable failure, like a thrown one. Not stored (a replay would answer every
        // retry with it until ttlMs); released, answered as it is (cache-errors.ts).
        if (!state.settled) await settle(s, ctx, state, undefined);
        return;
      }
      let text: string | undefined;
      try {
        text = encodeStored(stored);
      } catch {
        // Not storable as JSON (BigInt, a cycle): `settle` releases the record; nothing will replay it.
      }
      if (!state.settled) {
        // A response its replay header would push over the provider's limit is refused now: `onError` settles.
        const tooLarge = text === undefined ? undefined : replayTooLarge(result, stored);
        if (tooLarge !== undefined) throw tooLarge;
        if (effectsPending(ctx)) {
          // A writer listed before this plugin (its `after` runs later) has not written the
          // function's effects yet: completed now, a failed write would lose them for good. The
          // order is refused in `extend`; this guards a writer that marks only once running.
          await settle(s, ctx, state, undefined);
          return undefined;
        }
        await settle(s, ctx, state, text ?? stored);
      }
      return firstAnswer(stored, text);
    },

    async onError(ctx, error, state) {
      if (!state.owner || state.settled) return;
      if (isRequestAlreadyApplied(error)) {
        // A joined write found an earlier attempt's effects and its answer: complete with that answer and
        // replay it — a duplicate's answer (the earlier attempt's), so marked as one under middy too.
        await settle(s, ctx, state, error.answer);
        return { answer: replayDuplicate(state, decodeStored(error.answer)) };
      }
      if (!state.began || !functionStarted(ctx)) {
        // The function never ran: a later plugin's `before` threw after the claim (a 401 from
        // auth), or a batch's message claimed by `beforeBatch` whose `before` never ran — another
        // plugin's `beforeBatch` threw, its input failed validation, an ordered batch stopped
        // before it (`NOT_PROCESSED`), the deadline came first. The failure is not the
        // function's, so it is never stored, whatever `cacheErrors` says, nor left to the lease.
        // Released: a retry runs the function rather than replaying another plugin's failure
        // (a 401 after the caller fixed its token, a store down, a bad option) until `ttlMs` ends.
        await settle(s, ctx, state, undefined);
        return;
      }
      const returned = functionReturned(ctx);
      if (completesReturned(ctx, state, returned)) {
        // The function returned (its effects are done), then a plugin after this one failed — its
        // `after` or `wrap` threw, even past the deadline — or its result could not be sent:
        // completed, not released, so a retry answers from the record instead of running the
        // function again (returned.ts). This caller still gets the error. Not when a write took
        // the completion (`pendingCompletion`): its failure means the effects were not written.
        await settleReturned(s, ctx, state, returned, error);
        return;
      }
      // Past the deadline (ctx.signal aborted) too: an inner onError may have replaced the cut-off
      // with an error of its own (onion semantics hand outer plugins the replacement).
      if (error.code === 'DEADLINE_EXCEEDED' || ctx.signal.aborted) {
        // Answered at the deadline with the function perhaps still running (a call that does not
        // listen to ctx.signal): its effects may still happen, so the record is not released for
        // a retry to run alongside it. Its lease ends at the deadline (leaseUntil), as after a crash.
        // Nor is the 504 stored, whatever `cacheErrors` says: the outcome is unknown, and a stored
        // 504 would answer every retry for ttlMs that the request failed while it went on to succeed.
        // Any DEADLINE_EXCEEDED, also the function's own: its usual source is a Promise.race of
        // work against a timer, whose losing work keeps running. A 409 until the lease ends is
        // the price; a release here could let a retry run beside that work (a double effect).
        leaveToLease(state);
        return;
      }
      // `NOT_PROCESSED`: a message of an ordered batch (an SQS FIFO queue) that never ran because
      // an earlier one failed. Never stored, whatever `cacheErrors` says: the record is released,
      // so its redelivery runs it rather than replaying NOT_PROCESSED until `ttlMs` ends.
      const cache = error.code !== 'NOT_PROCESSED' && shouldCache(s, ctx, error);
      await settle(s, ctx, state, cache ? errorStored(error) : undefined);
    },

    // Defence in depth: a record this invocation still holds unsettled here means its after and
    // onError were both skipped (under toMiddy(), an outer steadyfn after that threw on a recovered
    // answer; another plugin's bug). A plain middy onError that recovers inside the toMiddy() ones
    // ends middy's chain with no steadyfn hook run, this one included (handler README).
    // Settled now rather than held until its lease ends, every retry a 409 meanwhile. A batch's
    // unsettled records are released by afterBatch. Not async: the common case returns no promise.
    finally(ctx, outcome, state) {
      if (s.notices !== undefined) logNotice(ctx, s.notices);
      if (!state.owner || state.settled || state.batch) return undefined;
      ctx.log.warn('idempotency record was neither completed nor released by after or onError; settled in finally', { code: 'IDEMPOTENCY_SETTLED_LATE', ok: outcome.ok });
      // The function returned (under middy, a plain `after` then replaced its answer): its effects
      // are done, so completed with its result as in onError — never released for a retry to run it again.
      const returned = functionReturned(ctx);
      if (completesReturned(ctx, state, returned)) return settleReturned(s, ctx, state, returned, outcome.ok ? undefined : outcome.error);
      // Past the deadline (ctx.signal aborted) the function may still be running, whatever the outcome says.
      return settleUnfinished(s, ctx, state, (!outcome.ok && outcome.error.code === 'DEADLINE_EXCEEDED') || ctx.signal.aborted);
    },

    afterBatch: (ctxs, _outcomes, states) => settleBatch(s, ctxs, states),
  };
}

/**
 * A record whose invocation answered with something other than the function's result: left to
 * its lease when the function may still be running (`cutOff`: it was cut off at the deadline,
 * and a call that ignores ctx.signal goes on; see `onError`), else released so a retry runs it.
 */
function settleUnfinished(s: Settings, ctx: Context, state: IdempotencyState, cutOff: boolean): Promise<void> | void {
  if (cutOff && functionStarted(ctx)) return leaveToLease(state);
  return settle(s, ctx, state, undefined);
}

/** Settles nothing for this record, now or in `afterBatch`: it is freed when its lease ends. */
function leaveToLease(state: IdempotencyState): void {
  state.settled = true;
  delete state.owner;
}

/**
 * Makes the state reachable from `ctx` for `pendingCompletion` while this plugin may hold the
 * record, with the trigger kind it needs (`completionOf` has no `ctx`).
 */
function expose(ctx: Context, state: IdempotencyState): void {
  state.http = ctx.trigger.kind === 'http';
  (ctx as unknown as Record<symbol, Joinable>)[JOIN] = state;
}

/**
 * Logs the store's notice not yet logged (`LEASE_STORE_EVICTS`: the Redis server may evict
 * records), once per store: at the end of an invocation, by when the first claim's `INFO` reply
 * (sent beside it) has come in. Its code and text only: no key, value or setting read.
 */
function logNotice(ctx: Context, take: TakeNotice): void {
  const notice = take();
  if (notice !== undefined) ctx.log.warn(`idempotency store: ${notice.message} (said once)`, { code: notice.code });
}
