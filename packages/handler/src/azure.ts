/**
 * `@steadyfn/handler/azure`: `handler()` for Azure Functions (Node.js programming model v4)
 * only — the same options, ctx and results as the root entry, without the other providers'
 * adapters in the bundle.
 *
 * @example
 * import { app } from '@azure/functions';
 * import { handler } from '@steadyfn/handler/azure';
 * app.http('orders', { handler: handler({}, async (input, ctx) => ({ ok: true })) });
 *
 * @packageDocumentation
 */
import type { ZodType } from 'zod';
import { defineHandler, type HandlerFunction, type HandlerOptions, type PluginsAdded } from './define.js';
import { invokeAzure, type AzureInvocationContext } from './providers/azure.js';
import { captureRawTriggerMetadata } from './providers/azure-raw.js';
import { invokeDirect, type DirectOptions } from './providers/direct.js';
import type { Plugin } from './types.js';

export * from './common.js';
export type { AzureCookie, AzureInvocationContext, AzureHttpResponse } from './providers/azure.js';

/** A function wrapped for Azure Functions: `main(trigger, context)`. */
export interface AzureHandler {
  (trigger: unknown, context: AzureInvocationContext): Promise<unknown>;
  /**
   * A plain call with the input itself (tests, scripts): resolves to the function's result.
   * Rejects with the public view of the error — a plain `Error` with `code`, `retryable` and,
   * for validation, `errors` — not the thrown class.
   */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

/**
 * Wraps `fn` for Azure Functions (`app.http`, `app.storageQueue`, `app.serviceBusQueue` /
 * `serviceBusTopic`, `app.timer`).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid.
 */
export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any, any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): AzureHandler {
  const def = defineHandler(options, fn);
  // Inside the Azure worker: keep the host's raw trigger metadata (ids byte-exact).
  captureRawTriggerMetadata();
  const main = (trigger: unknown, context: AzureInvocationContext) => invokeAzure(def, trigger, context);
  return Object.assign(main, { invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts) });
}
