/**
 * `ctx`: one class so every invocation's context has one shape, with lazy members on the
 * prototype, and each plugin's private state beside it. The function's outcome (started,
 * returned, effects pending) is its base class, in effects.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Deadline } from './deadline.js';
import type { Abortable } from './internal/signal.js';
import { TraceparentInvalidError } from './errors.js';
import type { Logger } from './logger.js';
import type { Definition, Frame, Invocation } from './invoke.js';
import { incomingTrace, type CarriedTrace } from './trace/incoming.js';
import { newTraceparent, parseTraceparent, parseTracestate, type TraceContext } from './trace/traceparent.js';
import { resolvePrincipal, verifiedPrincipal, type Principal, type PrincipalConfig, type PrincipalReader } from './principal.js';
import type { BaseContext, Context, Provider, Trigger } from './types.js';
import { FunctionOutcome } from './effects.js';

const NO_STATES: unknown[] = [];
const NO_PRINCIPAL_CONFIG: PrincipalConfig = { custom: undefined, trusted: new Set() };

/** Whether this instance has served an invocation yet (module state: one instance, one cold start). */
let served = false;

/**
 * Whether this instance's first invocation is a cold start: not on a Lambda instance that
 * provisioned concurrency initialised ahead of any invocation
 * (`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`), whose first invocation finds it
 * warm (as Powertools for AWS Lambda reads it; a SnapStart restore, `snap-start`, counts as cold).
 */
function firstIsCold(): boolean {
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() !== 'provisioned-concurrency';
}

/**
 * `true` the first time it is called in this process (unless provisioned concurrency
 * initialised the instance: see `firstIsCold`), `false` ever after. Called once per provider
 * call (the adapter keeps it on the `Frame`).
 */
export function takeColdStart(): boolean {
  if (served) return false;
  served = true;
  return firstIsCold();
}

/** What `takeColdStart()` would answer now, without taking it (a log line written before the call takes it). */
export function peekColdStart(): boolean {
  return !served && firstIsCold();
}

/** A plugin's `state()` threw: kept until the pipeline can fail the invocation with it. */
class StateFailure {
  constructor(readonly thrown: unknown) {}
}

/** Each plugin's state for this ctx, by the plugin's index in `use`. */
export let pluginStates: (ctx: InvocationContext) => unknown[];

// The outcome bookkeeping, also imported from here (by middy/).
export { functionReturned, functionStarted, setFunctionReturned, setFunctionStarted } from './effects.js';

/**
 * The trace context the invocation was called with, or undefined when it came with none
 * (then `ctx.traceparent` is a new trace) — what a span's parent may be.
 */
export function receivedTrace(ctx: object): TraceContext | undefined {
  return ctx instanceof InvocationContext ? readReceived(ctx) : undefined;
}
let readReceived: (ctx: InvocationContext) => TraceContext | undefined;

/**
 * What a store call made during the invocation `ctx` races: `ctx.signal`'s abort itself (same
 * moment, same reason) without making its AbortSignal, which only a read of `ctx.signal` does;
 * `ctx.signal` for a ctx this copy of the package did not make.
 *
 * @param now - `Date.now()` just read by the caller: the answer bound is judged at it (see `currentAbortable`).
 */
export function abortableOf(ctx: object, now?: number): Abortable | undefined {
  return ctx instanceof InvocationContext ? readAbortable(ctx, now) : (ctx as { signal?: AbortSignal }).signal;
}
let readAbortable: (ctx: InvocationContext, now: number | undefined) => Abortable;

/**
 * `abortableOf` the running invocation (see `currentContext`), or undefined outside one.
 *
 * @param now - `Date.now()` the caller has just read (it needs the time too, e.g. for an idle
 *   check): the answer bound is judged at it, sparing a second clock read. Read it right before
 *   the call, or leave it out.
 */
export function currentAbortable(now?: number): Abortable | undefined {
  const ctx = currentContext();
  return ctx === undefined ? undefined : abortableOf(ctx, now);
}

/**
 * The time (epoch ms from `Date.now()`) at which the handler checked the deadline right before
 * the `extend` hook now running on `ctx`; undefined outside a synchronous `extend` call, or for
 * a ctx this copy of the package did not make. A plugin that needs the time in `extend` (an idle
 * check) uses it instead of reading the clock again.
 */
export function extendingAt(ctx: object): number | undefined {
  return ctx instanceof InvocationContext ? readExtendingAt(ctx) : undefined;
}
let readExtendingAt: (ctx: InvocationContext) => number | undefined;

