/**
 * A batch's messages (an SQS batch, a stream's records): one claim round trip for all of them
 * before any runs (`beforeBatch`), and one completion round trip once every one ran
 * (`afterBatch`). A message whose key needs the validated input is claimed in `before`, as an
 * invocation alone is (claim.ts), and completed here with the others.
 */
import type { Context } from '@steadyfn/handler';
import pLimit from 'p-limit';
import { isRecordUnreadable, leaseUntil, resolveInto, storeUnavailable } from './claim.js';
import { resolveKeyEarly, type ResolvedKey } from './key.js';
import { remember } from './local.js';
import type { Settings } from './options.js';
import { newOwner } from './owner.js';
import { explainRefused, settleLater, settleOne } from './settle.js';
import { logStoreFailure } from './settle-log.js';
import type { IdempotencyState } from './state.js';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type ReleaseRequest } from './types.js';

/** The plugin's `beforeBatch`: claims every message's key in one store call (cached and repeated keys need none). */
export async function claimBatch(s: Settings, ctxs: ReadonlyArray<Context>, states: ReadonlyArray<IdempotencyState>): Promise<void> {
  const claims: Array<{ state: IdempotencyState; request: ClaimRequest }> = [];
  const firstByKey = new Map<string, IdempotencyState>();
  const batchClaims = new Set<string>();
  const twins: Array<{ state: IdempotencyState; first: IdempotencyState }> = [];
  const now = Date.now();
  ctxs.forEach((ctx, i) => {
    const state = states[i]!;
    state.batch = true;
    state.batchClaims = batchClaims;
    let key: ResolvedKey | undefined;
    try {
      key = resolveKeyEarly(ctx, s.source);
    } catch {
      // A bad key fails this message alone, in `before`, not the whole batch.
      key = undefined;
    }
    if (!key) {
      // The key needs the validated input: `before` claims this one; `afterBatch` completes it.
      state.keyInBefore = true;
      return;
    }
    resolveInto(s, ctx, state, key);
    const cached = s.local?.get(state.key!);
    if (cached) {
      state.existing = { status: 'completed', fingerprint: cached.fingerprint, result: cached.result, expiresAt: cached.expiresAt };
      return;
    }
    const twin = firstByKey.get(state.key!);
    if (twin) {
      // The same message twice in one batch: the first runs, the second meets it running —
      // unless the first does not run (its record completed, or held elsewhere): see below.
      state.existing = { status: 'in_progress', fingerprint: twin.fingerprint!, leaseUntil: leaseUntil(s, ctx, now) };
      twins.push({ state, first: twin });
      return;
    }
    firstByKey.set(state.key!, state);
    const owner = newOwner();
    state.owner = owner;
    claims.push({ state, request: { key: state.key!, owner, fingerprint: state.fingerprint!, leaseUntil: leaseUntil(s, ctx, now) } });
  });
  if (claims.length === 0) return;
  const signal = ctxs[0]!.signal;
  let results: Array<ClaimResult | undefined>;
  try {
    results = claims.length === 1 ? [await s.store.claim(claims[0]!.request, { signal })] : await s.store.claimMany(claims.map((c) => c.request), { signal });
  } catch (error) {
    for (const { state } of claims) delete state.owner;
    if (!isRecordUnreadable(error)) throw storeUnavailable(error);
    // A value under one message's key that `@steadyfn/lease` did not write refuses the whole
    // call, which holds none of its keys (the store gave them back): each message is claimed
    // alone, so that message fails (terminal) and the batch's others run.
    results = await claimEach(s, claims, error, signal);
  }
  claims.forEach(({ state }, i) => {
    const result = results[i];
    if (result === undefined) return;
    if (result.claimed) {
      batchClaims.add(state.key!);
      // How long a completion that failed may be retried (`settleLater`), as for one message.
      state.leaseUntil = claims[i]!.request.leaseUntil;
    } else {
      delete state.owner;
      state.existing = result.record;
    }
  });
  // A second copy whose first did not claim meets what the first met (a completed record
  // replays both), not a run of this batch that is not happening.
  for (const { state, first } of twins) {
    if (first.refused) state.refused = first.refused;
    else if (!first.owner && first.existing) state.existing = first.existing;
  }
}

/**
 * How many of the one-by-one claims (`claimEach`) are in flight at once. A stream batch reaches
 * 10,000 records: unbounded, that is 10,000 commands queued on one connection at once (each
 * with its own timer and promise), the server's and client's buffers filled, and every claim
 * past the first few waiting on the others. 16 keeps a pipeline's worth in flight (as the outbox
 * relay's reads do) — one round trip per 16 messages — with little beyond what one claim holds.
 */
export const CLAIMS_IN_FLIGHT = 16;

/**
 * The batch's claims one by one, after the batch call was refused for a record it could not
 * read (`refusal`): a fresh owner token per claim (a new attempt), at most `CLAIMS_IN_FLIGHT` at
 * once (p-limit), results in the claims' order; a message whose own claim fails keeps its error
 * in `state.refused` (thrown by its `before`) and gets no result.
 */
async function claimEach(s: Settings, claims: ReadonlyArray<{ state: IdempotencyState; request: ClaimRequest }>, refusal: unknown, signal: AbortSignal): Promise<Array<ClaimResult | undefined>> {
  if (claims.length === 1) {
    claims[0]!.state.refused = storeUnavailable(refusal, claims[0]!.request.key);
    return [undefined];
  }
  const slot = pLimit(CLAIMS_IN_FLIGHT);
  const settled = await Promise.allSettled(
    claims.map(({ state, request }) =>
      slot(() => {
        const owner = newOwner();
        state.owner = owner;
        return s.store.claim({ ...request, owner }, { signal });
      }),
    ),
  );
  return settled.map((outcome, i) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    const { state, request } = claims[i]!;
    delete state.owner;
    state.refused = storeUnavailable(outcome.reason, request.key);
    return undefined;
  });
}

/** The plugin's `afterBatch`: settles every record the batch holds (queued by `settle`, or released when its message never ran) in one store call. */
export async function settleBatch(s: Settings, ctxs: ReadonlyArray<Context>, states: ReadonlyArray<IdempotencyState>): Promise<void> {
  const items: Array<{ state: IdempotencyState; request: CompleteRequest | ReleaseRequest }> = [];
  for (const state of states) {
    if (!state?.batch || !state.owner || state.joined) continue;
    // A message that never ran its hooks gives its record back.
    const request = state.pending ?? { key: state.key!, owner: state.owner };
    state.settled = true;
    items.push({ state, request });
  }
  if (items.length === 0) return;
  let results: boolean[];
  try {
    results = items.length === 1 ? [await settleOne(s, items[0]!.request)] : await s.store.completeMany(items.map((i) => i.request));
  } catch (error) {
    logStoreFailure(ctxs[0]!, error);
    // As for one message: the effects happened, so the records are settled in the background
    // while their leases last; else they expire in progress and a redelivery runs again.
    if ((error as { retryable?: unknown } | null)?.retryable !== false) {
      for (const { state, request } of items) void settleLater(s, ctxs[states.indexOf(state)] ?? ctxs[0]!, request, state.leaseUntil ?? 0, error).catch(() => undefined);
    }
    return;
  }
  items.forEach(({ state, request }, i) => {
    if (results[i] && isCompleteRequest(request)) remember(s, state.key!, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
  });
  const refused = items.filter((_, i) => !results[i]).map(({ request }) => request);
  if (refused.length > 0) await explainRefused(s, ctxs[0]!, refused);
}
