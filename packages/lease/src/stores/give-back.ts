/**
 * The one rule of every store for a claim that fails: before `claim` or `claimMany` throws, it
 * gives back what it may have written — each key still held by its request's owner (a fresh
 * token per claim attempt, so nobody else's record) is released. Best effort, bounded: what
 * cannot be given back within `GIVE_BACK_MS` (the store still unreachable) stays held until its
 * lease ends, never longer. The caller's signal plays no part (it may be what ended the claim).
 */
import pRetry from 'p-retry';
import { LeaseStoreUnavailableError } from '../errors.js';

/** How long a failed claim spends giving back what it wrote before it throws, in milliseconds. */
export const GIVE_BACK_MS = 2_000;

/**
 * p-retry's backoff, in milliseconds: the first wait 20 ms, doubled after each failed attempt
 * (jittered ×1–2) up to 400 ms; no count of retries, the bound alone ends them.
 */
const BACKOFF = { retries: Number.POSITIVE_INFINITY, minTimeout: 20, factor: 2, maxTimeout: 400, randomize: true } as const;

/**
 * Runs `attempt` until it resolves, with p-retry: retried (backoff above) while it fails with
 * `LeaseStoreUnavailableError` (a client reconnecting after the cut that failed the claim, its
 * offline queue off), never past `GIVE_BACK_MS` (p-retry's `maxRetryTime`, and a signal that
 * aborts at the bound: p-retry's `signal`, which ends a wait between attempts, and the one every
 * attempt is given so that its own call ends there too). Any other failure is not retried.
 * Never throws: what is not given back stays held until its lease ends.
 */
export async function giveBack(attempt: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const signal = AbortSignal.timeout(GIVE_BACK_MS);
  try {
    await pRetry(() => attempt(signal), {
      ...BACKOFF,
      maxRetryTime: GIVE_BACK_MS,
      signal,
      shouldRetry: ({ error }) => error instanceof LeaseStoreUnavailableError,
    });
  } catch {
    // Best effort: the claim's own error is what the caller sees.
  }
}
