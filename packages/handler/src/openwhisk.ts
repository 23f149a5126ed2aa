/**
 * `@steadyfn/handler/openwhisk`: `handler()` for Apache OpenWhisk actions only — the same
 * options, ctx and results as the root entry, without the other providers' adapters in the
 * bundle.
 *
 * @example
 * const { handler } = require('@steadyfn/handler/openwhisk');
 * exports.main = handler({}, async (input, ctx) => ({ ok: true }));
 *
 * @packageDocumentation
 */
import type { ZodType } from 'zod';
import { defineHandler, type HandlerFunction, type HandlerOptions, type PluginsAdded } from './define.js';
import { invokeDirect, type DirectOptions } from './providers/direct.js';
import { invokeOpenWhisk } from './providers/openwhisk.js';
import type { Plugin } from './types.js';

export * from './common.js';
export type { OpenWhiskWebResult } from './providers/openwhisk.js';

/** A function wrapped for OpenWhisk: `main(params)`; it never throws or rejects. */
export interface OpenWhiskHandler {
  (params: unknown): Promise<Record<string, unknown>>;
  /**
   * This function itself. The Node.js action runtime takes the entry point as the `main` export
   * of the action's module (`--main`, default `main`; apache/openwhisk-runtime-nodejs
   * `runner.js`), so `module.exports = handler(…)` works as well as `exports.main = handler(…)`.
   */
  readonly main: OpenWhiskHandler;
  /**
   * A plain call with the input itself (tests, scripts): resolves to the function's result.
   * Rejects with the public view of the error — a plain `Error` with `code`, `retryable` and,
   * for validation, `errors` — not the thrown class.
   */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

/**
 * Wraps `fn` for OpenWhisk (web actions raw and not, Kafka feed batches, alarm ticks, plain
 * activations).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid.
 */
export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any, any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): OpenWhiskHandler {
  const def = defineHandler(options, fn);
  const main = ((params: unknown) => invokeOpenWhisk(def, params)) as OpenWhiskHandler;
  return Object.assign(main, { main, invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts) });
}
