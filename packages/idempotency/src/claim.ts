/**
 * The claim and replay path: the record's key and fingerprint, one claim per invocation, and
 * what an existing record answers (a replay, a 409, a 422, or a wait for the first invocation).
 * Plain functions over the plugin's `Settings` and the invocation's state: nothing here
 * allocates per call beyond what the claim itself needs.
 */
import type { Context, SteadyError } from '@steadyfn/handler';
import { isMiddyInvocation, passThroughStoreError, sleep } from '@steadyfn/handler/internal';
import { leaseUntil as leaseUntilOf } from '@steadyfn/lease/internal';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyRecordCorruptError, IdempotencyStoreUnavailableError } from './errors.js';
import { callerScope, fingerprintsOf, scopeOf, storeKey, type ResolvedKey } from './key.js';
import { remember } from './local.js';
import type { Settings } from './options.js';
import { newOwner } from './owner.js';
import { replayDuplicate } from './proxy-replay.js';
import { decodeStored } from './record.js';
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

/** Sets the state's store key (scope, key, caller), the payload's fingerprint, and whether a replay is a middy proxy result's. */
export function resolveInto(s: Settings, ctx: Context, state: IdempotencyState, key: ResolvedKey): void {
  state.key = storeKey(scopeFor(s, ctx), key, callerScope(ctx, s.scope));
  if (ctx.trigger.kind === 'http' && isMiddyInvocation(ctx)) state.proxyReplay = true;
  const { fingerprint, legacy } = fingerprintsOf(ctx, key);
  state.fingerprint = fingerprint;
  if (legacy !== undefined) state.legacyFingerprint = legacy;
}

const NAMES = { label: 'idempotency', code: 'IDEMPOTENCY' } as const;

/**
 * When a lease claimed now ends: the invocation's deadline unless `leaseMs` is set and sooner
 * (`leaseUntil` of `@steadyfn/lease/internal`, which warns `IDEMPOTENCY_LEASE_SHORT` and
 * `IDEMPOTENCY_LEASE_NO_DEADLINE` once per plugin instance).
 */
export function leaseUntil(s: Settings, ctx: Context, now: number): number {
  return leaseUntilOf(s, ctx, now, NAMES);
}

/**
 * A store call's failure as the invocation's error: the deadline's own error; a value under
 * `key` that `@steadyfn/lease` did not write (`LEASE_RECORD_UNREADABLE`, the store reached and
 * refusing for good) as the terminal `IDEMPOTENCY_RECORD_CORRUPT` naming the store key — not a
 * retryable "could not be reached" that a queue redelivers until its DLQ; any other typed
 * terminal refusal (`LEASE_STORE_UNSUPPORTED`, a getter's `CONFIG_INVALID`) as it is, with its
 * own code (`passThroughStoreError` of `@steadyfn/handler/internal`, which the outbox inbox uses
 * too); else `IDEMPOTENCY_STORE_UNAVAILABLE` (503, retryable).
 */
export function storeUnavailable(error: unknown, key?: string): SteadyError {
  if (isRecordUnreadable(error)) return new IdempotencyRecordCorruptError(key, error);
  // The deadline's error, or a typed terminal refusal: by shape, as the outbox inbox decides it.
  return passThroughStoreError(error) ?? new IdempotencyStoreUnavailableError(error);
}

/** The lease store's terminal refusal of a record it did not write (by code: another copy of the package may have made it). */
export function isRecordUnreadable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'LEASE_RECORD_UNREADABLE' && (error as { retryable?: unknown }).retryable === false;
}

/** A completed record answers; an in-progress one is a 409 (or a wait); a different payload is a 422. */
// Not async: a completed record is answered without another promise on the duplicate path.
export function answerExisting(s: Settings, ctx: Context, state: IdempotencyState, record: StoredRecord): { answer: unknown } | Promise<void | { answer: unknown }> {
  // An empty fingerprint is a record the store could not read: never replayed, never a 422.
  if (!sameRequest(state, record.fingerprint) && record.fingerprint !== '') throw new IdempotencyKeyReusedError();
  if (record.status === 'completed') {
    remember(s, state.key!, { fingerprint: record.fingerprint, result: record.result, expiresAt: record.expiresAt });
    return { answer: replayDuplicate(state, decodeStored(record.result)) };
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
      throw storeUnavailable(error, state.key);
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
    return Promise.reject(storeUnavailable(error, state.key));
  }
  return pending.then(took, (error: unknown) => {
    throw storeUnavailable(error, state.key);
  }) as Promise<Awaited<T>>;
}
