/**
 * The deadline of one provider call (shared by the messages of a batch): every hook and the
 * function are raced against it, and `ctx.signal` aborts when it comes.
 *
 *   deadline − margin        the wrapper answers DEADLINE_EXCEEDED; ctx.signal aborts
 *   deadline − margin / 2    cleanup hooks (onError, finally, afterBatch) are cut off
 *   deadline                 the provider stops the invocation
 */
import { DeadlineExceededError, SteadyError } from './errors.js';
import { SignalSource, type Abortable } from './internal/signal.js';

/** A place in the list of watched work (the list's head is one too). */
interface Link {
  prev: Link;
  next: Link;
}

/**
 * Every piece of work racing a deadline, watched by one process-wide timer set for the
 * earliest of them. Invocations arrive with ever later deadlines, so the timer is rarely
 * re-armed: racing costs joining a linked list (a few pointer writes, no hashing), not a
 * timer per invocation.
 */
abstract class Watched implements Link {
  prev: Link = this;
  next: Link = this;
  constructor(readonly at: number) {}

  /** The bound has come (it is already out of the watch). */
  abstract expire(): void;

  /** Leaves the watch; nothing when it is not in it. The last one out lets the process go (`release`). */
  unwatch(): void {
    this.prev.next = this.next;
    this.next.prev = this.prev;
    this.prev = this.next = this;
    if (watchList.next === watchList) releaseWatch();
  }
}

/** The head of the list of watched work. */
const watchList: Link = { prev: undefined!, next: undefined! };
watchList.prev = watchList.next = watchList;
let watchTimer: NodeJS.Timeout | undefined;
let watchTimerAt = Number.POSITIVE_INFINITY;
/** Whether `watchTimer` holds the process open (it does while anything is watched). */
let watchHeld = false;

/** Node's longest timer (about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function armWatch(at: number): void {
  if (watchTimer) clearTimeout(watchTimer);
  watchTimerAt = at;
  // A deadline beyond the longest timer is re-checked when this one fires.
  watchTimer = setTimeout(fireWatch, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
  // Ref'd (Node's default) while work is watched: an invocation in flight keeps the process
  // open until it ends with its own answer — DEADLINE_EXCEEDED at its deadline at the latest.
  // Without it, a function awaiting what holds no socket or timer (an in-process lock, an event
  // never emitted) lets the event loop drain, and the runtime answers for us: the Lambda Node
  // runtime's `beforeExit` listener posts a `null` response — success, so an SQS batch with
  // ReportBatchItemFailures is deleted unprocessed. (A freeze has nothing to do with it: a
  // frozen instance runs no timer, ref'd or not.)
  watchHeld = true;
}

/**
 * The watch is empty: the timer no longer holds the process (an idle warm instance holds
 * nothing of ours, and a script that has finished exits). Unref'd rather than cleared, so the
 * next invocation's later deadline does not re-arm it (see `Watched`); fired, it finds nothing.
 */
function releaseWatch(): void {
  if (watchHeld && watchTimer) watchTimer.unref();
  watchHeld = false;
}

function watch(entry: Watched): void {
  const last = watchList.prev;
  entry.prev = last;
  entry.next = watchList;
  last.next = entry;
  watchList.prev = entry;
  if (entry.at < watchTimerAt) armWatch(entry.at);
  else if (!watchHeld) {
    // The timer armed for an earlier invocation, unref'd since: it holds the process again.
    watchTimer!.ref();
    watchHeld = true;
  }
}

function fireWatch(): void {
  watchTimer = undefined;
  watchTimerAt = Number.POSITIVE_INFINITY;
  watchHeld = false;
  const now = Date.now();
  let next = Number.POSITIVE_INFINITY;
  // Taken out first, expired after: an expiry's own effects cannot unlink the entry the walk stands on.
  const due: Watched[] = [];
  let link = watchList.next;
  while (link !== watchList) {
    const entry = link as Watched;
    link = link.next;
    if (entry.at <= now) {
      entry.unwatch();
      due.push(entry);
    } else if (entry.at < next) next = entry.at;
  }
  if (next !== Number.POSITIVE_INFINITY) armWatch(next);
  for (const entry of due) entry.expire();
}

