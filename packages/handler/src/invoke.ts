/**
 * The provider-independent core: one invocation (or one batch) through validation,
 * plugins, the user's function and the deadline. Provider adapters only translate
 * their arguments into `Invocation`s and `Outcome`s back into their own results.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DeadlineExceededError, SteadyError, ValidationError, toSteadyError, type FieldIssue } from './errors.js';
import { createLogger, type Logger, type LogLevel, type LogSink } from './logger.js';
import type { BaseContext, Context, EarlyAnswer, InputSchema, Outcome, Plugin, Provider, Trigger, ZodLikeIssue } from './types.js';
import type { BodyMode } from './message.js';

/** One unit of work: an HTTP request, one queue message, one schedule tick, one event. */
export interface Invocation {
  trigger: Trigger;
  requestId: string;
  deliveryId: string | undefined;
  /** Produces the input before validation; may throw a MalformedEventError. */
  payload(): unknown;
}

/** What every invocation of one provider call shares. */
export interface Frame {
  provider: Provider;
  functionName: string;
  /** Epoch ms; Infinity when the provider gives no clock. */
  deadline: number;
  raw: unknown;
  /** Aborted when the caller goes away (an HTTP client that disconnects); aborts `ctx.signal` too. */
  signal?: AbortSignal;
}

export type UserFunction = (input: any, ctx: any) => unknown;

export interface Definition {
  input: InputSchema | undefined;
  use: ReadonlyArray<Plugin<any>>;
  fn: UserFunction;
  /** The signal aborts, and the wrapper answers DEADLINE_EXCEEDED, this long before the deadline. */
  deadlineMarginMs: number;
  logger: Logger;
  /** What to do with a message that failed for good: report it failed (redelivered, then dead-lettered) or acknowledge it. */
  terminalErrors: 'fail' | 'ack';
  /** Timeout for providers that give no clock (Azure), in ms. */
  timeoutMs: number;
  /** Overrides the provider's function name in ctx and logs. */
  name: string | undefined;
  /** How message and request bodies reach the function (see message.ts). */
  body: BodyMode;
}

const storage = new AsyncLocalStorage<Context>();

/** The context of the invocation running now, or undefined outside one. */
export function currentContext<T extends object = {}>(): Context<T> | undefined {
  return storage.getStore() as Context<T> | undefined;
}

export function makeLogger(sink: LogSink | undefined, functionName: string | undefined, level?: LogLevel): Logger {
  return createLogger(functionName ? { fn: functionName } : {}, sink, level);
}

export function toFieldIssues(issues: ReadonlyArray<ZodLikeIssue>): FieldIssue[] {
  return issues.map((issue) => {
    const field = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p))).join('.');
    const out: FieldIssue = { field, message: issue.message };
    if (typeof issue.expected === 'string') out.expected = issue.expected;
    else if (issue.code === 'invalid_type' && issue.expected !== undefined) out.expected = String(issue.expected);
    return out;
  });
}

/** A batch message's input, validated once before `beforeBatch` so batch hooks can read `ctx.input`. */
type Prevalidated = { ok: true; input: unknown } | { ok: false; thrown: unknown };
const prevalidated = new WeakMap<Invocation, Prevalidated>();

/** The validated input: a value when nothing needs awaiting, so the common path adds no promise. */
function inputOf(def: Definition, inv: Invocation): unknown {
  const pre = prevalidated.get(inv);
  if (pre) {
    if (pre.ok) return pre.input;
    throw pre.thrown;
  }
  return def.input ? validate(def.input, inv.payload()) : inv.payload();
}

async function validate(schema: InputSchema | undefined, payload: unknown): Promise<unknown> {
  if (!schema) return payload;
  const parsed = await schema.safeParseAsync(payload);
  if (parsed.success) return parsed.data;
  throw new ValidationError(toFieldIssues(parsed.error.issues));
}

/**
 * Every piece of work racing a deadline, watched by one process-wide timer set for the
 * earliest of them. Invocations arrive with ever later deadlines, so the timer is rarely
 * re-armed: racing costs a set insertion, not a timer per invocation.
 */
interface Watched {
  at: number;
  expire(): void;
}
const pendingDeadlines = new Set<Watched>();
let watchTimer: NodeJS.Timeout | undefined;
let watchTimerAt = Number.POSITIVE_INFINITY;

