/**
 * The life of one cached client: created on first use (one connect shared by concurrent
 * callers), reused while it needs no check, pinged after idling past a threshold or after a
 * connection error, rebuilt when it fails, closed in the background when dropped. Every wait
 * is a `Flight` that each caller leaves when its own signal aborts.
 */
// currentContext and createLogger come from the root entry until @steadyfn/handler/internal exports them.
import { createLogger, currentContext, type Logger } from '@steadyfn/handler/internal';
import { ConfigurationError, SteadyError } from '@steadyfn/handler/internal';
import { sleep, withTimeout } from '@steadyfn/handler/internal';
import { BUDGET_DEFAULTS, judgeBudget, shedError } from './budget.js';
import { ConnectionUnavailableError } from './errors.js';
import { Flight, bounded } from './flight.js';
import type { AcquireState, ClientSpec, ClientStats, Lease } from './spec.js';
import { UnansweredPings, type GraceAnchor } from './unanswered.js';
import { Suspicion } from './suspicion.js';
import type { HandleSettings } from './validate.js';

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

interface Entry<T> {
  client: T;
}

let fallbackLogger: Logger | undefined;

/** One handle's client over time: created once, checked after idle, rebuilt when broken, closed on demand. */
export class ClientLifecycle<T> {
  current: Entry<T> | undefined;
  lastUsedAt: number | undefined;
  /** A client that saw a connection error (or a call cut off by a deadline) is checked before its next use. */
  readonly #suspicion = new Suspicion();
  readonly stats: ClientStats = { connects: 0, connectFailures: 0, pings: 0, pingFailures: 0, reconnects: 0, retries: 0, lastUsedAt: undefined, budget: undefined };
  #connecting: Flight<Entry<T>> | undefined;
  #checking: Flight<Lease<T>> | undefined;
  /** Set once a budget reading reached warnRatio: reconnects then wait a random while. */
  #nearLimit = false;
  readonly #closing = new Set<Promise<unknown>>();
  readonly #now: () => number;
  /** Whether a connect of this lifecycle succeeded since it was created or last closed: the next connect is then a rebuild. */
  #hadClient = false;

  /** Pings of the cached client left unanswered by checks that deadlines cut off. */
  readonly #unanswered: UnansweredPings<Entry<T>>;

  /** Whether the idle clock is `Date.now` (no `spec.now`): a caller that has just read it may pass the time in. */
  readonly wallClock: boolean;

  /**
   * @param onHeld - Told whether this lifecycle has a client or a connect under way, each time
   *   that may have changed (a connect starting or settling, `close()`): the registry of
   *   `closeAll()` holds the handle only then.
   * @param pingGraceMs - How much longer than `pingTimeoutMs` a ping sent now may take (in ms:
   *   it waits behind other callers' blocking commands, or for the driver's own pacing); read as
   *   each ping is sent. @default 0
   * @param graceAnchor - Where that grace is counted from while pings stay unanswered across
   *   checks: `'episode'` — from the first ping of the episode that was cut off (the bound it
   *   gave is kept: a later check cannot move it later); `'commands'` — from when the blocking
   *   commands it waits behind were written (an absolute end, which later checks may move later
   *   to the end of commands written since). @default 'episode'
   */
  constructor(
    private readonly spec: ClientSpec<T>,
    private readonly settings: HandleSettings,
    private readonly onHeld: (held: boolean) => void = () => undefined,
    private readonly pingGraceMs?: (client: T) => number,
    graceAnchor: GraceAnchor = 'episode',
  ) {
    this.#unanswered = new UnansweredPings(settings.pingTimeoutMs, graceAnchor);
    this.#now = spec.now ?? Date.now;
    this.wallClock = spec.now === undefined;
  }

  log(): Logger {
    return currentContext()?.log ?? this.spec.logger ?? (fallbackLogger ??= createLogger({ component: 'connections' }));
  }

  touch(): void {
    this.lastUsedAt = this.#now();
  }

  /**
   * Marks `client` for a check before its next use, if it is still the cached one. With
   * `stillStuck`, only when it says so at that use (what was in flight at a cut-off is still
   * unanswered); an unconditional suspicion stays one.
   */
  distrust(client: T, stillStuck?: () => boolean): void {
    if (this.current?.client !== client) return;
    this.#suspicion.raise(stillStuck);
  }

  /** Clients this lifecycle closed (or began to): not the function's doing. */
  readonly #closedHere = new WeakSet<object>();

  /** Whether `client` was closed here (a rebuild, `close()`), as opposed to by its user. */
  closedHere(client: T): boolean {
    return typeof client === 'object' && client !== null && this.#closedHere.has(client);
  }

