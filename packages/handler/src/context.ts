/**
 * `ctx`: one class so every invocation's context has one shape, with lazy members on the
 * prototype, and each plugin's private state beside it.
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

const NO_STATES: unknown[] = [];
const NO_PRINCIPAL_CONFIG: PrincipalConfig = { custom: undefined, trusted: new Set() };

/** Whether this instance has served an invocation yet (module state: one instance, one cold start). */
let served = false;

/** `true` the first time it is called in this process, `false` ever after. */
export function takeColdStart(): boolean {
  const cold = !served;
  served = true;
  return cold;
}

/** A plugin's `state()` threw: kept until the pipeline can fail the invocation with it. */
class StateFailure {
  constructor(readonly thrown: unknown) {}
}

/** Each plugin's state for this ctx, by the plugin's index in `use`. */
export let pluginStates: (ctx: InvocationContext) => unknown[];

/**
 * Records whether the function was called: `true` just before the pipeline calls it; `undefined`
 * (not known) where the core does not call it itself (a plain middy handler); `false` again once
 * it is known that it cannot have been (a middy `before` failed).
 */
export let setFunctionStarted: (ctx: InvocationContext, started: boolean | undefined) => void;

/**
 * Records that the function returned, with `value` (see `functionReturned`). Cleared by
 * `setFunctionStarted`: a function called again (a `wrap` calling `next()` twice) has not
 * returned until that call does. `rendered` (default `true`) is `false` while `value` is the
 * function's own result, not yet rendered for HTTP.
 */
export let setFunctionReturned: (ctx: InvocationContext, value: unknown, rendered?: boolean) => void;

/**
 * Whether the invocation's function was called — `true` from the moment it is called, whether it
 * then returned, threw, or was cut off at the deadline. For a plugin's `after`, `onError` and
 * `finally` hooks: `false` means the outcome is not the function's (a later plugin's `before`
 * threw or answered early, the input failed validation, a batch's `beforeBatch` threw), so the
 * function had no effects, and nothing the function did needs recording.
 *
 * `true` when it is not known: for a ctx another copy of `@steadyfn/handler` made, and under
 * middy once every steadyfn middleware's `before` passed (middy does not say whether it called
 * the handler). Under middy the answer is exact only when every middleware of the chain is a
 * `toMiddy(...)` one: a plain middy middleware's `before` that throws after
 * them is not seen, so it reads `true`, with `steadyHandler(fn)` too (which only makes a `wrap`
 * that answers without calling `next()` read `false`).
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @returns `false` only when the function is known not to have been called.
 * @example
 * const audit: Plugin = {
 *   name: 'audit',
 *   onError(ctx, error) {
 *     if (!functionStarted(ctx)) return; // refused before the function ran: nothing to audit
 *     ctx.log.warn('order failed', { code: error.code });
 *   },
 * };
 */
export function functionStarted(ctx: object): boolean {
  return readFunctionStarted(ctx) !== false;
}
/** `undefined` for an object that is not an `InvocationContext` of this copy (a brand check: a prototype's instance has no `#started`). */
let readFunctionStarted: (ctx: object) => boolean | undefined;

/**
 * Whether the invocation's function returned — its effects are done — and what it returned,
 * for a plugin's `onError` (and `after`, `finally`) to tell "the function threw" from "the
 * function returned, then a later hook failed" (a plugin's `after` or `wrap` inside it threw, the
 * result could not be sent). `value` is the result as the `after` hooks are handed it: rendered
 * for HTTP (an `HttpResponse`), after every `wrap`. When the result itself could not be
 * answered (`INVALID_HTTP_RESULT`, `RESPONSE_TOO_LARGE` while rendering it), `value` is what
 * the function returned, unrendered, and `rendered` is `false`: the refused answer was the
 * function's own, not one a later plugin's `after` made. Under middy, `value` is `request.response` as the innermost `toMiddy(...)`
 * middleware's `after` finds it; a plain middy `after` that throws before it is not seen.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @returns `{ value, rendered }` once the last call of the function returned (`rendered`: `false`
 *   only while `value` is the function's result not yet rendered for HTTP — its rendering
 *   failed when read from a failure hook); `undefined` while it has
 *   not (it threw, was cut off at the deadline, never ran, is running again under a `wrap`),
 *   and for a ctx another copy of `@steadyfn/handler` made (not known).
 * @example
 * const ledger: Plugin = {
 *   name: 'ledger',
 *   onError(ctx, error) {
 *     const returned = functionReturned(ctx);
 *     if (returned) ctx.log.warn('failed after the function returned', { code: error.code }); // effects done
 *   },
 * };
 */