/** Node's longest timer (about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function armWatch(at: number): void {
  if (watchTimer) clearTimeout(watchTimer);
  watchTimerAt = at;
  // A deadline beyond the longest timer is re-checked when this one fires.
  watchTimer = setTimeout(fireWatch, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
  // A frozen instance must not be kept alive by our timer.
  watchTimer.unref();
}

function watch(watched: Watched): void {
  pendingDeadlines.add(watched);
  if (watched.at < watchTimerAt) armWatch(watched.at);
}

function fireWatch(): void {
  watchTimer = undefined;
  watchTimerAt = Number.POSITIVE_INFINITY;
  const now = Date.now();
  let next = Number.POSITIVE_INFINITY;
  for (const watched of pendingDeadlines) {
    if (watched.at <= now) {
      pendingDeadlines.delete(watched);
      watched.expire();
    } else if (watched.at < next) next = watched.at;
  }
  if (next !== Number.POSITIVE_INFINITY) armWatch(next);
}

/**
 * The deadline of one frame (shared by the messages of a batch). `race` puts each piece of
 * work under the shared watch until it settles; the AbortSignal is made only when someone
 * reads `ctx.signal`, with a timer of its own that `dispose` clears.
 */
class Deadline {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The context that disposes of this deadline when it ends; a batch disposes of its own. */
  owner: Context | undefined;

  private unlink: (() => void) | undefined;

  constructor(
    readonly at: number,
    private readonly marginMs: number,
    private readonly caller?: AbortSignal,
  ) {}

  /** Milliseconds until the wrapper gives up (the deadline less the margin). */
  private wait(): number {
    return this.at - this.marginMs - Date.now();
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    if (Number.isFinite(this.at)) {
      const wait = this.wait();
      if (wait <= 0) controller.abort(new DeadlineExceededError());
      else {
        // A deadline weeks away (past the longest timer) never aborts: no invocation lives that long.
        if (wait <= MAX_TIMER_MS) this.timer = setTimeout(() => controller.abort(new DeadlineExceededError()), wait);
        // A frozen instance must not be kept alive by our timer.
        this.timer?.unref();
      }
    }
    const caller = this.caller;
    if (caller && !controller.signal.aborted) {
      const gone = (): void => controller.abort(new SteadyError('CLIENT_CLOSED_REQUEST', 'The caller went away', { status: 499, retryable: true }));
      if (caller.aborted) gone();
      else {
        caller.addEventListener('abort', gone, { once: true });
        this.unlink = () => caller.removeEventListener('abort', gone);
      }
    }
    return controller.signal;
  }

  /** Settles like `work`, or rejects with DEADLINE_EXCEEDED when the deadline comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    if (!Number.isFinite(this.at)) return work;
    return new Promise<T>((resolve, reject) => {
      const watched: Watched = {
        at: this.at - this.marginMs,
        expire: () => {
          this.controller?.abort(new DeadlineExceededError());
          reject(new DeadlineExceededError());
        },
      };
      if (watched.at <= Date.now()) {
        // Keep the late work's own rejection from surfacing as unhandled.
        work.catch(() => undefined);
        watched.expire();
        return;
      }
      watch(watched);
      work.then(
        (value) => {
          pendingDeadlines.delete(watched);
          resolve(value);
        },
        (error: unknown) => {
          pendingDeadlines.delete(watched);
          reject(error);
        },
      );
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unlink?.();
    this.unlink = undefined;
  }
}

/** `ctx`: a class so every invocation's context has one shape, with lazy members on the prototype. */
class InvocationContext implements BaseContext {
  readonly provider: Provider;
  readonly trigger: Trigger;
  readonly functionName: string;
  readonly requestId: string;
  readonly deliveryId: string | undefined;
  readonly deadline: number;
  readonly raw: unknown;
  input: unknown = undefined;
  #logger: Logger;
  #log: Logger | undefined;
  #deadline: Deadline;

  constructor(def: Definition, frame: Frame, inv: Invocation, deadline: Deadline) {
    this.provider = frame.provider;
    this.trigger = inv.trigger;
    this.functionName = def.name ?? frame.functionName;
    this.requestId = inv.requestId;
    this.deliveryId = inv.deliveryId;
    this.deadline = deadline.at;
    this.raw = frame.raw;
    this.#logger = def.logger;
    this.#deadline = deadline;
  }