/**
 * One piece of work racing a deadline: `deadline` set, it is the answer bound (DEADLINE_EXCEEDED,
 * and ctx.signal aborts); unset, the cleanup bound (PLUGIN_HOOK_TIMEOUT). A class, so racing
 * allocates no closure for what happens at the bound.
 */
class Race extends Watched {
  constructor(
    at: number,
    private readonly reject: (error: unknown) => void,
    private readonly deadline: Deadline | undefined,
  ) {
    super(at);
  }

  expire(): void {
    if (this.deadline === undefined) this.reject(new HookTimeoutError());
    else {
      this.deadline.cutOff = true;
      this.deadline.expireSignal();
      this.reject(new DeadlineExceededError());
    }
  }
}

/** Settles like `work`, or rejects at `at` (see `Race`). */
function raceAt<T>(work: Promise<T>, at: number, deadline: Deadline | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const race = new Race(at, reject, deadline);
    if (at <= Date.now()) {
      // Keep the late work's own rejection from surfacing as unhandled.
      work.catch(() => undefined);
      race.expire();
      return;
    }
    watch(race);
    work.then(
      (value) => {
        race.unwatch();
        resolve(value);
      },
      (error: unknown) => {
        race.unwatch();
        reject(error);
      },
    );
  });
}

/** ctx.signal's entry in the shared watch: aborts it at the answer bound. */
class SignalWatch extends Watched {
  constructor(
    at: number,
    private readonly deadline: Deadline,
  ) {
    super(at);
  }

  expire(): void {
    this.deadline.expireSignal();
  }
}

/** A cleanup hook that did not finish before the cut-off; logged, never the invocation's outcome. */
export class HookTimeoutError extends SteadyError {
  override readonly name = 'HookTimeoutError';
  constructor() {
    super('PLUGIN_HOOK_TIMEOUT', 'A cleanup hook did not finish before the deadline', { status: 504, retryable: true, expose: false });
  }
}

/**
 * One provider call's deadline. `race` puts a piece of work under the shared watch until it
 * settles; the abort state of `ctx.signal` is made only when someone needs it (reads
 * `ctx.signal`, or a store call races `abortable`), its AbortSignal only when `ctx.signal` is
 * read, and it is aborted by the same watch (no timer of its own) until `dispose` takes it off.
 */
export class Deadline {
  /** ctx.signal's abort state, made on first need; its AbortSignal only when `signal` is read. */
  private source: SignalSource | undefined;
  /** The signal's entry in the shared watch, while it is there. */
  private watched: Watched | undefined;
  private unlink: (() => void) | undefined;
  /** Set by `dispose`: the invocation has ended, and a signal first made now is not watched. */
  private disposed = false;
  /** Epoch ms at which the wrapper answers DEADLINE_EXCEEDED (the deadline less the margin). */
  readonly answerAt: number;
  /** Epoch ms after which cleanup hooks are no longer awaited. */
  readonly cleanupAt: number;
  /** Whether there is a deadline at all (a plain call without one has none). */
  readonly finite: boolean;
  /** The context that disposes of this deadline when it ends; a batch disposes of its own. */
  owner: object | undefined;
  /**
   * Set when a race was cut off at the answer bound: work it raced (the function, a hook) may
   * still be running, whatever the outcome became after (an `onError` may recover from
   * `DEADLINE_EXCEEDED` or replace it).
   */
  cutOff = false;

  constructor(
    readonly at: number,
    marginMs: number,
    private readonly caller?: AbortSignal,
  ) {
    this.answerAt = at - marginMs;
    this.cleanupAt = at - marginMs / 2;
    this.finite = Number.isFinite(at);
  }

  /** `ctx.signal`: aborted at the answer bound, or when the caller goes away. */
  get signal(): AbortSignal {
    return this.current(this.finite ? Date.now() : 0).signal;
  }

