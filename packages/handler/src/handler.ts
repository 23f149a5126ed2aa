/**
 * `handler(options, fn)`: wraps one async function so it runs unchanged on AWS Lambda,
 * Google Cloud Functions, Azure Functions and Apache OpenWhisk (and as a plain call),
 * detecting the provider from each call's arguments. The per-provider entries
 * (`@steadyfn/handler/aws`, `/gcp`, `/azure`, `/openwhisk`) carry one adapter each.
 */
import type { ZodType } from 'zod';
import { defineHandler, type HandlerFunction, type HandlerOptions, type PluginsAdded } from './define.js';
import { detectProvider, isBackgroundContext } from './detect.js';
import { invokeAzure, type AzureInvocationContext } from './providers/azure.js';
import { captureRawTriggerMetadata } from './providers/azure-raw.js';
import { invokeDirect, invokeUnplaced, type DirectOptions } from './providers/direct.js';
import { gcfEventShape, invokeGcpBackground, invokeGcpEvent, invokeGcpHttp } from './providers/gcp.js';
import { invokeLambda, type LambdaContext } from './providers/lambda.js';
import { invokeOpenWhisk } from './providers/openwhisk.js';
import type { Plugin } from './types.js';

export type { HandlerFunction, HandlerOptions, InputOf, PluginsAdded } from './define.js';

/** The wrapped function: call it with any provider's arguments, or use an explicit entry. */
export interface SteadyHandler {
  (...args: any[]): Promise<any>;
  /** AWS Lambda `(event, context)`. */
  aws(event: unknown, context: LambdaContext): Promise<unknown>;
  /** Google Cloud Functions HTTP `(req, res)`. */
  gcpHttp(req: unknown, res: unknown): Promise<void>;
  /** Google Cloud Functions CloudEvent `(cloudEvent)`. */
  gcpEvent(cloudEvent: unknown): Promise<void>;
  /** Google Cloud Functions background function `(data, context)` (the Functions Framework's `event` signature). */
  gcpBackground(data: unknown, context: unknown): Promise<void>;
  /** Azure Functions v4 `(trigger, context)` for http, storage queue, Service Bus and timer. */
  azure(trigger: unknown, context: AzureInvocationContext): Promise<unknown>;
  /** Apache OpenWhisk `main(params)`. */
  openwhisk(params: unknown): Promise<unknown>;
  /**
   * This function itself. The OpenWhisk Node.js runtime takes an action's entry point as the
   * `main` export of the action's module (`--main`, default `main`), so `module.exports =
   * handler(…)` works as well as `exports.main = handler(…)`.
   */
  readonly main: SteadyHandler;
  /**
   * A plain call with the input itself (tests, scripts): resolves to the function's result.
   * Rejects with the public view of the error — a plain `Error` with `code`, `retryable` and,
   * for validation, `errors` — not the thrown class.
   */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

/**
 * Wraps `fn` for every provider.
 *
 * What `fn` throws sets the answer's status and retry only when it is a `SteadyError`
 * (`TerminalError`, `RetryableError`, `httpError(…)`, …): anything else — an `http-errors`
 * error, a Boom error, an AWS SDK exception with its `$metadata.httpStatusCode` — is
 * `500 INTERNAL`, retryable, its message hidden (see `toSteadyError`; map errors you trust in
 * a plugin's `onError`).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid, at definition time.
 * @example
 * export const main = handler({ input: z.object({ sku: z.string() }) }, async (input, ctx) => ({ sku: input.sku }));
 */
export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any, any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): SteadyHandler {
  const def = defineHandler(options, fn);
  // Inside the Azure worker: keep the host's raw trigger metadata (ids byte-exact).
  captureRawTriggerMetadata();
  const entries = {
    aws: (event: unknown, context: LambdaContext) => invokeLambda(def, event, context),
    gcpHttp: (req: unknown, res: unknown) => invokeGcpHttp(def, req, res),
    gcpEvent: (cloudEvent: unknown) => invokeGcpEvent(def, cloudEvent),
    gcpBackground: (data: unknown, context: unknown) => invokeGcpBackground(def, data, context),
    azure: (trigger: unknown, context: AzureInvocationContext) => invokeAzure(def, trigger, context),
    openwhisk: (params: unknown) => invokeOpenWhisk(def, params),
    invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts),
  };

  const route = (args: unknown[]): Promise<unknown> => {
    const provider = options.provider ?? detectProvider(args);
    switch (provider) {
      case 'aws':
        return entries.aws(args[0], args[1] as LambdaContext);
      case 'azure':
        return entries.azure(args[0], args[1] as AzureInvocationContext);
      case 'gcp':
        if (args.length < 2) return entries.gcpEvent(args[0]);
        return isBackgroundContext(args[1]) ? entries.gcpBackground(args[0], args[1]) : entries.gcpHttp(args[0], args[1]);
      case 'openwhisk':
        return entries.openwhisk(args[0]);
      case 'direct':
        // A Cloud Functions event that reached us as a plain argument is named in a warn line.
        return invokeUnplaced(def, args[0], gcfEventShape(args[0]));
    }
  };
  // Not an async function: the entry's own promise is the answer (one promise fewer per call);
  // anything thrown while routing is still a rejection.
  const main = ((...args: unknown[]) => {
    try {
      return route(args);
    } catch (thrown) {
      return Promise.reject(thrown as Error);
    }
  }) as SteadyHandler;
  return Object.assign(main, entries, { main });
}
