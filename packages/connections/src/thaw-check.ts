/**
 * The thaw check's ping: one round trip bounded by `pingTimeoutMs` (plus the episode's grace) and
 * by the waiters' signal. A ping cut off by the signal gives no verdict, but its time unanswered
 * counts toward the next check's (see `UnansweredPings`).
 */
import { bounded } from './flight.js';
import type { ClientStats } from './spec.js';
import { UnansweredPings, type GraceClock, type PingBudget } from './unanswered.js';

class PingTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Pings the cached client of one lifecycle (`E`: its entry, compared by identity). */
export class ThawCheck<T, E extends { client: T }> {
  readonly #unanswered: UnansweredPings<E>;

  /**
   * @param ping - The spec's ping; without it every check fails (the client is rebuilt).
   * @param pingGraceMs - How much longer than `pingTimeoutMs` (ms) a ping sent now may take; read
   *   as each ping is sent, applied once per unanswered episode (see `UnansweredPings`). @default 0
   * @param graceClock - The clock that grace runs out on (see `GraceClock`). @default 'elapsed'
   */
  constructor(
    private readonly name: string,
    private readonly pingTimeoutMs: number,
    private readonly ping: ((client: T) => Promise<unknown>) | undefined,
    private readonly pingGraceMs: ((client: T) => number) | undefined,
    private readonly stats: ClientStats,
    graceClock?: GraceClock,
  ) {
    this.#unanswered = new UnansweredPings(pingTimeoutMs, graceClock);
  }

  /**
   * Pings `entry`'s client: true when it answered; false when the check failed (the ping was
   * refused, timed out, or the episode's pings went unanswered long enough: rebuild the client).
   * @throws signal.reason when `signal` aborted first: no verdict.
   */
  async passes(entry: E, signal: AbortSignal): Promise<boolean> {
    const { ping } = this;
    const budget = this.#unanswered.begin(entry, () => (ping ? (this.pingGraceMs?.(entry.client) ?? 0) : 0));
    if (ping && budget.leftMs > 0) {
      this.stats.pings++;
      const answer = Promise.resolve().then(() => ping(entry.client));
      // An answer, even after its waiters left, ends the episode.
      answer.then(
        () => this.#unanswered.answered(entry, budget.seq),
        () => undefined,
      );
      try {
        await this.#answer(answer, entry, budget, signal);
        return true;
      } catch (err) {
        // Cut off by the deadline: no verdict on the client, so it is checked again next time, from the time it has waited.
        if (signal.aborted && err === signal.reason) {
          this.#unanswered.cutOff(entry, budget);
          throw err;
        }
        this.stats.pingFailures++;
      }
    } else if (ping) {
      // Pings unanswered for pingTimeoutMs in all, across deadlines: a failed check.
      this.stats.pingFailures++;
    }
    this.#unanswered.end(entry);
    return false;
  }

  /**
   * Waits for `answer` within the budget. When that runs out but an earlier ping of the episode
   * was answered meanwhile (the connection answers; this ping may queue behind more, e.g. Redis
   * commands written since), it waits what is left of its own bound before the check fails.
   */
  async #answer(answer: Promise<unknown>, entry: E, budget: PingBudget, signal: AbortSignal): Promise<void> {
    let left = budget.leftMs;
    for (;;) {
      try {
        await bounded(() => answer, left, () => new PingTimeoutError(`${this.name} ping timed out after ${this.pingTimeoutMs} ms`), signal);
        return;
      } catch (err) {
        if (!(err instanceof PingTimeoutError) || !this.#unanswered.revived(entry, budget)) throw err;
        left = this.#unanswered.ownLeftMs(budget);
        if (left <= 0) throw err;
      }
    }
  }
}
