/**
 * The life of one cached client: created on first use (one connect shared by concurrent
 * callers), reused while it needs no check, pinged after idling past a threshold or after a
 * connection error, rebuilt when it fails, closed in the background when dropped. Every wait
 * is a `Flight` that each caller leaves when its own signal aborts. The thaw check itself is
 * `Revalidation` (revalidation.ts).
 */
import { createLogger, currentContext, type Logger } from '@steadyfn/handler/internal';
import { sleep } from '@steadyfn/handler/internal';
import { BUDGET_DEFAULTS } from './budget.js';
import { Closer } from './closer.js';
import { ConnectionUnavailableError } from './errors.js';
import { Flight } from './flight.js';
import { newClient } from './new-client.js';
import { Revalidation, type Entry } from './revalidation.js';
import type { AcquireState, ClientSpec, ClientStats, Lease } from './spec.js';
import { Suspicion } from './suspicion.js';
import { ThawCheck } from './thaw-check.js';
import type { GraceClock } from './unanswered.js';
import type { HandleSettings } from './validate.js';

let fallbackLogger: Logger | undefined;

/** One handle's client over time: created once, checked after idle, rebuilt when broken, closed on demand. */
export class ClientLifecycle<T> {
  current: Entry<T> | undefined;
  lastUsedAt: number | undefined;
  /** A client that saw a connection error (or a call cut off by a deadline) is checked before its next use. */
  readonly #suspicion = new Suspicion();
  readonly stats: ClientStats = { connects: 0, connectFailures: 0, pings: 0, pingFailures: 0, reconnects: 0, retries: 0, lastUsedAt: undefined, budget: undefined };
  #connecting: Flight<Entry<T>> | undefined;
  /**
   * Aborted by `close()` (then replaced): a thaw check under way stops at once — its ping gives
   * no verdict, it opens no new client — and its waiters get `CONNECTION_UNAVAILABLE`.
   */
  #closing = new AbortController();
  /** `close()` calls under way: `obtain` refuses meanwhile (a client connected then would outlive the close, unclosed). */
  #closesUnderWay = 0;
  /** Set once a budget reading reached warnRatio: reconnects then wait a random while. */
  #nearLimit = false;
  readonly #closer: Closer<T>;
  readonly #now: () => number;
  /** Whether a connect of this lifecycle succeeded since it was created or last closed: the next connect is then a rebuild. */
  #hadClient = false;
  /** The thaw check under way, if any: its ping, and its account of pings left unanswered by checks that deadlines cut off. */
  readonly #revalidation: Revalidation<T>;

  /** Whether the idle clock is `Date.now` (no `spec.now`): a caller that has just read it may pass the time in. */
  readonly wallClock: boolean;

