/**
 * `@steadyfn/handler/gcp`: `handler()` for Google Cloud Functions only (Functions
 * Framework HTTP and CloudEvent functions) — the same options, ctx and results as the root
 * entry, without the other providers' adapters in the bundle.
 *
 * @example
 * import { handler } from '@steadyfn/handler/gcp';
 * export const main = handler({}, async (input, ctx) => ({ ok: true }));
 * functions.http('main', main); // or functions.cloudEvent('main', main)
 *
 * @packageDocumentation
 */
import type { ZodType } from 'zod';
import { defineHandler, type HandlerFunction, type HandlerOptions, type PluginsAdded } from './define.js';
import { invokeDirect, type DirectOptions } from './providers/direct.js';
import { invokeGcpBackground, invokeGcpEvent, invokeGcpHttp, isBackgroundContext } from './providers/gcp.js';
import type { Plugin } from './types.js';

export * from './common.js';

/** A function wrapped for Cloud Functions: `main(req, res)` (HTTP), `main(cloudEvent)` or `main(data, context)` (background). */
export interface GcpHandler {
  (reqOrCloudEventOrData: unknown, resOrContext?: unknown): Promise<void>;
  /** HTTP `(req, res)`. */
  http(req: unknown, res: unknown): Promise<void>;
  /** CloudEvent `(cloudEvent)`. */
  event(cloudEvent: unknown): Promise<void>;
  /** Background function `(data, context)` (the Functions Framework's `event` signature): run as the CloudEvent it stands for. */
  background(data: unknown, context: unknown): Promise<void>;
  /**
   * A plain call with the input itself (tests, scripts): resolves to the function's result.
   * Rejects with the public view of the error — a plain `Error` with `code`, `retryable` and,
   * for validation, `errors` — not the thrown class.
   */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

/**
 * Wraps `fn` for Google Cloud Functions: called with `(req, res)` it is an HTTP function, with
 * `(data, context)` a background function, with one argument a CloudEvent function.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid.
 */
export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any, any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): GcpHandler {
  const def = defineHandler(options, fn);
  const http = (req: unknown, res: unknown) => invokeGcpHttp(def, req, res);
  const event = (cloudEvent: unknown) => invokeGcpEvent(def, cloudEvent);
  const background = (data: unknown, context: unknown) => invokeGcpBackground(def, data, context);
  const main = (...args: unknown[]) => (args.length < 2 ? event(args[0]) : isBackgroundContext(args[1]) ? background(args[0], args[1]) : http(args[0], args[1]));
  return Object.assign(main, { http, event, background, invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts) });
}
