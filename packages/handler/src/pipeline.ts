/**
 * One invocation through the plugin onion:
 *
 *   extend → validation → before → wrap ( function → render ) → after → onError → finally
 *
 * Every step up to `after` is raced against the deadline; nothing new starts once it has
 * passed (the function never does). Cleanup (`onError`, `finally`) still runs, cut off at the
 * cleanup bound. On HTTP invocations the result is rendered once, right after the function
 * (and any early or replacing answer), so every later hook sees the rendered response.
 */
import { ended, pluginStates, setFunctionStarted, trackConcurrently, type InvocationContext } from './context.js';
import { HookTimeoutError, type Deadline } from './deadline.js';
import { ConfigurationError, DeadlineExceededError, MethodNotAllowedError, SteadyError, ValidationError, toSteadyError } from './errors.js';
import { extendContext } from './extend.js';
import { toFieldIssues } from './internal/issues.js';
import { causeFacts } from './internal/scrub.js';
import type { Definition, HttpAnswer, Invocation } from './invoke.js';
import { markRecovered } from './recovered.js';
import { InvalidHttpResultError, isHttpResponse, passedSizeCheck, renderResult, type HttpResponse } from './response.js';
import type { Context, EarlyAnswer, InputSchema, Outcome, Plugin } from './types.js';

/** What a batch did for a message before its pipeline runs (extend and validation happen before `beforeBatch`). */
export interface Prepared {
  /** How many plugins were entered (their `extend` ran or was attempted): they get `onError` and `finally`. */
  entered: number;
  /** An `extend` that threw. */
  failed?: { thrown: unknown };
  /** The validated input, or why validation failed. */
  input?: { ok: true; value: unknown } | { ok: false; thrown: unknown };
  /** Fails the message after extend: a `beforeBatch` that threw, or an ordered batch that stopped before it. */
  batchError?: SteadyError;
  /**
   * Not run: an earlier message it is ordered after failed. An `onError` answer does not
   * recover it — it must fail, so the queue redelivers it after the one that failed.
   */
  notRun?: true;
}

/** Whether `value` is a promise or promise-like (has a `then` method). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isAnswer(value: unknown): value is EarlyAnswer {
  return typeof value === 'object' && value !== null && 'answer' in value;
}

async function validate(schema: InputSchema, payload: unknown): Promise<unknown> {
  const parsed = await schema.safeParseAsync(payload);
  if (parsed.success) return parsed.data;
  throw new ValidationError(toFieldIssues(parsed.error.issues));
}

/** The validated input: a value when nothing needs awaiting, so the common path adds no promise. */
export function inputOf(def: Definition, inv: Invocation, deadline: Deadline): unknown {
  if (def.input === undefined) return inv.payload();
  return deadline.race(validate(def.input, inv.payload()));
}

/**
 * Renders an HTTP result and checks the provider can send it; throws INVALID_HTTP_RESULT
 * otherwise, or RESPONSE_TOO_LARGE when it is larger than the provider sends.
 */
function render(http: HttpAnswer, value: unknown): HttpResponse {
  const res = renderResult(value);
  const bad = http.unsendable?.(res);
  if (bad !== undefined) throw new InvalidHttpResultError(bad);
  if (http.tooLarge !== undefined) {
    const tooLarge = http.tooLarge(res);
    if (tooLarge !== undefined) throw tooLarge;
    // For a plugin that will send it again in another form (an idempotency replay's header).
    passedSizeCheck(res, http);
  }
  return res;
}

/**
 * The answer to send for a function result (or an early or replacing answer): the rendered
 * response on HTTP invocations, else the value, checked against the provider's size limit.
 */
function answerOf(inv: Invocation, value: unknown): unknown {
  if (inv.http) return render(inv.http, value);
  const tooLarge = inv.result?.tooLarge?.(value);
  if (tooLarge !== undefined) throw tooLarge;
  return value;
}

/**
 * `METHOD_NOT_ALLOWED` for an HTTP request whose method the `methods` option leaves out (not a
 * WebSocket route: its method is the event type); undefined otherwise.
 */