  remainingMs(): number {
    return Number.isFinite(this.deadline) ? Math.max(0, this.deadline - Date.now()) : Number.POSITIVE_INFINITY;
  }

  get signal(): AbortSignal {
    return this.#deadline.signal;
  }

  /** Built on first use: most invocations never log. */
  get log(): Logger {
    return (this.#log ??= this.#logger.child({ provider: this.provider, requestId: this.requestId, deliveryId: this.deliveryId }));
  }
}

function createContext(def: Definition, frame: Frame, inv: Invocation, deadline: Deadline): Context {
  return new InvocationContext(def, frame, inv, deadline);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isAnswer(value: unknown): value is EarlyAnswer {
  return typeof value === 'object' && value !== null && 'answer' in value;
}

function runPipeline(def: Definition, ctx: Context, inv: Invocation, deadline: Deadline): Promise<Outcome> {
  return def.use.length === 0 ? runBare(def, ctx, inv, deadline) : runOnion(def, ctx, inv, deadline);
}

async function runOnion(def: Definition, ctx: Context, inv: Invocation, deadline: Deadline): Promise<Outcome> {
  const plugins = def.use;
  // How far into the onion we got: plugins [0, entered) get onError/finally,
  // plugins [0, passedBefore) get `after`.
  let entered = 0;
  let passedBefore = 0;
  let outcome: Outcome;
  try {
    for (; entered < plugins.length; ) {
      const plugin = plugins[entered]!;
      entered++;
      if (plugin.extend) Object.assign(ctx, await plugin.extend(ctx));
    }
    const pending = inputOf(def, inv);
    const input = def.input ? await pending : pending;
    ctx.input = input;
    let value: unknown;
    let answered = false;
    for (; passedBefore < plugins.length; ) {
      const plugin = plugins[passedBefore]!;
      const early = plugin.before ? await plugin.before(ctx) : undefined;
      if (isAnswer(early)) {
        value = early.answer;
        answered = true;
        break;
      }
      passedBefore++;
    }
    if (!answered) {
      const result = def.fn(input, ctx);
      value = isThenable(result) ? await deadline.race(Promise.resolve(result)) : result;
    }
    for (let i = passedBefore - 1; i >= 0; i--) {
      const plugin = plugins[i]!;
      if (!plugin.after) continue;
      const replaced = await plugin.after(ctx, value);
      if (isAnswer(replaced)) value = replaced.answer;
    }
    outcome = { ok: true, value };
  } catch (thrown) {
    const error = toSteadyError(thrown);
    outcome = { ok: false, error };
    for (let i = entered - 1; i >= 0; i--) {
      const plugin = plugins[i]!;
      if (!plugin.onError) continue;
      try {
        const recovered = await plugin.onError(ctx, error);
        if (isAnswer(recovered)) {
          outcome = { ok: true, value: recovered.answer };
          break;
        }
      } catch (hookError) {
        outcome = { ok: false, error: toSteadyError(hookError) };
      }
    }
  }
  for (let i = entered - 1; i >= 0; i--) {
    const plugin = plugins[i]!;
    if (!plugin.finally) continue;
    try {
      await plugin.finally(ctx, outcome);
    } catch (hookError) {
      ctx.log.warn('plugin finally hook failed', { plugin: plugin.name, code: toSteadyError(hookError).code });
    }
  }
  if (!outcome.ok) logFailure(ctx, outcome.error);
  if (deadline.owner === ctx) deadline.dispose();
  return outcome;
}

/** The same pipeline without plugins: the common case, kept free of hook bookkeeping. */
async function runBare(def: Definition, ctx: Context, inv: Invocation, deadline: Deadline): Promise<Outcome> {
  try {
    const pending = inputOf(def, inv);
    // Only a schema makes the input a promise; an unvalidated payload is used as it is.
    const input = def.input ? await pending : pending;
    ctx.input = input;
    let value = def.fn(input, ctx);
    if (isThenable(value)) value = Number.isFinite(deadline.at) ? await deadline.race(Promise.resolve(value)) : await value;
    return { ok: true, value };
  } catch (thrown) {
    const error = toSteadyError(thrown);
    logFailure(ctx, error);
    return { ok: false, error };
  } finally {
    if (deadline.owner === ctx) deadline.dispose();
  }
}

function logFailure(ctx: Context, error: SteadyError): void {
  const fields: Record<string, unknown> = {
    provider: ctx.provider,
    trigger: ctx.trigger.kind,
    requestId: ctx.requestId,
    deliveryId: ctx.deliveryId,
    code: error.code,
    retryable: error.retryable,
  };
  // The cause's class and code help an operator. Its message is not logged: drivers put
  // values in messages (a duplicate key, a password in a connection string).
  const cause = error.cause;
  if (cause instanceof Error) {
    fields.cause = cause.name;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') fields.causeCode = code;
  }
  if (error.status >= 500) ctx.log.error('invocation failed', fields);
  else ctx.log.warn('invocation rejected', fields);
}

export function runInvocation(def: Definition, frame: Frame, inv: Invocation): Promise<Outcome> {
  const deadline = new Deadline(frame.deadline, def.deadlineMarginMs, frame.signal);
  const ctx = createContext(def, frame, inv, deadline);
  // A lone invocation owns its deadline and disposes of it when it ends.
  deadline.owner = ctx;
  return storage.run(ctx, runPipeline, def, ctx, inv, deadline);
}

/** Raised for FIFO messages left unprocessed after an earlier message of the group failed. */
export class NotProcessedError extends SteadyError {
  override readonly name = 'NotProcessedError';
  constructor() {
    super('NOT_PROCESSED', 'Not processed because an earlier message in the ordered batch failed', { status: 503, retryable: true });
  }
}

/**
 * Runs each message of a batch. `ordered` (FIFO) runs them one by one and stops at the
 * first failure, reporting every later message as not processed so order is kept.
 * Otherwise messages run concurrently.
 */
export async function runBatch(def: Definition, frame: Frame, invs: ReadonlyArray<Invocation>, ordered: boolean): Promise<Outcome[]> {
  const deadline = new Deadline(frame.deadline, def.deadlineMarginMs, frame.signal);
  try {
    const ctxs = invs.map((inv) => createContext(def, frame, inv, deadline));
    const batchPlugins = def.use.filter((p) => p.beforeBatch || p.afterBatch);
    if (batchPlugins.some((p) => p.beforeBatch)) {
      // Batch hooks see each message's validated input; an invalid message keeps its
      // validation error, raised when its own pipeline runs.
      await Promise.all(
        invs.map(async (inv, i) => {
          try {
            const input = await inputOf(def, inv);
            prevalidated.set(inv, { ok: true, input });
            ctxs[i]!.input = input;
          } catch (thrown) {
            prevalidated.set(inv, { ok: false, thrown });
          }
        }),
      );
    }
    try {
      for (const plugin of batchPlugins) {
        if (plugin.beforeBatch) await plugin.beforeBatch(ctxs);
      }
    } catch (thrown) {
      // Nothing of the batch ran: every message fails with the same error and is redelivered.
      const error = toSteadyError(thrown);
      def.logger.error('plugin beforeBatch hook failed', { code: error.code, batchSize: invs.length });
      return invs.map(() => ({ ok: false, error }));
    }
    const runOne = (i: number): Promise<Outcome> => {
      const ctx = ctxs[i]!;
      return storage.run(ctx, () => runPipeline(def, ctx, invs[i]!, deadline));
    };
    let outcomes: Outcome[];
    if (ordered) {
      outcomes = [];
      for (let i = 0; i < invs.length; i++) {
        const failedBefore = outcomes.some((o) => !o.ok && !(def.terminalErrors === 'ack' && !o.error.retryable));
        outcomes.push(failedBefore ? { ok: false, error: new NotProcessedError() } : await runOne(i));
      }
    } else {
      outcomes = await Promise.all(invs.map((_, i) => runOne(i)));
    }
    for (const plugin of batchPlugins) {
      if (!plugin.afterBatch) continue;
      try {
        await plugin.afterBatch(ctxs, outcomes);
      } catch (hookError) {
        def.logger.warn('plugin afterBatch hook failed', { plugin: plugin.name, code: toSteadyError(hookError).code });
      }
    }
    return outcomes;
  } finally {
    deadline.dispose();
  }
}

/** Whether the provider should be told this outcome failed (so it redelivers or dead-letters). */
export function reportsFailure(def: Definition, outcome: Outcome): boolean {
  if (outcome.ok) return false;
  return outcome.error.retryable || def.terminalErrors === 'fail';
}