/** The `ctx` of every invocation: see `BaseContext` for its members. */
export class InvocationContext extends FunctionOutcome implements BaseContext {
  readonly provider: Provider;
  readonly trigger: Trigger;
  readonly functionName: string;
  readonly requestId: string;
  readonly deadline: number;
  readonly raw: unknown;
  readonly coldStart: boolean;
  input: unknown = undefined;
  /** Holds `deliveryId`, read through: an adapter may work it out on first read (the Azure blob trigger's content hash). */
  #invocation: Invocation;
  #logger: Logger;
  #log: Logger | undefined;
  #logFields: Readonly<Record<string, string>> | undefined;
  #deadline: Deadline;
  /** Trace context the adapter read outside the trigger (CloudEvents extension, SQS AWSTraceHeader). */
  #carried: CarriedTrace | undefined;
  /** Read (or made) on first use: most invocations never ask. */
  #trace: TraceContext | undefined;
  /** Each plugin's state, by its index in `use`; read by the core through `pluginStates`. */
  #states: unknown[] | StateFailure;
  #principalConfig: PrincipalConfig;
  /** The adapter's reader of the provider-verified principal (`Frame.principal`). */
  #readPrincipal: PrincipalReader | undefined;
  /** The provider-verified principal, read on first use (`null`: not read yet). */
  #verified: Principal | undefined | null = null;
  /** Set while the `principal` option runs, so that it reading `ctx.principal` gets the verified one. */
  #resolving = false;