function refusedMethod(methods: ReadonlySet<string>, inv: Invocation): MethodNotAllowedError | undefined {
  const trigger = inv.trigger;
  if (trigger.kind !== 'http' || trigger.websocket !== undefined || methods.has(trigger.request.method.toUpperCase())) return undefined;
  return new MethodNotAllowedError([...methods]);
}

/** An invocation answered before any plugin or the function: logged and ended like any failure. */
function refused(ctx: InvocationContext, deadline: Deadline, error: SteadyError): Promise<Outcome> {
  logFailure(ctx, error);
  if (deadline.owner === ctx) deadline.dispose();
  ended(ctx, false);
  return Promise.resolve({ ok: false, error });
}

/**
 * Runs `plugin`'s `extend` (the deadline check's clock read handed to it as `extendingAt` while
 * it runs synchronously) and puts what it returned on `ctx`. A promise only when the hook
 * returned one: a value is used as it is, as awaiting it would cost a turn of the microtask queue.
 */
export function runExtend(ctx: Context, plugin: Plugin<any, any>, state: unknown, deadline: Deadline): Promise<void> | undefined {
  deadline.extendingAt = deadline.checkedNow();
  let added: unknown;
  try {
    added = plugin.extend!(ctx, state);
  } finally {
    deadline.extendingAt = undefined;
  }
  if (!isThenable(added)) {
    extendContext(ctx, added, plugin.name);
    return undefined;
  }
  return deadline.race(Promise.resolve(added)).then((value) => extendContext(ctx, value, plugin.name));
}

/** Runs one invocation through its plugins and function; `prepared`: what a batch already did for it (extend, validation). */
export function runPipeline(def: Definition, ctx: InvocationContext, inv: Invocation, deadline: Deadline, prepared?: Prepared): Promise<Outcome> {
  if (def.methods !== undefined) {
    const error = refusedMethod(def.methods, inv);
    if (error !== undefined) return refused(ctx, deadline, error);
  }
  return def.use.length === 0 && prepared === undefined ? runBare(def, ctx, inv, deadline) : runOnion(def, ctx, inv, deadline, prepared);
}

/** The function alone, under the deadline, rendered for HTTP: the innermost layer of the onion. */
async function callFunction(def: Definition, ctx: InvocationContext, input: unknown, inv: Invocation, deadline: Deadline): Promise<unknown> {
  deadline.check();
  setFunctionStarted(ctx, true);
  const result = def.fn(input, ctx);
  const value = isThenable(result) ? await deadline.race(Promise.resolve(result)) : result;
  return answerOf(inv, value);
}

