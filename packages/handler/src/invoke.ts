/**
 * The provider-independent core: one invocation (or one batch) through validation,
 * plugins, the user's function and the deadline. Provider adapters only translate
 * their arguments into `Invocation`s, and `Outcome`s (for HTTP: rendered responses) back
 * into their own results.
 */
import { createContext, peekColdStart, runAs, takeColdStart } from './context.js';
import { acknowledgedFailure } from './batch.js';
import { Deadline } from './deadline.js';
import { toFieldIssues } from './internal/issues.js';
import { createLogger, type Logger, type LogLevel, type LogRecordSink, type LogSink } from './logger.js';
import { runPipeline } from './pipeline.js';
import { renderError, type HttpResponse, type ResponseTooLargeError } from './response.js';
import type { InputSchema, Outcome, Plugin, Provider, Trigger } from './types.js';
import type { BodyMode } from './message.js';
import type { KinesisDeaggregate } from './events/kinesis-aggregation.js';
import type { CarriedTrace } from './trace/incoming.js';
import type { PrincipalConfig, PrincipalReader } from './principal.js';

export { toFieldIssues };

/** How an invocation answered over HTTP is sent: the core renders its result and asks the adapter what it cannot send. */
export interface HttpAnswer {
  /**
   * Names the part of a rendered response this provider cannot send (e.g. `cookies` for
   * several cookies on an ALB without multi-value headers), or undefined. The core then
   * answers `INVALID_HTTP_RESULT` instead, as an error outcome.
   */
  unsendable?(res: HttpResponse): string | undefined;
  /**
   * The provider's size limit: `ResponseTooLargeError` when what it would be sent for this
   * rendered response is larger. The core then answers `RESPONSE_TOO_LARGE` instead, as an
   * error outcome (so `after` never sees it: an idempotency record is not completed with it).
   */
  tooLarge?(res: HttpResponse): ResponseTooLargeError | undefined;
}

/** How a result that is not an HTTP response is sent, when the provider limits its size. */
export interface ResultAnswer {
  /** As `HttpAnswer.tooLarge`, for the function's (or an early answer's) value as returned. */
  tooLarge?(value: unknown): ResponseTooLargeError | undefined;
}

/** One unit of work: an HTTP request, one queue message, one schedule tick, one event. */
export interface Invocation {
  trigger: Trigger;
  requestId: string;
  deliveryId: string | undefined;
  /** Produces the input before validation; may throw a MalformedEventError. */
  payload(): unknown;
  /** Set when the invocation is answered with an HTTP response: its result is rendered in the core. */
  http?: HttpAnswer;
  /** Set when a non-HTTP result is sent to a caller with a size limit (OpenWhisk activations, Lambda direct invokes). */
  result?: ResultAnswer;
  /** Trace context the event carries outside the normalised trigger (CloudEvents extension, SQS `AWSTraceHeader`, OpenWhisk params). */
  trace?: CarriedTrace;
}

/** What every invocation of one provider call shares. */
export interface Frame {
  provider: Provider;
  functionName: string;
  /** Epoch ms; Infinity when the provider gives no clock. */
  deadline: number;
  /**
   * The provider call's id (Lambda `awsRequestId`, Azure `invocationId`, OpenWhisk activation
   * id): the `requestId` of the log lines about a batch as a whole (a `beforeBatch` or
   * `afterBatch` that failed), whose messages each have their own.
   */
  requestId?: string;
  raw: unknown;
  /** Aborted when the caller goes away (an HTTP client that disconnects); aborts `ctx.signal` too. */
  signal?: AbortSignal;
  /**
   * `true` when the identity fields in `raw` were set by whoever invoked, not by the platform
   * (an OpenWhisk activation another namespace invoked): `ctx.principal` then reads none.
   */
  callerSetIdentity?: boolean;
  /**
   * How this provider reads the caller it verified (`ctx.principal`); none: no verified
   * principal (a direct call). Each adapter passes its own, so no entry carries another's.
   */
  principal?: PrincipalReader;
  /**
   * Platform ids to put on every log line of the call's invocations, after `requestId` (an
   * OpenWhisk activation's `transactionId`). Never a payload value.
   */
  logFields?: Readonly<Record<string, string>>;
  /**
   * Whether this provider call is the instance's cold start: taken once (`takeColdStart()`) as
   * the adapter starts on the call, so that its own log lines, its invocations and its batch
   * agree, and a call that runs nothing (an unreadable event) still uses the cold start up.
   * Unset (a hand-built frame): each run takes it.
   */
  coldStart?: boolean;
}

