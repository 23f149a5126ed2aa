/**
 * `handler(options, fn)`: wraps one async function so it runs unchanged on AWS Lambda,
 * Google Cloud Functions, Azure Functions and Apache OpenWhisk (and as a plain call).
 */
import type { ZodType, output } from 'zod';
import { detectProvider } from './detect.js';
import { makeLogger, type Definition } from './invoke.js';
import type { LogLevel, LogSink } from './logger.js';
import { invokeAzure, type AzureInvocationContext } from './providers/azure.js';
import { captureRawTriggerMetadata } from './providers/azure-raw.js';
import { invokeDirect, type DirectOptions } from './providers/direct.js';
import { invokeGcpEvent, invokeGcpHttp } from './providers/gcp.js';
import { invokeLambda, type LambdaContext } from './providers/lambda.js';
import { invokeOpenWhisk } from './providers/openwhisk.js';
import type { Context, Plugin, Provider } from './types.js';
import { oneOfOption } from './internal/options.js';
import { BODY_MODES, type BodyMode } from './message.js';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The members a list of plugins adds to `ctx`. */
export type PluginsAdded<P extends ReadonlyArray<Plugin<any>>> = [P[number]] extends [never]
  ? {}
  : UnionToIntersection<P[number] extends infer U ? (U extends Plugin<infer A> ? A : never) : never> & {};

export interface HandlerOptions<S extends ZodType | undefined, P extends ReadonlyArray<Plugin<any>>> {
  /** zod schema for the input; the function receives the parsed value. */
  input?: S;
  /** Plugins, outermost first. */
  use?: P;
  /** Skip detection and always treat calls as coming from this provider. */
  provider?: Provider;
  /** Name used in logs and idempotency keys; defaults to the provider's function name. */
  name?: string;
  /**
   * Invocation timeout where the provider gives no clock to read (Azure: set it to your
   * `functionTimeout`; default 5 minutes, the Consumption plan's default).
   */
  timeoutMs?: number;
  /** The signal aborts and the wrapper answers DEADLINE_EXCEEDED this long before the deadline. Default 500 ms. */
  deadlineMarginMs?: number;
  /**
   * A message that failed with a terminal (non-retryable) error: `'fail'` (default) reports
   * it failed so the provider's redrive moves it to the dead-letter queue — nothing is lost;
   * `'ack'` acknowledges it after logging, for messages that are safe to drop.
   */
  terminalErrors?: 'fail' | 'ack';
  /** Where JSON log lines go (default stdout). */
  logSink?: LogSink;
  /** Lowest level written (default: `STEADYFN_LOG_LEVEL`, else `info`). */
  logLevel?: LogLevel;
  /**
   * How message bodies (queue, stream, notification) and HTTP bodies reach the function:
   * `'auto'` parses JSON only when nothing is lost (or the message says it is JSON) and keeps
   * bytes that are not UTF-8 as a `Buffer`; `'json'` always parses (else a terminal
   * `MALFORMED_EVENT`); `'text'` gives the UTF-8 text; `'bytes'` the exact bytes.
   * @default 'auto'
   * @throws ConfigurationError for any other value.
   */
  body?: BodyMode;
}

export type InputOf<S> = S extends ZodType ? output<S> : unknown;

export type HandlerFunction<S, Added> = (input: InputOf<S>, ctx: Context<Added & {}>) => unknown;

/** The wrapped function: call it with any provider's arguments, or use an explicit entry. */
export interface SteadyHandler {
  (...args: any[]): Promise<any>;
  /** AWS Lambda `(event, context)`. */
  aws(event: unknown, context: LambdaContext): Promise<unknown>;
  /** Google Cloud Functions HTTP `(req, res)`. */
  gcpHttp(req: unknown, res: unknown): Promise<void>;
  /** Google Cloud Functions CloudEvent `(cloudEvent)`. */
  gcpEvent(cloudEvent: unknown): Promise<void>;
  /** Azure Functions v4 `(trigger, context)` for http, storage queue, Service Bus and timer. */
  azure(trigger: unknown, context: AzureInvocationContext): Promise<unknown>;
  /** Apache OpenWhisk `main(params)`. */
  openwhisk(params: unknown): Promise<unknown>;
  /** A plain call with the input itself. */
  invoke(input: unknown, options?: DirectOptions): Promise<unknown>;
}

export function handler<S extends ZodType | undefined = undefined, const P extends ReadonlyArray<Plugin<any>> = []>(
  options: HandlerOptions<S, P>,
  fn: HandlerFunction<S, PluginsAdded<P>>,
): SteadyHandler {
  // Inside the Azure worker: keep the host's raw trigger metadata (ids byte-exact).
  captureRawTriggerMetadata();
  const def: Definition = {
    input: options.input as Definition['input'],
    use: options.use ?? [],
    fn: fn as Definition['fn'],
    deadlineMarginMs: options.deadlineMarginMs ?? 500,
    logger: makeLogger(options.logSink, options.name, options.logLevel),
    terminalErrors: options.terminalErrors ?? 'fail',
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
    name: options.name,
    body: oneOfOption('handler', 'body', options.body, BODY_MODES, 'auto'),
  };

  const entries = {
    aws: (event: unknown, context: LambdaContext) => invokeLambda(def, event, context),
    gcpHttp: (req: unknown, res: unknown) => invokeGcpHttp(def, req, res),
    gcpEvent: (cloudEvent: unknown) => invokeGcpEvent(def, cloudEvent),
    azure: (trigger: unknown, context: AzureInvocationContext) => invokeAzure(def, trigger, context),
    openwhisk: (params: unknown) => invokeOpenWhisk(def, params),
    invoke: (input: unknown, opts?: DirectOptions) => invokeDirect(def, input, opts),
  };

  const main = (async (...args: unknown[]) => {
    const provider = options.provider ?? detectProvider(args);
    switch (provider) {
      case 'aws':
        return entries.aws(args[0], args[1] as LambdaContext);
      case 'azure':
        return entries.azure(args[0], args[1] as AzureInvocationContext);
      case 'gcp':
        return args.length >= 2 ? entries.gcpHttp(args[0], args[1]) : entries.gcpEvent(args[0]);
      case 'openwhisk':
        return entries.openwhisk(args[0]);
      case 'direct':
        return entries.invoke(args[0]);
    }
  }) as SteadyHandler;
  return Object.assign(main, entries);
}