/** `wrap` hooks (at least one) around the function, outermost first; each `next()` runs the rest again. */
function runWrapped(def: Definition, ctx: InvocationContext, input: unknown, inv: Invocation, deadline: Deadline, states: unknown[]): Promise<unknown> {
  const wrappers = def.wrappers;
  const dispatch = (k: number): Promise<unknown> => {
    if (k === wrappers.length) return callFunction(def, ctx, input, inv, deadline);
    const index = wrappers[k]!;
    try {
      deadline.check();
      const pending = deadline.race(Promise.resolve(def.use[index]!.wrap!(ctx, () => dispatch(k + 1), states[index])));
      // An outer wrap's next() resolves to the rendered response too when this wrap replaced
      // the result (the outermost one's is rendered, and checked, below).
      return k === 0 || !inv.http ? pending : pending.then((value) => (isHttpResponse(value) ? value : answerOf(inv, value)));
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  };
  return dispatch(0).then((value) => answerOf(inv, value));
}

async function runOnion(def: Definition, ctx: InvocationContext, inv: Invocation, deadline: Deadline, prepared: Prepared | undefined): Promise<Outcome> {
  const plugins = def.use;
  let states: unknown[] = [];
  // How far into the onion we got: plugins [0, entered) get onError/finally,
  // plugins [0, min(passedBefore, afterFrom)) still get `after` (those from afterFrom on started theirs).
  let entered = prepared ? prepared.entered : 0;
  let passedBefore = 0;
  let afterFrom = plugins.length;
  let outcome: Outcome;
  try {
    states = pluginStates(ctx);
    if (prepared) {
      if (prepared.failed) throw prepared.failed.thrown;
    } else {
      while (entered < plugins.length) {
        const plugin = plugins[entered]!;
        const state = states[entered];
        entered++;
        if (plugin.extend) {
          const pending = runExtend(ctx, plugin, state, deadline);
          if (pending !== undefined) await pending;
        }
      }
    }
    if (prepared?.batchError) throw prepared.batchError;
    let input: unknown;
    if (prepared?.input) {
      if (!prepared.input.ok) throw prepared.input.thrown;
      input = prepared.input.value;
    } else {
      const pending = inputOf(def, inv, deadline);
      input = def.input ? await pending : pending;
    }
    ctx.input = input;
    let value: unknown;
    let answered = false;
    while (passedBefore < plugins.length) {
      const plugin = plugins[passedBefore]!;
      if (plugin.before) {
        deadline.check();
        const returned = plugin.before(ctx, states[passedBefore]);
        const early = isThenable(returned) ? await deadline.race(Promise.resolve(returned)) : returned;
        if (isAnswer(early)) {
          value = answerOf(inv, early.answer);
          answered = true;
          break;
        }
      }
      passedBefore++;
    }
    if (answered) {
      // An early answer: the function does not run.
    } else if (def.wrappers.length === 0) {
      // No wrap hook: the function is called here, as `callFunction` would, without an async frame of its own.
      deadline.check();
      setFunctionStarted(ctx, true);
      const result = def.fn(input, ctx);
      value = answerOf(inv, isThenable(result) ? await deadline.race(Promise.resolve(result)) : result);
    } else value = await runWrapped(def, ctx, input, inv, deadline, states);
    for (let i = passedBefore - 1; i >= 0; i--) {
      const plugin = plugins[i]!;
      if (!plugin.after) continue;
      afterFrom = i;
      // Started even past the deadline (it records what the function did, e.g. completes an
      // idempotency record); the answer does not wait for it then.
      const returned = plugin.after(ctx, value, states[i]);
      const replaced = isThenable(returned) ? await deadline.race(Promise.resolve(returned)) : returned;
      if (isAnswer(replaced)) value = answerOf(inv, replaced.answer);
    }
    outcome = { ok: true, value };
  } catch (thrown) {
    const recoverable = prepared?.notRun !== true;
    outcome = await recover(def, ctx, inv, deadline, states, entered, Math.min(passedBefore, afterFrom), toSteadyError(thrown), recoverable);
  }
  // Sync `finally` hooks (or none) leave nothing to await: no turn of the microtask queue.
  const finishing = runFinally(def, ctx, deadline, states, entered, outcome);
  if (finishing !== undefined) await finishing;
  if (!outcome.ok) logFailure(ctx, outcome.error);
  if (deadline.owner === ctx) deadline.dispose();
  // Cut-off work may still run even when an onError recovered from the deadline or replaced its error.
  ended(ctx, deadline.cutOff || answeredLate(outcome));
  return outcome;
}

/**
 * `onError` in reverse, from the innermost plugin entered. The first `{ answer }` (from plugin
 * `i`) recovers, and the answer flows outward, onion-style, through the `after` of plugins
 * `i-1 … 0` that passed their `before` (`afterUpTo`) and have not run it: they see, and may
 * replace, the recovered answer, with `recoveredFrom(ctx)` naming the error. An `after` that
 * throws there fails the invocation again: `onError` runs for it and the plugins before it (which
 * may recover again). Not for a message that may not recover (`recoverable` false: one an ordered
 * batch did not run), where every hook still runs and neither an answer nor a thrown replacement
 * changes its `NOT_PROCESSED`. Every hook here is cut off at the cleanup bound.
 */
async function recover(
  def: Definition,
  ctx: Context,
  inv: Invocation,
  deadline: Deadline,
  states: unknown[],
  entered: number,
  afterUpTo: number,
  error: SteadyError,
  recoverable: boolean,
): Promise<Outcome> {
  for (;;) {
    const { outcome, at } = await runOnError(def, ctx, inv, deadline, states, entered, error, recoverable);
    if (!outcome.ok) return outcome;
    markRecovered(ctx, error);
    const failed = await aftersOfRecovered(def, ctx, inv, deadline, states, Math.min(at, afterUpTo), outcome);
    if (failed === undefined) return outcome;
    // `after` of plugin `failed.at` threw: it and the plugins before it get `onError` (never `after` again).
    entered = failed.at + 1;
    afterUpTo = failed.at;
    error = failed.error;
  }
}

/**
 * The `after` hooks of plugins `[0, upTo)` in reverse, for an answer an `onError` recovered
 * with (`outcome.value`, replaced in place when one answers). Each is cut off at the cleanup
 * bound (the deadline may have been what failed); one cut off is logged and its answer not awaited.
 */
async function aftersOfRecovered(def: Definition, ctx: Context, inv: Invocation, deadline: Deadline, states: unknown[], upTo: number, outcome: { ok: true; value: unknown }): Promise<{ at: number; error: SteadyError } | undefined> {
  for (let i = upTo - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.after) continue;
    try {
      const returned = plugin.after(ctx, outcome.value, states[i]);
      const replaced = isThenable(returned) ? await deadline.raceCleanup(Promise.resolve(returned)) : returned;
      if (isAnswer(replaced)) outcome.value = answerOf(inv, replaced.answer);
    } catch (hookError) {
      if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'after');
      else return { at: i, error: toSteadyError(hookError) };
    }
  }
  return undefined;
}