/** The wrapped function as the core calls it: `(input, ctx)`, returning a value or a promise. */
export type UserFunction = (input: any, ctx: any) => unknown;

/** A `handler()` definition after its options were checked: what every invocation runs. */
export interface Definition {
  input: InputSchema | undefined;
  use: ReadonlyArray<Plugin<any, any>>;
  fn: UserFunction;
  /** The signal aborts, and the wrapper answers DEADLINE_EXCEEDED, this long before the deadline. */
  deadlineMarginMs: number;
  logger: Logger;
  /** What to do with a message that failed for good: report it failed (redelivered, then dead-lettered) or acknowledge it. */
  terminalErrors: 'fail' | 'ack';
  /** Timeout for providers that give no clock (Azure), in ms. */
  timeoutMs: number;
  /** Whether `timeoutMs` was given (not the default): then Cloud Functions counts it too. Optional so hand-built definitions need not set it. */
  timeoutMsGiven?: boolean | undefined;
  /** AWS: the API Gateway integration timeout in ms (`apiGatewayTimeoutMs`); undefined: each API type's default. Optional so hand-built definitions need not set it. */
  apiGatewayTimeoutMs?: number | undefined;
  /** Overrides the provider's function name in ctx and logs. */
  name: string | undefined;
  /** How message and request bodies reach the function (see message.ts). */
  body: BodyMode;
  /** De-aggregates KPL-aggregated Kinesis records (aws-kinesis-agg's deaggregateSync); `false`: hand them over as bytes; undefined: fail them with KINESIS_AGGREGATED_RECORD. */
  kinesisDeaggregate?: KinesisDeaggregate | false | undefined;
  /** Kafka on Lambda: answer batchItemFailures (`{ partition: '<topic>-<partition>', offset }` per failed record) instead of throwing. */
  kafkaBatchItemFailures?: boolean | undefined;
  /** Where `ctx.principal` comes from: the `principal` option and the trusted identity headers. Optional so hand-built definitions need not set it. */
  principal?: PrincipalConfig;
  /** SQS: read an SNS envelope body as the notification it carries (`'unwrap'`, the default) or hand the body over as it is. */
  snsEnvelope?: 'unwrap' | 'keep' | undefined;
  /** SQS: key a body that is a whole EventBridge event by the event's id (`'read'`, the default) or by the SQS message id. */
  eventBridgeEnvelope?: 'read' | 'keep' | undefined;
  /** OpenWhisk: the largest action result in bytes (`whisk.activation.payload.max`). Optional so hand-built definitions need not set it. */
  openwhiskResultLimitBytes?: number | undefined;
  /** OpenWhisk web actions: the most a web activation's deadline is from its start, in ms (`openwhiskWebTimeoutMs`). Optional so hand-built definitions need not set it. */
  openwhiskWebTimeoutMs?: number | undefined;
  /** Cloud Functions HTTP: the largest response body in bytes (`gcpResponseLimitBytes`). Optional so hand-built definitions need not set it. */
  gcpResponseLimitBytes?: number | undefined;
  /** Cloud Functions HTTP: a Pub/Sub push (wrapped, or unwrapped with write metadata) is its queue trigger (`gcpPubSubPush`). Optional so hand-built definitions need not set it. */
  gcpPubSubPush?: boolean | undefined;
  /** Cloud Functions HTTP: a Cloud Scheduler HTTP target's call is its schedule trigger (`gcpSchedulerHttp`). Optional so hand-built definitions need not set it. */
  gcpSchedulerHttp?: boolean | undefined;
  /** HTTP: the methods answered (upper case, `HEAD` added with `GET`); others get 405. Undefined: every method. Optional so hand-built definitions need not set it. */
  methods?: ReadonlySet<string> | undefined;
  /** Indexes in `use` of the plugins with a `state` factory. */
  stateful: ReadonlyArray<number>;
  /** Indexes in `use` of the plugins with a `wrap` hook, outermost first. */
  wrappers: ReadonlyArray<number>;
}

