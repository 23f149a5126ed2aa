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
import { ended, pluginStates, type InvocationContext } from './context.js';
import { functionReturned, setFunctionReturned, setFunctionStarted } from './effects.js';
import type { Deadline } from './deadline.js';
import { DeadlineExceededError, MethodNotAllowedError, SteadyError, ValidationError, toSteadyError } from './errors.js';
import { extendContext } from './extend.js';
import { toFieldIssues } from './internal/issues.js';
import { isZod4Schema, maskedPath } from './internal/issue-mask.js';
import type { Definition, Invocation } from './invoke.js';
import { answerOf, isAnswer, isThenable } from './pipeline-answer.js';
import { logFailure } from './pipeline-failure-log.js';
import { runFinally } from './pipeline-finally.js';
import { recover } from './pipeline-recover.js';
import { runWrapped, type WrapLife } from './pipeline-wrap.js';
import type { Context, InputSchema, Outcome, Plugin } from './types.js';

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

/**
 * The input checked by `schema`; a `VALIDATION_FAILED` naming the fields at fault. A key the
 * caller chose (of a `z.record()`, a `z.map()`, a `.catchall()`) is payload: its path segment
 * is `*` (internal/issue-mask.ts); a schema that is not zod 4 keeps its paths as reported.
 */
async function validate(schema: InputSchema, payload: unknown): Promise<unknown> {
  const parsed = await schema.safeParseAsync(payload);
  if (parsed.success) return parsed.data;
  const issues = isZod4Schema(schema) ? parsed.error.issues.map((issue) => ({ ...issue, path: maskedPath(schema, issue.path) })) : parsed.error.issues;
  throw new ValidationError(toFieldIssues(issues));
}

/** The validated input: a value when nothing needs awaiting, so the common path adds no promise. */
export function inputOf(def: Definition, inv: Invocation, deadline: Deadline): unknown {
  if (def.input === undefined) return inv.payload();
  return deadline.race(validate(def.input, inv.payload()));
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

async function runOnion(def: Definition, ctx: InvocationContext, inv: Invocation, deadline: Deadline, prepared: Prepared | undefined): Promise<Outcome> {
  const plugins = def.use;
  let states: unknown[] = [];
  // How far into the onion we got: plugins [0, entered) get onError/finally,
  // plugins [0, min(passedBefore, afterFrom)) still get `after` (those from afterFrom on started theirs).
  let entered = prepared ? prepared.entered : 0;
  let passedBefore = 0;
  let afterFrom = plugins.length;
  let outcome: Outcome;
  // Set when the invocation ends: a `next()` a wrap kept is refused from then on.
  const life: WrapLife = { over: false, logged: false };
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
      value = isThenable(result) ? await deadline.race(Promise.resolve(result)) : result;
      setFunctionReturned(ctx, value, false);
      value = answerOf(inv, value);
      setFunctionReturned(ctx, value);
    } else {
      value = await runWrapped(def, ctx, input, inv, deadline, states, life);
      // What the `after` hooks are handed: the result through every wrap (functionReturned).
      if (functionReturned(ctx) !== undefined) setFunctionReturned(ctx, value);
    }
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
  life.over = true;
  if (deadline.owner === ctx) deadline.dispose();
  // Cut-off work may still run even when an onError recovered from the deadline or replaced its error.
  ended(ctx, deadline.cutOff || answeredLate(outcome));
  return outcome;
}

/** An outcome the deadline decided: the function or a hook may still be running. */
function answeredLate(outcome: Outcome): boolean {
  return !outcome.ok && outcome.error instanceof DeadlineExceededError;
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
