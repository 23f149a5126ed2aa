/**
 * The claim and replay path: the record's key and fingerprint, one claim per invocation, and
 * what an existing record answers (a replay, a 409, a 422, or a wait for the first invocation).
 * Plain functions over the plugin's `Settings` and the invocation's state: nothing here
 * allocates per call beyond what the claim itself needs.
 */
import type { Context, SteadyError } from '@steadyfn/handler';
import { sleep } from '@steadyfn/handler/internal';
import { MAX_DURATION_MS } from '@steadyfn/lease/internal';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyStoreUnavailableError } from './errors.js';
import { callerScope, fingerprintsOf, scopeOf, storeKey, type ResolvedKey } from './key.js';
import { remember } from './local.js';
import { NO_DEADLINE_LEASE_MS, type Settings } from './options.js';
import { newOwner } from './owner.js';
import { decodeStored, replay } from './record.js';
import { sameRequest, type IdempotencyState } from './state.js';
import type { ClaimResult, StoredRecord } from './types.js';

/** The records' scope: the namespace or the function name, hashed once per name (at most 64 kept). */
function scopeFor(s: Settings, ctx: Context): string {
  const name = s.namespace ?? ctx.functionName;
  let scope = s.scopes.get(name);
  if (scope === undefined) {
    scope = scopeOf(name);
    if (s.scopes.size < 64) s.scopes.set(name, scope);
  }
  return scope;
}

/** Sets the state's store key (scope, key, caller) and the payload's fingerprint. */
export function resolveInto(s: Settings, ctx: Context, state: IdempotencyState, key: ResolvedKey): void {
  state.key = storeKey(scopeFor(s, ctx), key, callerScope(ctx, s.scope));
  const { fingerprint, legacy } = fingerprintsOf(ctx, key);
  state.fingerprint = fingerprint;
  if (legacy !== undefined) state.legacyFingerprint = legacy;
}

/**
 * When a lease claimed now ends: the invocation's deadline — as long as the function can run,
 * so a duplicate never takes over a run still going — or `leaseMs` from now when set and
 * sooner; 5 minutes with no deadline known (`NO_DEADLINE_LEASE_MS`). Either case a run could
 * outlast warns once per plugin instance (`IDEMPOTENCY_LEASE_SHORT`, `IDEMPOTENCY_LEASE_NO_DEADLINE`).
 */
export function leaseUntil(s: Settings, ctx: Context, now: number): number {
  const deadline = ctx.deadline;
  if (s.leaseMs === undefined) {
    // At most the longest lease the lease stores accept (a far-off deadline given to `invoke()`).
    if (deadline < Number.POSITIVE_INFINITY) return Math.min(deadline, now + MAX_DURATION_MS);
    if (!s.noted.noDeadline && ctx.provider !== 'direct') noDeadline(s, ctx);
    return now + NO_DEADLINE_LEASE_MS;
  }
  const until = now + s.leaseMs;
  if (until >= deadline) return deadline;
  if (!s.noted.leaseShort && deadline < Number.POSITIVE_INFINITY) leaseShort(s, ctx, deadline - now);
  return until;
}

/** `leaseMs` ends before the invocation's deadline: said once per plugin instance. */
function leaseShort(s: Settings, ctx: Context, remainingMs: number): void {
  s.noted.leaseShort = true;
  ctx.log.warn(
    `idempotency leaseMs (${s.leaseMs} ms) is shorter than the invocation's remaining time (${Math.round(remainingMs)} ms): a run longer than leaseMs loses its key and a retry may run alongside it; leave leaseMs unset to hold the key until the deadline (said once)`,
    { code: 'IDEMPOTENCY_LEASE_SHORT', leaseMs: s.leaseMs, remainingMs: Math.round(remainingMs) },
  );
}

/** No deadline known and `leaseMs` unset: said once per plugin instance. */
function noDeadline(s: Settings, ctx: Context): void {
  s.noted.noDeadline = true;
  ctx.log.warn(
    `idempotency knows no deadline for this invocation: a running invocation holds its key for ${NO_DEADLINE_LEASE_MS} ms; set leaseMs to the function's timeout if it can run longer (said once)`,
    { code: 'IDEMPOTENCY_LEASE_NO_DEADLINE', leaseMs: NO_DEADLINE_LEASE_MS },
  );
}

/** A store call's failure as the invocation's error. */
export function storeUnavailable(error: unknown): SteadyError {
  // A call cut off by the deadline is the deadline's error, not the store's.
  return error instanceof Error && error.name === 'DeadlineExceededError' ? (error as SteadyError) : new IdempotencyStoreUnavailableError(error);
}