export function functionReturned(ctx: object): FunctionReturned | undefined {
  return readFunctionReturned(ctx);
}
let readFunctionReturned: (ctx: object) => FunctionReturned | undefined;

/** What `functionReturned` answers once the function returned. */
export interface FunctionReturned {
  /** The result as the `after` hooks are handed it (see `functionReturned`). */
  readonly value: unknown;
  /** `false` while `value` is the function's own result not yet rendered for HTTP (its rendering failed). */
  readonly rendered: boolean;
}

/** Registry key of the "effects not yet written" mark: two copies of the package agree on it. */
const EFFECTS_PENDING = Symbol.for('steadyfn.handler.effectsPending');

/**
 * Marks that the function's effects are staged with a plugin that writes them later (the
 * outbox, in its `extend`, so a plugin listed after it can refuse that order): until
 * `effectsWritten(ctx)`, a failure after the function returned has effects not written, so
 * `effectsPending(ctx)` is `true` and a record or event the function answered for is released
 * rather than completed (the retry writes them once).
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @example
 * const writer: Plugin = { name: 'writer', before: (ctx) => markEffectsPending(ctx), after: async (ctx) => { await write(); effectsWritten(ctx); } };
 */
export function markEffectsPending(ctx: object): void {
  (ctx as Record<symbol, unknown>)[EFFECTS_PENDING] = true;
}

/**
 * Clears `markEffectsPending`: the staged effects are written (committed), or there was nothing to write.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 */
export function effectsWritten(ctx: object): void {
  if ((ctx as Record<symbol, unknown>)[EFFECTS_PENDING] === true) (ctx as Record<symbol, unknown>)[EFFECTS_PENDING] = false;
}

/**
 * Whether a plugin marked the function's effects as staged and has not written them yet
 * (`markEffectsPending` without `effectsWritten` since). A failure after the function returned
 * completes a record only when this is `false`: a plugin listed inside the writer (its `after`
 * runs first) that fails leaves the effects unwritten; one listed outside it fails after the write.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @returns `true` while staged effects are not written; `false` when none were marked.
 * @example
 * if (functionReturned(ctx) !== undefined && !effectsPending(ctx)) complete(); else release();
 */
export function effectsPending(ctx: object): boolean {
  return (ctx as Record<symbol, unknown>)[EFFECTS_PENDING] === true;
}

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
export class InvocationContext implements BaseContext {
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
  /** See `functionStarted`: `undefined` when not known. */
  #started: boolean | undefined = false;
  /** See `functionReturned`: whether the function's last call returned, and its value (no object made per invocation). */
  #returned = false;
  #returnedValue: unknown = undefined;
  #returnedRendered = true;
  /** See `markEffectsPending` (a registry-symbol field: every ctx has one shape). */
  [EFFECTS_PENDING] = false;
  /** Set while the `principal` option runs, so that it reading `ctx.principal` gets the verified one. */
  #resolving = false;

  static {
    readReceived = (ctx) => incomingTrace(ctx.trigger, ctx.provider, ctx.#carried);
    readAbortable = (ctx, now) => (now === undefined ? ctx.#deadline.abortable : ctx.#deadline.abortableAt(now));
    readExtendingAt = (ctx) => ctx.#deadline.extendingAt;
    readFunctionStarted = (ctx) => (#started in ctx ? ctx.#started : undefined);
    setFunctionStarted = (ctx, started) => {
      ctx.#started = started;
      ctx.#returned = false;
      ctx.#returnedValue = undefined;
      ctx.#returnedRendered = true;
    };
    readFunctionReturned = (ctx) => (#returned in ctx && ctx.#returned ? { value: ctx.#returnedValue, rendered: ctx.#returnedRendered } : undefined);
    setFunctionReturned = (ctx, value, rendered = true) => {
      ctx.#returned = true;
      ctx.#returnedValue = value;
      ctx.#returnedRendered = rendered;
    };
    pluginStates = (ctx) => {
      const states = ctx.#states;
      // A state factory that threw fails the invocation inside the pipeline, where it is reported.
      if (states instanceof StateFailure) throw states.thrown;
      return states;
    };
  }

  constructor(def: Definition, frame: Frame, inv: Invocation, deadline: Deadline, coldStart: boolean) {
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