  /**
   * @param onHeld - Told whether this lifecycle has a client or a connect under way, each time
   *   that may have changed (a connect starting or settling, `close()`): the registry of
   *   `closeAll()` holds the handle only then.
   * @param pingGraceMs - How much longer than `pingTimeoutMs` a ping sent now may take (in ms:
   *   it waits behind other callers' blocking commands, or for the driver's own pacing); read as
   *   each ping is sent. An unanswered episode keeps the bound of its first ping with a non-zero
   *   grace — its first cut-off ping, or when that had none, the first later check's that has one
   *   — and later checks cannot move it (see `UnansweredPings`). @default 0
   * @param pingGraceClock - The clock that grace runs out on: `elapsed` for a wait the server
   *   keeps (Redis' blocking timeouts), `waited` for pacing the client keeps, which a freeze stops
   *   too (MongoDB's monitor); see `GraceClock`. @default 'elapsed'
   */
  constructor(
    private readonly spec: ClientSpec<T>,
    private readonly settings: HandleSettings,
    private readonly onHeld: (held: boolean) => void = () => undefined,
    pingGraceMs?: (client: T) => number,
    pingGraceClock?: GraceClock,
  ) {
    const check = new ThawCheck<T, Entry<T>>(settings.name, settings.pingTimeoutMs, spec.ping?.bind(spec), pingGraceMs, this.stats, pingGraceClock);
    this.#revalidation = new Revalidation(check, this.#suspicion, {
      stats: this.stats,
      discard: (entry) => this.discard(entry),
      connect: (reconnect) => this.connect(reconnect),
      lease: (client, state, idleMs) => this.#lease(client, state, idleMs),
    });
    this.#closer = new Closer(spec.close?.bind(spec), settings.name, settings.closeTimeoutMs);
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

  /** Whether `client` was closed here (a rebuild, `close()`), as opposed to by its user. */
  readonly closedHere = (client: T): boolean => this.#closer.closedHere(client);

  /** Closes `client` in the background, bounded by `closeTimeoutMs`. */
  readonly closeClient = (client: T): void => this.#closer.close(client);

  /** Forgets `entry` (if it is still the cached one) and closes it in the background. */
  discard(entry: Entry<T>): void {
    if (this.current === entry) this.current = undefined;
    this.closeClient(entry.client);
  }

  /** A connect under way that can still be joined (not aborted: every waiter of it gave up). */
  get #joinableConnect(): Flight<Entry<T>> | undefined {
    return this.#connecting?.aborted ? undefined : this.#connecting;
  }

  /**
   * Single flight: every caller during one connect gets the same client or the same error. An
   * aborted connect (its waiters all gave up) is never joined: the caller starts its own.
   */
  connect(reconnect: boolean): Flight<Entry<T>> {
    const joinable = this.#joinableConnect;
    if (joinable) return joinable;
    const closing = this.#closing.signal;
    const flight = new Flight<Entry<T>>(async (waiters) => {
      // Its waiters all gave up, or close() was called: either way the connect stops, and a client
      // it makes after that is closed, not handed to a waiter (close() would close it under them).
      const signal = AbortSignal.any([waiters, closing]);
      if (reconnect && this.#nearLimit) {
        // Many instances reconnecting at once is how a connection storm starts: spread them.
        await sleep(Math.random() * (this.settings.budget?.backoffMs ?? BUDGET_DEFAULTS.backoffMs), signal);
        if (signal.aborted) throw signal.reason;
      }
      const client = await newClient(
        { spec: this.spec, settings: this.settings, stats: this.stats, log: () => this.log(), closeClient: this.closeClient, noteNearLimit: (near) => void (this.#nearLimit = near) },
        signal,
      );
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
    if (!entry || this.#suspicion.holds() || this.#revalidation.underWay || (spec.isReady && !spec.isReady(entry.client))) return undefined;
    if (at === undefined) at = this.#now();
    if (spec.ping && this.lastUsedAt !== undefined && at - this.lastUsedAt > this.settings.idleThresholdMs) return undefined;
    this.lastUsedAt = at;
    return entry.client;
  }

  /**
   * A connected, checked client, waiting at most until `signal` aborts.
   * @throws ConnectionUnavailableError (`closedBy: 'connections'`) while `close()` is under way: nothing is connected, nothing sent.
   */
  async obtain(signal: AbortSignal | undefined): Promise<Lease<T>> {
    if (signal?.aborted) throw signal.reason;
    if (this.#closesUnderWay > 0) throw new ConnectionUnavailableError(this.settings.name, undefined, 'connections');
    const checking = this.#revalidation.joinable;
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
      // The client knows its socket is gone: no ping needed. Rebuilt at once, not left to reconnect itself: for
      // ioredis the same one socket and handshake, without its retry delay (review-thaw-dead-socket-rebuild test).
      this.discard(entry);
      this.stats.reconnects++;
      const fresh = await this.connect(true).wait(signal);
      return this.#lease(fresh.client, 'reconnected', idleMs);
    }
    if (this.#suspicion.holds() || (this.spec.ping && idleMs !== undefined && idleMs > this.settings.idleThresholdMs)) return this.#revalidation.start(entry, idleMs, this.#closing.signal).wait(signal);
    return this.#lease(entry.client, 'reused', idleMs);
  }

  /**
   * Closes the client and forgets it; the next use creates a new one. A thaw check or a connect
   * under way is stopped first (its waiters get `CONNECTION_UNAVAILABLE` with `closedBy:
   * 'connections'`; a ping cut off so is no failed check) and waited for, so it leaves no new
   * client open and hands none out. A caller that asks for a client until close() resolves gets
   * the same error instead of connecting one that nothing would close.
   */
  async close(): Promise<void> {
    this.#closesUnderWay++;
    try {
      const checking = this.#revalidation.underWay;
      this.#closing.abort(new ConnectionUnavailableError(this.settings.name, undefined, 'connections'));
      this.#closing = new AbortController();
      if (checking) await checking.promise.catch(() => undefined);
      const pending = this.#connecting;
      if (pending) await pending.promise.then((entry) => this.discard(entry), () => undefined);
      if (this.current) this.discard(this.current);
      this.lastUsedAt = undefined;
      this.#hadClient = false;
      this.#suspicion.clear();
      this.#release();
      await this.#closer.settled();
    } finally {
      this.#closesUnderWay--;
    }
  }

  /** Lets the registry go of the handle once it has no client and no connect under way. */
  #release(): void {
    if (this.current === undefined && this.#connecting === undefined) this.onHeld(false);
  }
}