  /** Closes `client` in the background, bounded by `closeTimeoutMs`. */
  readonly closeClient = (client: T): void => {
    const close = this.spec.close;
    if (!close) return;
    if (typeof client === 'object' && client !== null) this.#closedHere.add(client);
    const { name, closeTimeoutMs } = this.settings;
    const closed = withTimeout(
      Promise.resolve().then(() => close(client)),
      closeTimeoutMs,
      () => new TimeoutError(`closing ${name} timed out`),
    ).catch(() => undefined);
    this.#closing.add(closed);
    void closed.then(() => this.#closing.delete(closed));
  };

  /** Forgets `entry` (if it is still the cached one) and closes it in the background. */
  discard(entry: Entry<T>): void {
    if (this.current === entry) this.current = undefined;
    this.closeClient(entry.client);
  }

  async #create(signal: AbortSignal): Promise<T> {
    const { name, connectTimeoutMs } = this.settings;
    try {
      return await bounded((s) => this.spec.create({ signal: s }), connectTimeoutMs, () => new TimeoutError(`connecting ${name} timed out after ${connectTimeoutMs} ms`), signal, this.closeClient);
    } catch (err) {
      this.stats.connectFailures++;
      // Every waiter gave up: nobody reads this error.
      if (signal.aborted && err === signal.reason) throw err;
      if (err instanceof ConfigurationError) {
        // A missing driver, a bundle that cannot load it, a bad URI: say what, on every failed use. Our own message, no values.
        this.log().error('connections: client cannot be created', { client: name, code: err.code, reason: err.message });
        throw err;
      }
      // The user's own typed terminal errors stay as they are; anything else is a connect failure.
      if (err instanceof SteadyError && !err.retryable) throw err;
      throw new ConnectionUnavailableError(name, err);
    }
  }