/**
 * `onError` of plugins `[0, entered)` in reverse; stops at the first `{ answer }` when
 * `recoverable` (`at`: that plugin's index). A throw replaces the outcome's error (the hooks
 * before it still receive `error`).
 */
async function runOnError(
  def: Definition,
  ctx: Context,
  inv: Invocation,
  deadline: Deadline,
  states: unknown[],
  entered: number,
  error: SteadyError,
  recoverable: boolean,
): Promise<{ outcome: Outcome; at: number }> {
  let outcome: Outcome = { ok: false, error };
  for (let i = entered - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.onError) continue;
    try {
      const result = plugin.onError(ctx, error, states[i]);
      const recovered = isThenable(result) ? await deadline.raceCleanup(Promise.resolve(result)) : result;
      if (isAnswer(recovered) && recoverable) return { outcome: { ok: true, value: answerOf(inv, recovered.answer) }, at: i };
    } catch (hookError) {
      if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'onError');
      else {
        const replacement = toSteadyError(hookError);
        // Only codes: the replaced error may be a 400 that a bug in the hook turned into a
        // retryable 500, and without this line nothing would show what it was.
        const replaced = outcome.ok ? undefined : outcome.error.code;
        if (!recoverable) {
          // A message the batch never ran stays NOT_PROCESSED: a terminal replacement would
          // have it acknowledged (`terminalErrors: 'ack'`) and deleted unrun.
          ctx.log.warn('plugin onError hook failed: the message was not run and stays NOT_PROCESSED', { plugin: plugin.name, code: replacement.code });
          continue;
        }
        ctx.log.warn('plugin onError hook replaced the error', { plugin: plugin.name, code: replacement.code, replaced });
        outcome = { ok: false, error: replacement };
      }
    }
  }
  return { outcome, at: -1 };
}

/**
 * `finally` in reverse, each cut off at the cleanup bound. Runs synchronously while the hooks
 * do, and returns a promise only from the first hook that returns one.
 */
function runFinally(def: Definition, ctx: Context, deadline: Deadline, states: unknown[], entered: number, outcome: Outcome): Promise<void> | undefined {
  for (let i = entered - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.finally) continue;
    let result: unknown;
    try {
      result = plugin.finally(ctx, outcome, states[i]);
      // Inside the try: reading `then` can throw too (a getter, a strict proxy).
      if (!isThenable(result)) continue;
    } catch (hookError) {
      finallyFailed(ctx, plugin, hookError);
      continue;
    }
    return finishFinally(def, ctx, deadline, states, i, outcome, result);
  }
  return undefined;
}

/** Awaits the `finally` hook of plugin `i` (which returned `pending`), then runs those before it. */
async function finishFinally(def: Definition, ctx: Context, deadline: Deadline, states: unknown[], i: number, outcome: Outcome, pending: PromiseLike<unknown>): Promise<void> {
  try {
    await deadline.raceCleanup(Promise.resolve(pending));
  } catch (hookError) {
    finallyFailed(ctx, def.use[i]!, hookError);
  }
  const rest = runFinally(def, ctx, deadline, states, i, outcome);
  if (rest !== undefined) await rest;
}