  static {
    readReceived = (ctx) => incomingTrace(ctx.trigger, ctx.provider, ctx.#carried);
    readAbortable = (ctx, now) => (now === undefined ? ctx.#deadline.abortable : ctx.#deadline.abortableAt(now));
    readExtendingAt = (ctx) => ctx.#deadline.extendingAt;
    pluginStates = (ctx) => {
      const states = ctx.#states;
      // A state factory that threw fails the invocation inside the pipeline, where it is reported.
      if (states instanceof StateFailure) throw states.thrown;
      return states;
    };
  }

  constructor(def: Definition, frame: Frame, inv: Invocation, deadline: Deadline, coldStart: boolean) {
    super();
    this.provider = frame.provider;
    this.trigger = inv.trigger;
    this.functionName = def.name ?? frame.functionName;
    this.requestId = inv.requestId;
    this.#invocation = inv;
    this.deadline = deadline.at;
    this.raw = frame.raw;
    this.coldStart = coldStart;
    this.#logger = def.logger;
    this.#logFields = frame.logFields;
    this.#deadline = deadline;
    this.#carried = inv.trace;
    this.#principalConfig = def.principal ?? NO_PRINCIPAL_CONFIG;
    this.#readPrincipal = frame.principal;
    // Identity fields the invoker wrote are nobody's: the verified principal is none from the start.
    if (frame.callerSetIdentity === true) this.#verified = undefined;
    const stateful = def.stateful;
    if (stateful.length === 0) this.#states = NO_STATES;
    else {
      const states = new Array<unknown>(def.use.length);
      try {
        for (const i of stateful) states[i] = def.use[i]!.state!();
        this.#states = states;
      } catch (thrown) {
        this.#states = new StateFailure(thrown);
      }
    }
  }

  get deliveryId(): string | undefined {
    return this.#invocation.deliveryId;
  }

  remainingMs(): number {
    return Number.isFinite(this.deadline) ? Math.max(0, this.deadline - Date.now()) : Number.POSITIVE_INFINITY;
  }

  get signal(): AbortSignal {
    return this.#deadline.signal;
  }

  get traceparent(): string {
    return this.#traceContext().traceparent;
  }

  set traceparent(value: string) {
    const parsed = parseTraceparent(value);
    if (!parsed) throw new TraceparentInvalidError(value);
    this.#trace = { traceparent: parsed.text, tracestate: this.#trace?.tracestate };
  }

  get tracestate(): string | undefined {
    return this.#traceContext().tracestate;
  }

  set tracestate(value: string | undefined) {
    // An invalid tracestate is dropped, as a receiver does (the spec never fails on it).
    this.#trace = { traceparent: this.#traceContext().traceparent, tracestate: value === undefined ? undefined : parseTracestate(value) };
  }

  #traceContext(): TraceContext {
    return (this.#trace ??= incomingTrace(this.trigger, this.provider, this.#carried) ?? { traceparent: newTraceparent(), tracestate: undefined });
  }

  get principal(): Principal | undefined {
    if (this.#verified === null) this.#verified = verifiedPrincipal(this.#readPrincipal, this.trigger, this.raw, this.#principalConfig.trusted);
    if (this.#resolving) return this.#verified;
    this.#resolving = true;
    try {
      return resolvePrincipal(this, this.#principalConfig, this.#verified);
    } finally {
      this.#resolving = false;
    }
  }

  /** Built on first use: most invocations never log. */
  get log(): Logger {
    if (this.#log !== undefined) return this.#log;
    const log = invocationLogger(this.#logger, this.provider, this.requestId, this.deliveryId, this.coldStart, { fn: this.functionName, trigger: this.trigger.kind });
    return (this.#log = this.#logFields === undefined ? log : log.child(this.#logFields));
  }
}

/** The logger of one invocation; adapters use it too for what they log before or after the core runs. */
export function invocationLogger(
  logger: Logger,
  provider: Provider,
  requestId: string,
  deliveryId: string | undefined,
  coldStart: boolean,
  invocation?: { fn: string; trigger: string },
): Logger {
  return logger.child(invocation === undefined ? { provider, requestId, deliveryId, coldStart } : { fn: invocation.fn, provider, requestId, deliveryId, coldStart, trigger: invocation.trigger });
}

/** A new ctx for one invocation of `def` (a batch makes one per message, sharing `deadline`). */
export function createContext(def: Definition, frame: Frame, inv: Invocation, deadline: Deadline, coldStart: boolean): InvocationContext {
  return new InvocationContext(def, frame, inv, deadline, coldStart);
}

/**
 * Which invocation is running, for `currentContext()`.
 *
 * While invocations do not overlap (Lambda runs one at a time per instance), the running one is
 * simply remembered (`solo`): no AsyncLocalStorage, whose promise hooks (Node 22) would cost
 * every promise of the process — the user's and the drivers' too — about a microsecond per
 * invocation. The first time invocations overlap (concurrent activations, a batch's messages),
 * or an invocation answers while its work may still run (its deadline passed), tracking
 * switches to AsyncLocalStorage for good; the invocation that was running alone is still
 * found through `solo` until it ends.
 */
interface Tracking {
  storage: AsyncLocalStorage<Context> | undefined;
  solo: Context | undefined;
}

/**
 * Kept under a registry symbol on `globalThis`, so that a program holding both the ESM and the
 * CJS build (an ES-module action that also `require`s us) sees one current invocation: the
 * function wrapped by one copy finds its context through `currentContext()` of the other.
 */
const TRACKING = Symbol.for('steadyfn.invocationTracking.v1');
const shared = globalThis as unknown as Record<symbol, Tracking | undefined>;
const tracking: Tracking = (shared[TRACKING] ??= { storage: undefined, solo: undefined });

/** Tracks invocations with AsyncLocalStorage from now on. */
export function trackConcurrently(): AsyncLocalStorage<Context> {
  return (tracking.storage ??= new AsyncLocalStorage<Context>());
}

/** Runs `fn(...args)` as invocation `ctx`: `currentContext()` returns `ctx` in it and in everything it starts. */
export function runAs<A extends unknown[], R>(ctx: Context, fn: (...args: A) => R, ...args: A): R {
  if (tracking.storage === undefined && (tracking.solo === undefined || tracking.solo === ctx)) {
    tracking.solo = ctx;
    return fn(...args);
  }
  return trackConcurrently().run(ctx, fn, ...args);
}

/**
 * Invocation `ctx` has ended. `workMayRun`: it answered while its function or hooks may still be
 * running (a deadline): from now on they must not see another invocation as theirs.
 */
export function ended(ctx: Context, workMayRun: boolean): void {
  if (tracking.solo !== ctx) return;
  tracking.solo = undefined;
  if (workMayRun) trackConcurrently();
}

/**
 * The context of the invocation running now (in its function, its hooks and anything they
 * call), or undefined outside one.
 *
 * While invocations do not overlap, the invocation running at the moment of the call is
 * returned; so is it for work an earlier invocation left running after it answered
 * successfully (fire-and-forget promises), which belongs to no invocation any more.
 */
export function currentContext<T extends object = {}>(): Context<T> | undefined {
  return (tracking.storage?.getStore() ?? tracking.solo) as Context<T> | undefined;
}