/**
 * `recoveredFrom(ctx)`: which failure an `onError` answer recovered from, for the `after` hooks
 * of the plugins outside the one that recovered (the recovered answer flows out through them).
 */
import type { SteadyError } from './errors.js';

// Symbol.for: a ctx is read by plugins built against another copy of the package (the ESM
// and CJS builds) too. Kept on the ctx itself, not in a module-level map: it ends with it.
const RECOVERED = Symbol.for('steadyfn.recoveredFrom.v1');

/**
 * Records that an `onError` of an inner plugin answered in place of `error` (the handler and
 * `toMiddy` call it before the `after` hooks of the outer plugins run).
 */
export function markRecovered(ctx: object, error: SteadyError): void {
  Object.defineProperty(ctx, RECOVERED, { value: error, configurable: true, enumerable: false, writable: true });
}

/**
 * The failure an `onError` answer recovered from, when the result an `after` hook receives is
 * that answer rather than the function's result; `undefined` otherwise (the function, or a
 * `before`/`wrap` answering early, produced it).
 *
 * Once a plugin's `onError` returns `{ answer }`, the answer flows outward through the `after`
 * hooks of the plugins before it in `use` (onion order, as an early answer from `before` does):
 * those plugins get no `onError` for the failure, so this is how they tell the answer is a
 * recovery. A plugin that records what the function did (idempotency, an inbox) must not record
 * a recovery as the function's result; a plugin that decorates responses (CORS headers) just
 * decorates it. The error is the one the recovering `onError` received.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @returns The `SteadyError` recovered from, or `undefined`.
 * @example
 * const audit: Plugin = {
 *   name: 'audit',
 *   after(ctx) {
 *     const recovered = recoveredFrom(ctx);
 *     if (recovered) ctx.log.warn('answered by a fallback', { code: recovered.code });
 *   },
 * };
 */
export function recoveredFrom(ctx: object): SteadyError | undefined {
  return (ctx as Record<symbol, SteadyError | undefined>)[RECOVERED];
}