/** Fills the indexes a Definition keeps about its plugins. */
export function planPlugins(use: ReadonlyArray<Plugin<any, any>>): Pick<Definition, 'stateful' | 'wrappers'> {
  const stateful: number[] = [];
  const wrappers: number[] = [];
  use.forEach((plugin, i) => {
    if (plugin.state) stateful.push(i);
    if (plugin.wrap) wrappers.push(i);
  });
  return { stateful, wrappers };
}

export { currentContext } from './context.js';

/** The definition's logger: JSON lines to `sink` (stdout by default), with `fn` when the function is named. */
export function makeLogger(sink: LogSink | LogRecordSink | undefined, functionName: string | undefined, level?: LogLevel): Logger {
  return createLogger(functionName ? { fn: functionName } : {}, sink, level);
}

/** The cold start of the call `frame` stands for: the one it took, else taken now. */
export function frameColdStart(frame: Pick<Frame, 'coldStart'>): boolean {
  return frame.coldStart ?? takeColdStart();
}

/**
 * A logger for what an adapter logs about a provider call outside any invocation (an event it
 * could not read): the fields of `ctx.log` but `deliveryId` and `trigger` — `fn` (the `name`
 * option, else the provider's function name), `provider`, `requestId` and the call's
 * `coldStart`. A frame that took no cold start (the middy adapter's, whose request takes it
 * after reading the event) says what the call will take, without taking it.
 */
export function adapterLogger(def: Definition, frame: Pick<Frame, 'provider' | 'functionName' | 'coldStart'>, requestId: string): Logger {
  return def.logger.child({ fn: def.name ?? frame.functionName, provider: frame.provider, requestId, coldStart: frame.coldStart ?? peekColdStart() });
}

/** Runs one invocation; on HTTP invocations a successful outcome's value is the rendered response. */
export function runInvocation(def: Definition, frame: Frame, inv: Invocation): Promise<Outcome> {
  const deadline = new Deadline(frame.deadline, def.deadlineMarginMs, frame.signal);
  const ctx = createContext(def, frame, inv, deadline, frameColdStart(frame));
  // A lone invocation owns its deadline and disposes of it when it ends.
  deadline.owner = ctx;
  return runAs(ctx, runPipeline, def, ctx, inv, deadline);
}

/** The response to send for an HTTP invocation's outcome: the rendered result, or the error as problem+json. */
export function responseOf(outcome: Outcome): HttpResponse {
  return outcome.ok ? (outcome.value as HttpResponse) : renderError(outcome.error);
}

/** Runs one HTTP invocation to the response to send. */
export async function runHttpInvocation(def: Definition, frame: Frame, inv: Invocation): Promise<HttpResponse> {
  return responseOf(await runInvocation(def, frame, inv.http ? inv : { ...inv, http: {} }));
}

/**
 * Whether the provider should be told this outcome failed (so it redelivers or dead-letters):
 * every failure but a terminal one of the message's own under `terminalErrors: 'ack'`
 * (`acknowledgedFailure`; a `ConfigurationError` is always reported).
 */
export function reportsFailure(def: Definition, outcome: Outcome): boolean {
  if (outcome.ok) return false;
  return !acknowledgedFailure(def, outcome.error);
}

export { runBatch, NotProcessedError } from './batch.js';
