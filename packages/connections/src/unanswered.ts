/**
 * The thaw check's account of pings left unanswered across checks that deadlines cut off (an
 * episode, per client): a cut-off ping gives no verdict, but its time unanswered counts, so the
 * next check waits only what is left of `pingTimeoutMs` since the episode began — or since the
 * grace its pings were given ended (`pingGraceMs`), when that is later. Deadlines shorter than
 * `pingTimeoutMs` therefore cannot keep a dead client for good.
 */

/**
 * Where a ping grace is counted from: `'episode'` — from the first cut-off ping it applied to
 * (the driver's own pacing: Mongo's wait for its monitor); `'commands'` — from when the blocking
 * commands the ping waits behind were written (Redis's BLPOP: an absolute end).
 */
export type GraceAnchor = 'episode' | 'commands';

/** A ping about to be sent (times in epoch ms). */
export interface PingBudget {
  sentAt: number;
  /** When the episode's first unanswered ping was sent (`sentAt` for the first). */
  since: number;
  /** Until when the ping may legitimately stay unanswered before `pingTimeoutMs` counts; 0: no grace. */
  blockedUntil: number;
  /** How long (ms) this ping may take; ≤ 0: the episode's pings were unanswered long enough — a failed check. */
  leftMs: number;
}

/** The unanswered episode of one lifecycle's cached client (`E`: its entry, compared by identity). */
export class UnansweredPings<E> {
  /** Cleared when any ping of that entry is answered, when it fails the check, or when another entry is checked. */
  #episode: { entry: E; since: number; blockedUntil: number } | undefined;

  constructor(
    private readonly pingTimeoutMs: number,
    private readonly graceAnchor: GraceAnchor,
  ) {}

  /**
   * The budget of a ping of `entry` sent now. `graceMs` reads the ping's grace (ms from now), only
   * when it may change the bound. An episode of another entry is forgotten.
   */
  begin(entry: E, graceMs: () => number): PingBudget {
    if (this.#episode?.entry !== entry) this.#episode = undefined;
    const sentAt = Date.now();
    const since = this.#episode?.since ?? sentAt;
    const blockedUntil = this.#blockedUntil(sentAt, graceMs);
    return { sentAt, since, blockedUntil, leftMs: Math.max(since, blockedUntil) + this.pingTimeoutMs - sentAt };
  }

  /**
   * A grace counted from its episode keeps the bound the first cut-off ping it applied to gave:
   * were it counted again from each check, every check would push the bound later and deadlines
   * shorter than `pingTimeoutMs` plus the grace would keep a dead client for good. One counted
   * from other callers' blocking commands is an absolute end already: a later check moves it
   * later only to the end of commands written since.
   */
  #blockedUntil(sentAt: number, graceMs: () => number): number {
    const previous = this.#episode?.blockedUntil;
    if (previous !== undefined && previous > 0 && this.graceAnchor === 'episode') return previous;
    const grace = graceMs();
    return Math.max(previous ?? 0, grace > 0 ? sentAt + grace : 0);
  }

  /** The ping of `entry` sent at `sentAt` was answered (even after its waiters left): the time unanswered is cleared. */
  answered(entry: E, sentAt: number): void {
    if (this.#episode?.entry === entry && this.#episode.since <= sentAt) this.#episode = undefined;
  }

  /** The ping with `budget` was cut off by a deadline, unanswered: the next check of `entry` counts from its episode. */
  cutOff(entry: E, { since, blockedUntil }: PingBudget): void {
    this.#episode = { entry, since, blockedUntil };
  }

  /** `entry` got a verdict (a failed check): its episode is over. */
  end(entry: E): void {
    if (this.#episode?.entry === entry) this.#episode = undefined;
  }
}