/** A completed record answers; an in-progress one is a 409 (or a wait); a different payload is a 422. */
// Not async: a completed record is answered without another promise on the duplicate path.
export function answerExisting(s: Settings, ctx: Context, state: IdempotencyState, record: StoredRecord): { answer: unknown } | Promise<void | { answer: unknown }> {
  // An empty fingerprint is a record the store could not read: never replayed, never a 422.
  if (!sameRequest(state, record.fingerprint) && record.fingerprint !== '') throw new IdempotencyKeyReusedError();
  if (record.status === 'completed') {
    remember(s, state.key!, { fingerprint: record.fingerprint, result: record.result, expiresAt: record.expiresAt });
    return { answer: replay(decodeStored(record.result)) };
  }
  // Held by another message of this batch: its completion waits for `afterBatch`, which runs
  // only once this message is done, so a wait would last until the deadline.
  if (!s.waitForFirst || state.batchClaims?.has(state.key!)) throw new IdempotencyInProgressError(record.leaseUntil);
  return waitForCompletion(s, ctx, state);
}

/**
 * Polls until the first invocation completes (replay) or gives its record up (run
 * ourselves). Bounded by this invocation's deadline: `ctx.signal` aborts at the deadline less
 * the handler's margin, whatever the first one's lease.
 */
async function waitForCompletion(s: Settings, ctx: Context, state: IdempotencyState): Promise<void | { answer: unknown }> {
  const signal = ctx.signal;
  let delay = 20;
  let leaseEnd: number | undefined;
  for (let round = 0; round < 100_000 && !signal.aborted; round++) {
    await sleep(delay, signal);
    if (signal.aborted) break;
    delay = Math.min(delay * 2, 250);
    let record: StoredRecord | undefined;
    try {
      record = await s.store.get(state.key!, { signal });
    } catch (error) {
      throw storeUnavailable(error);
    }
    if (record === undefined) {
      const claimed = await claimOne(s, ctx, state);
      if (claimed.claimed) return;
      record = claimed.record;
    }
    if (record.status === 'completed') return answerExisting(s, ctx, state, record);
    leaseEnd = record.leaseUntil;
    if (!sameRequest(state, record.fingerprint) && record.fingerprint !== '') throw new IdempotencyKeyReusedError();
    // Claimed meanwhile by another message of this batch (they run concurrently): see answerExisting.
    if (state.batchClaims?.has(state.key!)) break;
  }
  throw new IdempotencyInProgressError(leaseEnd);
}

/** Claims the state's key for this invocation (one store call); on success the state holds the record. */
// A plain `then`, not an async function: one promise fewer on every claim.
export function claimOne(s: Settings, ctx: Context, state: IdempotencyState): Promise<ClaimResult> {
  return claimThen(s, ctx, state, (result) => result);
}

/**
 * Claims the state's key, then answers: nothing when claimed (the function runs), else what the
 * existing record answers (`answerExisting`) — in the claim's one reaction, not a second step
 * after it (one promise fewer on a duplicate).
 */
export function claimOrAnswer(s: Settings, ctx: Context, state: IdempotencyState): Promise<void | { answer: unknown }> {
  return claimThen(s, ctx, state, (result) => (result.claimed ? undefined : answerExisting(s, ctx, state, result.record)));
}

/** The claim, and `next` on its result in the same reaction (after the state took a successful claim). */
function claimThen<T>(s: Settings, ctx: Context, state: IdempotencyState, next: (result: ClaimResult) => T): Promise<Awaited<T>> {
  const owner = newOwner();
  const until = leaseUntil(s, ctx, Date.now());
  const request = { key: state.key!, owner, fingerprint: state.fingerprint!, leaseUntil: until };
  const took = (result: ClaimResult): T => {
    if (result.claimed) {
      state.owner = owner;
      state.leaseUntil = until;
      // Known to the batch's other messages before any of them reads the claim's answer.
      state.batchClaims?.add(state.key!);
    }
    return next(result);
  };
  let pending: Promise<ClaimResult>;
  try {
    pending = Promise.resolve(s.store.claim(request, { signal: ctx.signal }));
  } catch (error) {
    return Promise.reject(storeUnavailable(error));
  }
  return pending.then(took, (error: unknown) => {
    throw storeUnavailable(error);
  }) as Promise<Awaited<T>>;
}