  /**
   * What `ctx.signal` races on without its AbortSignal (store calls through `ctx.redis`): the
   * same abort, at the same time, with the same reason, but no AbortController made for it.
   */
  get abortable(): Abortable {
    return this.current(this.finite ? Date.now() : 0);
  }

  /**
   * `abortable`, judged at `now` (epoch ms the caller has just read from `Date.now()`), for a
   * caller that needs the time itself: one clock read instead of two.
   */
  abortableAt(now: number): Abortable {
    return this.current(now);
  }

  /**
   * The source, made on first need, and aborted if the answer bound has passed at `now`: the
   * watch fires only when the event loop turns, so after synchronous work past the bound a store
   * call would otherwise still be sent, or not, depending on whether the source was made before.
   */
  private current(now: number): SignalSource {
    const source = this.source;
    if (source === undefined) return this.makeSource(now);
    if (!source.aborted && this.finite && this.answerAt <= now) source.abort(new DeadlineExceededError());
    return source;
  }

  private makeSource(now: number): SignalSource {
    const source = new SignalSource();
    this.source = source;
    if (this.finite) {
      // A deadline weeks away (past the longest timer) is watched like any other: the watch re-checks it.
      if (this.answerAt <= now) source.abort(new DeadlineExceededError());
      else if (!this.disposed) {
        // (After `dispose`, as for a signal made during the invocation, nothing aborts it at the
        // bound — a read past it still finds it aborted — and the watch does not hold it until then.)
        const watched = new SignalWatch(this.answerAt, this);
        this.watched = watched;
        watch(watched);
      }
    }
    const caller = this.caller;
    if (caller && !source.aborted && !this.disposed) {
      const gone = (): void => source.abort(new SteadyError('CLIENT_CLOSED_REQUEST', 'The caller went away', { status: 499, retryable: true }));
      if (caller.aborted) gone();
      else {
        caller.addEventListener('abort', gone, { once: true });
        this.unlink = () => caller.removeEventListener('abort', gone);
      }
    }
    return source;
  }

  /** Whether the wrapper must answer now: nothing new may start. */
  expired(): boolean {
    return this.answerAt <= Date.now();
  }

  /** Throws DEADLINE_EXCEEDED when the deadline (less the margin) has passed: called before each hook and before the function. */
  check(): void {
    // One implementation: the time it returns is dropped (V8 inlines the call; no extra clock read).
    this.checkedNow();
  }

  /**
   * The time (epoch ms) that the check made right before the `extend` hook now running read
   * from `Date.now()`; undefined outside a synchronous `extend` call (set and cleared by the
   * pipeline around it). A plugin that needs the time in `extend` (an idle check) reads this
   * instead of the clock: the same time, one clock read fewer per invocation.
   */
  extendingAt: number | undefined = undefined;

  /** `check`, returning the time it read (epoch ms): one clock read, the same throw. */
  checkedNow(): number {
    const now = Date.now();
    if (this.answerAt <= now) {
      this.expireSignal();
      throw new DeadlineExceededError();
    }
    return now;
  }

  /** Aborts ctx.signal (if it was made) with DEADLINE_EXCEEDED: the answer bound has come. */
  expireSignal(): void {
    if (this.source && !this.source.aborted) this.source.abort(new DeadlineExceededError());
  }

  /** Settles like `work`, or rejects with DEADLINE_EXCEEDED (and aborts ctx.signal) when the deadline comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    if (!this.finite) return work;
    return raceAt(work, this.answerAt, this);
  }

  /** Settles like `work`, or rejects with PLUGIN_HOOK_TIMEOUT at the cleanup cut-off. */
  raceCleanup<T>(work: Promise<T>): Promise<T> {
    if (!this.finite) return work;
    return raceAt(work, this.cleanupAt, undefined);
  }

  dispose(): void {
    this.disposed = true;
    this.watched?.unwatch();
    this.watched = undefined;
    this.unlink?.();
    this.unlink = undefined;
  }
}
