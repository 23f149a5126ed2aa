/**
 * The one rule of every store for a claim that fails: before `claim` or `claimMany` throws, it
 * gives back what it may have written — each key still held by its request's owner (a fresh
 * token per claim attempt, so nobody else's record) is released. Best effort, bounded: what
 * cannot be given back within `GIVE_BACK_MS` (the store still unreachable) stays held until its
 * lease ends, never longer. The caller's signal plays no part (it may be what ended the claim).
 */
import { LeaseStoreUnavailableError } from '../errors.js';

/** How long a failed claim spends giving back what it wrote before it throws, in milliseconds. */
export const GIVE_BACK_MS = 2_000;

/**
 * Runs `attempt` (with a signal that aborts at the bound) until it resolves, retried with
 * p-retry (20 ms doubling to 400 ms, jittered) while it fails with `LeaseStoreUnavailableError`
 * (a client reconnecting after the cut that failed the claim, its offline queue off) and the
 * bound has not passed. Never throws. p-retry is loaded here, on the failure path only.
 */
export async function giveBack(attempt: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const signal = AbortSignal.timeout(GIVE_BACK_MS);
  const { default: pRetry } = await import('p-retry');
  await pRetry(() => attempt(signal), {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 20,
    factor: 2,
    maxTimeout: 400,
    randomize: true,
    maxRetryTime: GIVE_BACK_MS,
    signal,
    shouldRetry: ({ error }) => error instanceof LeaseStoreUnavailableError,
  }).catch(() => undefined);
}
