/**
 * The thaw check's account of pings left unanswered across checks that deadlines cut off (an
 * episode, per client). A cut-off ping gives no verdict, but the time it waited unanswered
 * counts, so deadlines shorter than `pingTimeoutMs` cannot keep a dead client for good: once the
 * checks of one episode have waited `pingTimeoutMs` in all past the episode's grace
 * (`pingGraceMs`), the next check fails.
 *
 * Only time a check spent waiting counts, not the time between checks: between invocations the
 * instance may be frozen, and an answer that reached the socket meanwhile is read only after the
 * thaw, so that time says nothing about the server (before, it counted, and a check cut off just
 * before a freeze made the first check after it fail: a needless rebuild).
 *
 * The grace is read as each ping is sent, but the episode's bound is fixed once: by its first
 * cut-off ping's grace, or — when that had none — by the first non-zero grace of a later check's
 * ping (counted from that ping), and kept after. Were it taken again at each check it would move
 * later with each one — Mongo's monitor wait counts from the ping; a Redis
 * command written after the episode's first ping queues behind that ping, so it cannot delay its
 * answer — and deadlines shorter than `pingTimeoutMs` plus the grace would keep a dead client for
 * good. A later check's own ping may wait behind more (Redis commands written since): when an
 * earlier ping of the episode is answered, the episode is over (the connection answers) and that
 * ping is bound by its own grace instead (see `revived`).
 *
 * The checks of one account never overlap: a lifecycle begins a check only once the one before has
 * settled (one whose waiters gave up records its cut-off a few microtasks after the abort; see
 * `ClientLifecycle`'s `#revalidate`). Were two to overlap, each would take its budget from the
 * same account and the later `cutOff` would overwrite the earlier one's time.
 *
 * Times are `performance.now()` ms (monotonic): each check's wait is measured on a clock that a
 * wall-clock step cannot move (a step back would keep a dead socket for as long; a step forward
 * would fail a healthy client's check). A grace is read as ms from now, so whatever wall clock its
 * reader needs (the server's timeouts, Redis' write times) stays with the reader.
 *
 * Which clock runs a grace out (`GraceClock`) depends on what it waits for. A Redis ping waits
 * behind blocking commands whose timeouts run on the server, frozen instance or not: `elapsed`,
 * the monotonic clock itself. A MongoDB ping waits for the driver's own monitor, whose timers a
 * freeze stops with the rest of the instance: `waited`, a clock that runs only while the
 * episode's checks wait (like the time counted against `pingTimeoutMs`). On `elapsed`, a freeze
 * between two checks used that grace up, and the ping after the thaw, waiting for the monitor
 * as before, timed out: a needless rebuild.
 */

/**
 * The clock a ping's grace runs on: `elapsed` (monotonic time, frozen or not: timeouts the server
 * keeps) or `waited` (only time the episode's checks spent waiting: pacing the client keeps).
 */
export type GraceClock = 'elapsed' | 'waited';

/** A ping about to be sent. */
export interface PingBudget {
  /** This ping's number: the pings of one account are numbered in the order they are sent. */
  seq: number;
  /** When it is sent, on the grace clock (ms): `performance.now()`, or the episode's time waited so far (`waited`). */
  sentAt: number;
  /** When it is sent (`performance.now()` ms). */
  sentMono: number;
  /** The number of the episode's first cut-off ping (`seq` when this ping may begin one). */
  firstSeq: number;
  /** Until when (grace clock) the episode's pings may stay unanswered before their time counts; 0: no grace. */
  blockedUntil: number;
  /** The same from this ping's own grace (read as it is sent): its bound once the episode is revived. */
  ownBlockedUntil: number;
  /** Time (ms) the episode's checks already waited unanswered past its grace. */
  countedMs: number;
  /** How long (ms) this ping may take; ≤ 0: the episode's pings were unanswered long enough — a failed check. */
  leftMs: number;
}

interface Episode<E> {
  entry: E;
  firstSeq: number;
  blockedUntil: number;
  countedMs: number;
  /** The grace clock when its last ping was cut off: where a `waited` clock goes on from. */
  clockAt: number;
}

/** Time (ms) of `[from, to]` past `blockedUntil`. */
function pastGrace(from: number, to: number, blockedUntil: number): number {
  return Math.max(0, to - Math.max(from, blockedUntil));
}

