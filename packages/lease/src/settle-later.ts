/**
 * A settle (a completion or release) that the store could not take, tried again in the
 * background while the lease it settles lasts. Shared by the idempotency plugin and the outbox
 * inbox, which settle through an idempotency store built on these leases.
 */
import { sleep } from '@steadyfn/handler/internal';

/**
 * Runs `attempt` again in the background, without holding the caller's answer, while the lease
 * lasts: after 50 ms, then backing off (doubling) to 500 ms between tries, as long as a try
 * would start before `until`. Stops after the first try that resolves, or that throws an error
 * marked `retryable: false`; any other error is tried again. Never rejects: resolves `true` when
 * a try resolved, `false` when it gave up (the lease ended, or a `retryable: false` error), so
 * the caller can say that the settle was abandoned.
 *
 * Repeating a settle is safe when the store settles only the owner's generation: one applied
 * before its answer was lost is refused the second time, and `attempt` can then read back
 * whether it took effect. A store that restarts under a settle — a Redis that keeps its data,
 * reached through a client that fails at once while disconnected — would otherwise leave the
 * record to expire in progress, and the retry would run the function's effects again. Timers
 * are unref'd: an idle process is not kept alive for them.
 * @param attempt one try: the store call and what follows it (recording, reading back, logging).
 * @param until when the lease ends, in epoch milliseconds (`Date.now()` clock).
 * @returns whether a try resolved (`false`: given up, the settle never reached the store).
 */
export async function settleLater(attempt: () => Promise<void>, until: number): Promise<boolean> {
  for (let delay = 50; Date.now() + delay < until; delay = Math.min(delay * 2, 500)) {
    await sleep(delay);
    try {
      await attempt();
      return true;
    } catch (error) {
      if ((error as { retryable?: unknown } | null)?.retryable === false) return false;
    }
  }
  return false;
}
