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

/** First wait between attempts, in ms, doubled after each (jittered ×1–2) up to `MAX_WAIT_MS`. */
const MIN_WAIT_MS = 20;
const MAX_WAIT_MS = 400;

/**
 * Runs `attempt` (with a signal that aborts at the bound) until it resolves, retried (20 ms
 * doubling to 400 ms, jittered ×1–2, never past the bound) while it fails with
 * `LeaseStoreUnavailableError` (a client reconnecting after the cut that failed the claim, its
 * offline queue off) and the bound has not passed. Never throws. A loop of its own rather than a
 * retry package: this runs on the failure path only, and a package would be code every function
 * bundling a lease store loads (and V8 parses) at start-up.
 */
export async function giveBack(attempt: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const signal = AbortSignal.timeout(GIVE_BACK_MS);
  const end = performance.now() + GIVE_BACK_MS;
  for (let failed = 0; !signal.aborted; failed++) {
    try {
      await attempt(signal);
      return;
    } catch (error) {
      const left = end - performance.now();
      if (!(error instanceof LeaseStoreUnavailableError) || signal.aborted || left <= 0) return;
      const wait = Math.min(Math.round((1 + Math.random()) * MIN_WAIT_MS * 2 ** failed), MAX_WAIT_MS, left);
      await pause(wait, signal);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts first (the bound has passed: the loop then ends). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