/** The unanswered episode of one lifecycle's cached client (`E`: its entry, compared by identity). */
export class UnansweredPings<E> {
  /** Cleared when a ping of that entry sent since it began is answered, when it fails the check, or when another entry is checked. */
  #episode: Episode<E> | undefined;
  #seq = 0;
  /** The last ping answered (its entry and number). */
  #answered: { entry: E; seq: number } | undefined;

  /**
   * @param graceClock - The clock graces run out on (see `GraceClock`). @default 'elapsed'
   * @param now - The monotonic clock, in ms (tests move it). @default performance.now
   */
  constructor(
    private readonly pingTimeoutMs: number,
    private readonly graceClock: GraceClock = 'elapsed',
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The grace clock now, for the ping with `budget` (its time since it was sent, on from its `sentAt`). */
  #clock(budget: PingBudget): number {
    return budget.sentAt + (this.now() - budget.sentMono);
  }

  /**
   * The budget of a ping of `entry` sent now. `graceMs` reads the ping's grace (ms from now). An
   * episode of another entry is forgotten.
   */
  begin(entry: E, graceMs: () => number): PingBudget {
    if (this.#episode !== undefined && this.#episode.entry !== entry) this.#episode = undefined;
    if (this.#answered !== undefined && this.#answered.entry !== entry) this.#answered = undefined;
    const episode = this.#episode;
    const seq = ++this.#seq;
    const sentMono = this.now();
    const sentAt = this.graceClock === 'waited' ? (episode?.clockAt ?? 0) : sentMono;
    const grace = graceMs();
    const ownBlockedUntil = grace > 0 ? sentAt + grace : 0;
    // A grace that first applies at a later check of the episode is counted from that check, once.
    const blockedUntil = episode !== undefined && episode.blockedUntil > 0 ? episode.blockedUntil : ownBlockedUntil;
    const countedMs = episode?.countedMs ?? 0;
    const leftMs = Math.max(sentAt, blockedUntil) + this.pingTimeoutMs - countedMs - sentAt;
    return { seq, sentAt, sentMono, firstSeq: episode?.firstSeq ?? seq, blockedUntil, ownBlockedUntil, countedMs, leftMs };
  }

  /** The ping of `entry` numbered `seq` was answered (even after its waiters left): its episode is over. */
  answered(entry: E, seq: number): void {
    if (this.#answered?.entry !== entry || this.#answered.seq < seq) this.#answered = { entry, seq };
    if (this.#episode?.entry === entry && this.#episode.firstSeq <= seq) this.#episode = undefined;
  }

  /**
   * Whether, since `budget`'s ping was sent, an earlier ping of the episode it counted from was
   * answered: the connection answers, so that episode's bound no longer applies to this ping.
   */
  revived(entry: E, budget: PingBudget): boolean {
    const last = this.#answered;
    return last !== undefined && last.entry === entry && last.seq >= budget.firstSeq && last.seq < budget.seq;
  }

  /** What is left (ms) of the bound `budget`'s ping has from its own grace alone. */
  ownLeftMs(budget: PingBudget): number {
    return Math.max(budget.sentAt, budget.ownBlockedUntil) + this.pingTimeoutMs - this.#clock(budget);
  }

  /**
   * The ping with `budget` was cut off by a deadline, unanswered: the next check of `entry` counts
   * from its episode, plus the time this one waited. An episode revived meanwhile is not brought
   * back: the time unanswered counts from this ping (a new episode, with its own grace); a ping
   * answered meanwhile leaves no episode.
   */
  cutOff(entry: E, budget: PingBudget): void {
    const last = this.#answered;
    if (last !== undefined && last.entry === entry && last.seq >= budget.seq) return;
    const at = this.#clock(budget);
    this.#episode = this.revived(entry, budget)
      ? { entry, firstSeq: budget.seq, blockedUntil: budget.ownBlockedUntil, countedMs: pastGrace(budget.sentAt, at, budget.ownBlockedUntil), clockAt: at }
      : { entry, firstSeq: budget.firstSeq, blockedUntil: budget.blockedUntil, countedMs: budget.countedMs + pastGrace(budget.sentAt, at, budget.blockedUntil), clockAt: at };
  }

  /** `entry` got a verdict (a failed check): its episode is over. */
  end(entry: E): void {
    if (this.#episode?.entry === entry) this.#episode = undefined;
  }
}
