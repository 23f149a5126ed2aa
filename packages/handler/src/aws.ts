/**
 * `@steadyfn/handler/aws`: `handler()` for AWS Lambda only — the same options, ctx and
 * results as the root entry, without the other providers' adapters in the bundle.
 *
 * @example
 * import { handler } from '@steadyfn/handler/aws';
 * export const main = handler({}, async (input, ctx) => ({ ok: true }));
 *
 * @packageDocumentation
 */
import type { ZodType } from 'zod';
import { defineHandler, type HandlerFunction, type HandlerOptions, type PluginsAdded } from './define.js';
import { invokeDirect, type DirectOptions } from './providers/direct.js';
import { invokeLambda, type LambdaContext } from './providers/lambda.js';
import type { Plugin } from './types.js';

export * from './common.js';
export type { KafkaBatchResponse, LambdaContext, SqsBatchResponse } from './providers/lambda.js';

/** A function wrapped for AWS Lambda: `main(event, context)`, and `main.invoke(input)` for a plain call. */
export interface AwsHandler {
  (event: unknown, context: LambdaContext): Promise<unknown>;
  /**
   * A plain call with the input itself (tests, scripts): resolves to the function's result.
   * Rejects with the public view of the error — a plain `Error` with `code`, `retryable` and,
   * for validation, `errors` — not the thrown class.
   */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

/**
 * Wraps `fn` for AWS Lambda (API Gateway REST and HTTP APIs, Function URLs, ALB, SQS,
 * EventBridge, direct invocation).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid.
 */
export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any, any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): AwsHandler {
  const def = defineHandler(options, fn);
  const main = (event: unknown, context: LambdaContext) => invokeLambda(def, event, context);
  return Object.assign(main, { invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts) });
}
