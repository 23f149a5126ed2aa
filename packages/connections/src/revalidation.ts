/**
 * The thaw check of a cached client as one shared flight: ping it, and on failure rebuild it.
 * Kept apart from `ClientLifecycle` (connect, reuse, close) because its ordering rules — one
 * check at a time, each waiting for the settling of one its waiters gave up — are their own.
 */
import { Flight } from './flight.js';
import type { AcquireState, ClientStats, Lease } from './spec.js';
import type { Suspicion } from './suspicion.js';
import type { ThawCheck } from './thaw-check.js';

/** The cached client of a lifecycle, boxed so that "still the cached one" is an identity test. */
export interface Entry<T> {
  client: T;
}

/** What a check needs of its lifecycle. */
export interface CheckHost<T> {
  readonly stats: ClientStats;
  /** Forgets `entry` (if it is still the cached one) and closes it in the background. */
  discard(entry: Entry<T>): void;
  /** The lifecycle's single-flight connect (`reconnect`: a rebuild, which may be spread out). */
  connect(reconnect: boolean): Flight<Entry<T>>;
  /** Marks the client used and hands it out. */
  lease(client: T, state: AcquireState, idleMs: number | undefined): Lease<T>;
}

/** The check under way of one lifecycle, if any, and how a new one starts. */
export class Revalidation<T> {
  #checking: Flight<Lease<T>> | undefined;

  /**
   * @param check - The ping, and its account of pings left unanswered by checks that deadlines cut off.
   * @param suspicion - The lifecycle's suspicion of its client, cleared by a check that passes.
   */
  constructor(
    private readonly check: ThawCheck<T, Entry<T>>,
    private readonly suspicion: Suspicion,
    private readonly host: CheckHost<T>,
  ) {}

  /** A check under way, joinable or still settling after its waiters all gave up. */
  get underWay(): Flight<Lease<T>> | undefined {
    return this.#checking;
  }

  /** A check under way that can still be joined (not aborted). */
  get joinable(): Flight<Lease<T>> | undefined {
    return this.#checking?.aborted ? undefined : this.#checking;
  }

  /**
   * Pings `entry`; on failure builds a new client. Concurrent callers share one check. A ping cut
   * off by a deadline gives no verdict, but its time unanswered counts (see `UnansweredPings`).
   *
   * @param closing - Aborted by the lifecycle's `close()`: the check stops at once.
   */
  start(entry: Entry<T>, idleMs: number | undefined, closing: AbortSignal): Flight<Lease<T>> {
    const joinable = this.joinable;
    if (joinable) return joinable;
    // A check whose waiters all gave up (not joinable) may still be settling: its ping's cut-off
    // is recorded a few microtasks after the abort. A check begun before that took its budget
    // from the account without that ping's wait, and its own cut-off then overwrote the account
    // with its own wait alone: the earlier ping's wait was lost, so deadlines a caller retried at
    // once could keep a dead client past `pingTimeoutMs`. So this one waits for it first.
    const previous = this.#checking;
    const { host } = this;
    const flight = new Flight<Lease<T>>(async (waiters) => {
      // Its waiters all gave up, or close() was called: either way the check stops.
      const signal = AbortSignal.any([waiters, closing]);
      if (previous !== undefined) {
        await previous.promise.catch(() => undefined);
        if (signal.aborted) throw signal.reason;
      }
      if (await this.check.passes(entry, signal)) {
        this.suspicion.clear();
        return host.lease(entry.client, 'revalidated', idleMs);
      }
      host.discard(entry);
      host.stats.reconnects++;
      const fresh = await host.connect(true).wait(signal);
      return host.lease(fresh.client, 'reconnected', idleMs);
    });
    this.#checking = flight;
    const clear = (): void => {
      if (this.#checking === flight) this.#checking = undefined;
    };
    flight.promise.then(clear, clear);
    return flight;
  }
}