function finallyFailed(ctx: Context, plugin: Plugin<any, any>, hookError: unknown): void {
  if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'finally');
  else ctx.log.warn('plugin finally hook failed', { plugin: plugin.name, code: toSteadyError(hookError).code });
}

/** An outcome the deadline decided: the function or a hook may still be running. */
function answeredLate(outcome: Outcome): boolean {
  return !outcome.ok && outcome.error instanceof DeadlineExceededError;
}

/** Logs a hook cut off at the deadline (`PLUGIN_HOOK_TIMEOUT`) and keeps its late work from seeing a later invocation as its own. */
export function hookTimedOut(ctx: Context, plugin: Plugin<any, any>, hook: string): void {
  // The hook goes on running after the invocation ends: it must not see a later one as its own.
  trackConcurrently();
  ctx.log.warn('plugin hook cut off at the deadline', { plugin: plugin.name, hook, code: 'PLUGIN_HOOK_TIMEOUT' });
}

/** The same pipeline without plugins: the common case, kept free of hook bookkeeping. */
async function runBare(def: Definition, ctx: InvocationContext, inv: Invocation, deadline: Deadline): Promise<Outcome> {
  try {
    const pending = inputOf(def, inv, deadline);
    // Only a schema makes the input a promise; an unvalidated payload is used as it is.
    const input = def.input ? await pending : pending;
    ctx.input = input;
    const finite = deadline.finite;
    if (finite) deadline.check();
    setFunctionStarted(ctx, true);
    let value = def.fn(input, ctx);
    if (isThenable(value)) value = finite ? await deadline.race(Promise.resolve(value)) : await value;
    return { ok: true, value: inv.http || inv.result ? answerOf(inv, value) : value };
  } catch (thrown) {
    const error = toSteadyError(thrown);
    logFailure(ctx, error);
    ended(ctx, error instanceof DeadlineExceededError);
    return { ok: false, error };
  } finally {
    if (deadline.owner === ctx) deadline.dispose();
    ended(ctx, false);
  }
}

/** At most 10 issues, each as `{ field, expected? }` with the path cut to 200 characters. */
function loggedIssues(issues: ReadonlyArray<{ field: string; expected?: string | undefined }>): Array<{ field: string; expected?: string }> {
  return issues.slice(0, 10).map((issue) => (issue.expected === undefined ? { field: issue.field.slice(0, 200) } : { field: issue.field.slice(0, 200), expected: issue.expected.slice(0, 200) }));
}

function logFailure(ctx: Context, error: SteadyError): void {
  // A message an ordered batch did not run is reported, not logged: nothing failed in it.
  if (error.code === 'NOT_PROCESSED') return;
  const fields: Record<string, unknown> = { trigger: ctx.trigger.kind, code: error.code, retryable: error.retryable };
  // The option or part at fault: what an operator needs to fix it. A configuration error's
  // field is an option name; an invalid result's a part of the response. Neither holds values.
  if (error instanceof InvalidHttpResultError || error instanceof ConfigurationError) fields.field = error.field;
  // Which fields an invalid input or event got wrong (a queue message has no caller to tell):
  // paths and what was expected, never the messages (a refinement's may quote a value).
  else if (error.issues !== undefined && error.issues.length > 0) fields.issues = loggedIssues(error.issues);
  // The cause's class and code help an operator. Its message is not logged: drivers put
  // values in messages (a duplicate key, a password in a connection string). Read safely: a cause
  // that throws when read (a revoked Proxy) must not turn the answer into a raw rejection.
  Object.assign(fields, causeFacts(error));
  // Facts the error declares safe to log; they never replace the fields above.
  if (error.logFields !== undefined) for (const [name, value] of Object.entries(error.logFields)) if (!(name in fields)) fields[name] = value;
  // The error may choose its level (an expected, retried failure is not an alert); one made
  // by an older copy of the package has none, and gets the level of its status.
  const level = error.logLevel === 'warn' || error.logLevel === 'error' ? error.logLevel : error.status >= 500 ? 'error' : 'warn';
  ctx.log[level](error.status >= 500 ? 'invocation failed' : 'invocation rejected', fields);
}
