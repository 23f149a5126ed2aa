/**
 * The function's outcome as the plugins' hooks see it — whether it was called, whether it
 * returned (and with what), whether effects a plugin staged are still to be written — kept in
 * `FunctionOutcome`, the base of every invocation's `ctx` (`InvocationContext`, context.ts).
 */

import { ConfigurationError } from './errors.js';

/** Registry key of the "effects not yet written" mark: two copies of the package agree on it. */
const EFFECTS_PENDING = Symbol.for('steadyfn.handler.effectsPending');

/**
 * Records whether the function was called: `true` just before the pipeline calls it; `undefined`
 * (not known) where the core does not call it itself (a plain middy handler); `false` again once
 * it is known that it cannot have been (a middy `before` failed).
 */
export let setFunctionStarted: (ctx: FunctionOutcome, started: boolean | undefined) => void;

/**
 * Records that the function returned, with `value` (see `functionReturned`). Cleared by
 * `setFunctionStarted`: a function called again (a `wrap` calling `next()` twice) has not
 * returned until that call does. `rendered` (default `true`) is `false` while `value` is the
 * function's own result, not yet rendered for HTTP.
 */
export let setFunctionReturned: (ctx: FunctionOutcome, value: unknown, rendered?: boolean) => void;

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
 * Refuses a plugin that completes a record or event (idempotency, the inbox) listed after a
 * plugin that writes the function's effects in its own `after` (the outbox marks them pending in
 * its `extend`): that `after` runs after this one's, so the record would be completed before the
 * write, and a failed write would lose the effects (the retry answered as a duplicate with
 * nothing written). Called from the completing plugin's `extend`, before any claim.
 *
 * @param ctx - The invocation's `ctx`, as `extend` receives it.
 * @param plugin - The refusing plugin's factory name, for the message (`'idempotency'`, `'inbox'`).
 * @param settles - What it completes, for the message (`'record'`, `'event'`).
 * @throws ConfigurationError (`CONFIG_INVALID`, field `use`, expected "idempotency()/inbox()
 *   listed before outbox()") when effects are already marked pending.
 * @example
 * extend(ctx) { refuseEffectsWriterBefore(ctx, 'inbox', 'event'); return { inbox: … }; }
 */
export function refuseEffectsWriterBefore(ctx: object, plugin: string, settles: string): void {
  if (!effectsPending(ctx)) return;
  throw new ConfigurationError(
    `${plugin}(): list ${plugin}() before outbox() in \`use\`: a plugin listed before it writes the function's effects after the ${settles} would be completed, so a failed write would lose them`,
    { field: 'use', expected: 'idempotency()/inbox() listed before outbox()' },
  );
}

/**
 * The outcome bookkeeping of one invocation: the base of `InvocationContext`, so that its state
 * is private fields of the ctx itself (one shape, no object made per invocation), read and set
 * only through the functions above.
 */
export class FunctionOutcome {
  /** See `functionStarted`: `undefined` when not known. */
  #started: boolean | undefined = false;
  /** See `functionReturned`: whether the function's last call returned, and its value (no object made per invocation). */
  #returned = false;
  #returnedValue: unknown = undefined;
  #returnedRendered = true;
  /** See `markEffectsPending` (a registry-symbol field: every ctx has one shape). */
  [EFFECTS_PENDING] = false;

  static {
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
  }
}