  /** Reads the connection budget of a new client; closes it and throws when shedding. */
  async #checkBudget(client: T, signal: AbortSignal): Promise<void> {
    const { name, budget, pingTimeoutMs } = this.settings;
    const readBudget = this.spec.readBudget;
    if (!budget || !readBudget) return;
    const verdict = await judgeBudget(name, budget, () => readBudget(client), pingTimeoutMs, signal, () => this.log()).catch((err: unknown) => {
      this.closeClient(client);
      throw err;
    });
    if (!verdict) return;
    this.stats.budget = verdict.reading;
    this.#nearLimit = verdict.nearLimit;
    if (verdict.shed) {
      this.stats.connectFailures++;
      this.closeClient(client);
      throw shedError(name, budget, verdict.reading);
    }
  }

  /** A connect under way that can still be joined (not aborted: every waiter of it gave up). */
  get #joinableConnect(): Flight<Entry<T>> | undefined {
    return this.#connecting?.aborted ? undefined : this.#connecting;
  }

  /** A thaw check under way that can still be joined (not aborted). */
  get #joinableCheck(): Flight<Lease<T>> | undefined {
    return this.#checking?.aborted ? undefined : this.#checking;
  }

  /**
   * Single flight: every caller during one connect gets the same client or the same error. An
   * aborted connect (its waiters all gave up) is never joined: the caller starts its own.
   */
  connect(reconnect: boolean): Flight<Entry<T>> {
    const joinable = this.#joinableConnect;
    if (joinable) return joinable;
    const flight = new Flight<Entry<T>>(async (signal) => {
      if (reconnect && this.#nearLimit) {
        // Many instances reconnecting at once is how a connection storm starts: spread them.
        await sleep(Math.random() * (this.settings.budget?.backoffMs ?? BUDGET_DEFAULTS.backoffMs), signal);
        if (signal.aborted) throw signal.reason;
      }
      const client = await this.#create(signal);
      await this.#checkBudget(client, signal);
      if (signal.aborted) {
        // Given up meanwhile, and maybe replaced by a newer connect: this client is nobody's.
        this.closeClient(client);
        throw signal.reason;
      }
      this.stats.connects++;
      this.#hadClient = true;
      const entry = { client };
      this.current = entry;
      this.#suspicion.clear();
      return entry;
    });
    this.#connecting = flight;
    this.onHeld(true);
    // Whatever the outcome, the next caller starts afresh: a failure is never cached.
    const clear = (): void => {
      if (this.#connecting === flight) this.#connecting = undefined;
      this.#release();
    };
    flight.promise.then(clear, clear);
    return flight;
  }

  #lease(client: T, state: AcquireState, idleMs: number | undefined): Lease<T> {
    this.touch();
    return { client, state, idleMs };
  }

  /**
   * Pings `entry`; on failure builds a new client. Concurrent callers share one check. A ping cut
   * off by a deadline gives no verdict, but its time unanswered counts (see `UnansweredPings`).
   */
  #revalidate(entry: Entry<T>, idleMs: number | undefined): Flight<Lease<T>> {
    const joinable = this.#joinableCheck;
    if (joinable) return joinable;
    const { name, pingTimeoutMs } = this.settings;
    const ping = this.spec.ping;
    const flight = new Flight<Lease<T>>(async (signal) => {
      const budget = this.#unanswered.begin(entry, () => (ping ? (this.pingGraceMs?.(entry.client) ?? 0) : 0));
      const { sentAt, leftMs: left } = budget;
      if (ping && left > 0) {
        this.stats.pings++;
        const answer = Promise.resolve().then(() => ping(entry.client));
        // An answer, even after its waiters left, clears the time unanswered.
        answer.then(
          () => this.#unanswered.answered(entry, sentAt),
          () => undefined,
        );
        try {
          await bounded(() => answer, left, () => new TimeoutError(`${name} ping timed out after ${pingTimeoutMs} ms`), signal);
          this.#suspicion.clear();
          return this.#lease(entry.client, 'revalidated', idleMs);
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
      this.discard(entry);
      this.stats.reconnects++;
      const fresh = await this.connect(true).wait(signal);
      return this.#lease(fresh.client, 'reconnected', idleMs);
    });
    this.#checking = flight;
    const clear = (): void => {
      if (this.#checking === flight) this.#checking = undefined;
    };
    flight.promise.then(clear, clear);
    return flight;
  }

  /**
   * The cached client when it needs no check and no connect: the warm path, without a promise.
   *
   * @param at - `Date.now()` just read by the caller (used only when the idle clock is `Date.now`).
   * @default at this clock read now
   */
  reuse(at?: number): Lease<T> | undefined {
    const lastUsedAt = this.lastUsedAt;
    const client = this.reusable(this.wallClock ? at : undefined);
    return client === undefined ? undefined : { client, state: 'reused', idleMs: lastUsedAt === undefined ? undefined : this.lastUsedAt! - lastUsedAt };
  }

  /**
   * `reuse` without the lease (each command's path): the client, marked used at `at`, or
   * undefined when it needs a check or a connect first.
   *
   * @param at - The idle clock's time, read just now (only when it is `Date.now`: see `wallClock`).
   * @default at this clock read now
   */
  reusable(at?: number): T | undefined {
    const entry = this.current;
    const { spec } = this;
    if (!entry || this.#suspicion.holds() || this.#checking || (spec.isReady && !spec.isReady(entry.client))) return undefined;
    if (at === undefined) at = this.#now();
    if (spec.ping && this.lastUsedAt !== undefined && at - this.lastUsedAt > this.settings.idleThresholdMs) return undefined;
    this.lastUsedAt = at;
    return entry.client;
  }

  /** A connected, checked client, waiting at most until `signal` aborts. */
  async obtain(signal: AbortSignal | undefined): Promise<Lease<T>> {
    if (signal?.aborted) throw signal.reason;
    const checking = this.#joinableCheck;
    if (checking) return checking.wait(signal);
    const entry = this.current;
    const idleMs = this.lastUsedAt === undefined ? undefined : this.#now() - this.lastUsedAt;
    if (!entry) {
      const joined = this.#joinableConnect !== undefined;
      // A rebuild only when this instance had a client: a first connect that failed and is tried again is still `new`.
      const hadClient = this.#hadClient;
      const fresh = await this.connect(hadClient).wait(signal);
      if (!joined && hadClient) this.stats.reconnects++;
      return this.#lease(fresh.client, hadClient ? 'reconnected' : 'new', idleMs);
    }
    if (this.spec.isReady && !this.spec.isReady(entry.client)) {
      // The client already knows its socket is gone: no ping needed to decide.
      this.discard(entry);
      this.stats.reconnects++;
      const fresh = await this.connect(true).wait(signal);
      return this.#lease(fresh.client, 'reconnected', idleMs);
    }
    if (this.#suspicion.holds() || (this.spec.ping && idleMs !== undefined && idleMs > this.settings.idleThresholdMs)) return this.#revalidate(entry, idleMs).wait(signal);
    return this.#lease(entry.client, 'reused', idleMs);
  }

  /** Closes the client (after a connect in flight) and forgets it; the next use creates a new one. */
  async close(): Promise<void> {
    const pending = this.#connecting;
    if (pending) await pending.promise.then((entry) => this.discard(entry), () => undefined);
    if (this.current) this.discard(this.current);
    this.lastUsedAt = undefined;
    this.#hadClient = false;
    this.#suspicion.clear();
    this.#release();
    await Promise.all([...this.#closing]);
  }

  /** Lets the registry go of the handle once it has no client and no connect under way. */
  #release(): void {
    if (this.current === undefined && this.#connecting === undefined) this.onHeld(false);
  }
}
