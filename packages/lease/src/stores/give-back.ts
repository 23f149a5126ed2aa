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
/** The first pause between give-back attempts while the store is unreachable; doubles, up to 400 ms. */
const FIRST_PAUSE_MS = 20;

/**
 * Runs `attempt` (with a signal that aborts at the bound) until it resolves, retrying while it
 * fails with `LeaseStoreUnavailableError` (a client reconnecting after the cut that failed the
 * claim, its offline queue off) and the bound has not passed. Never throws.
 */
export async function giveBack(attempt: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const signal = AbortSignal.timeout(GIVE_BACK_MS);
  const deadline = performance.now() + GIVE_BACK_MS;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, 400)) {
    try {
      await attempt(signal);
      return;
    } catch (error) {
      if (!(error instanceof LeaseStoreUnavailableError) || signal.aborted || performance.now() + pause >= deadline) return;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
