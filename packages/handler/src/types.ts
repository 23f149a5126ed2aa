import type { Logger } from './logger.js';
import type { FieldIssue, SteadyError } from './errors.js';
import type { ZodLikeIssue } from './internal/issues.js';

/** The platform that called the function. */
export type Provider = 'aws' | 'gcp' | 'azure' | 'openwhisk' | 'direct';

export type TriggerKind = 'http' | 'queue' | 'schedule' | 'event' | 'direct';

/** An HTTP request, the same shape whichever provider delivered it. */
export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. `/orders/42`. */
  path: string;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Query parameters; a repeated parameter keeps its last value (all values in `multiQuery`). */
  query: Record<string, string>;
  multiQuery: Record<string, string[]>;
  /**
   * The body as UTF-8 text (decoded from base64 when the provider sent it so), or undefined.
   * A lossy view of a body that is not UTF-8: read `rawBytes` for exact bytes.
   */
  rawBody: string | undefined;
  /**
   * The exact bytes of the body as the provider received them (base64 decoded), for
   * signatures over the body and binary uploads; undefined when the body is empty or absent,
   * and for a non-raw OpenWhisk web action whose JSON body the controller already parsed.
   * Every adapter sets it; optional only so that hand-built requests (tests) need not.
   */
  rawBytes?: Buffer | undefined;
  /** Source IP when the provider reports it. */
  sourceIp?: string;
}

export interface HttpTrigger {
  kind: 'http';
  /** Which event shape carried it: `apigw-v1`, `apigw-v2`, `function-url`, `alb`, `express`, `azure-http`, `ow-web`, `ow-web-raw`. */
  source: string;
  request: HttpRequest;
}

export interface QueueTrigger {
  kind: 'queue';
  /** `sqs`, `pubsub`, `azure-storage-queue`, `azure-service-bus`, `kafka`. */
  source: string;
  /** Queue, topic or subscription the message came from, when known. */
  queue?: string;
  messageId: string;
  /** How many times this message has been delivered, when the provider says (1 = first). */
  attempt?: number;
  /** Message attributes or properties, as strings. */
  attributes: Record<string, string>;
  /** Index of this message in the batch it arrived in. */
  batchIndex: number;
  batchSize: number;
}

export interface ScheduleTrigger {
  kind: 'schedule';
  /** `eventbridge`, `eventbridge-scheduler`, `cloud-scheduler`, `azure-timer`, `ow-alarm`. */
  source: string;
  /** The time the schedule fired for (ISO 8601), when the provider says. */
  scheduledTime?: string;
  /** Rule, job or schedule name/ARN when known. */
  schedule?: string;
}

export interface EventTrigger {
  kind: 'event';
  /** `cloudevent`, `eventbridge`, … */
  source: string;
  type: string;
  eventSource: string;
  id: string;
  subject?: string;
  time?: string;
}

export interface DirectTrigger {
  kind: 'direct';
  source: string;
}

export type Trigger = HttpTrigger | QueueTrigger | ScheduleTrigger | EventTrigger | DirectTrigger;

/** What each invocation's function and plugins see. */
export interface BaseContext {
  provider: Provider;
  trigger: Trigger;
  /** Name of the deployed function, when the provider says. */
  functionName: string;
  /** This attempt; differs on every retry. */
  requestId: string;
  /** Stable across redeliveries of the same message or event; undefined for plain HTTP. */
  deliveryId: string | undefined;
  /** Epoch milliseconds at which the provider stops this invocation (`Infinity` when it gives no clock). */
  deadline: number;
  /** Milliseconds left before `deadline`. */
  remainingMs(): number;
  /**
   * Aborted `deadlineMarginMs` before the deadline (reason: `DeadlineExceededError`), or when
   * the caller goes away (Cloud Functions HTTP, reason code `CLIENT_CLOSED_REQUEST`). Every
   * hook and the function share it: pass it to every store or network call.
   */
  signal: AbortSignal;
  /**
   * `true` on this instance's first invocation (its cold start), `false` on every later (warm)
   * one; all messages of the first batch share it. Also on every log line as `coldStart`.
   */
  coldStart: boolean;
  /** The invocation's logger: its lines carry `fn`, `provider`, `requestId`, `deliveryId`, `coldStart`. */
  log: Logger;
  /** The provider's own arguments, for the rare need the normalised view does not cover. */
  raw: unknown;
  /** Validated input (the same value the function receives); undefined until validation. */
  input: unknown;
}

/** A plugin's contribution to `ctx`, merged in before the function runs. */
export type Context<Added extends object = {}> = BaseContext & Added;

/**
 * Returned by `before`, `after` or `onError` to answer instead of (or in place of) the
 * function's result: a cache hit, a replay, a recovery. On HTTP invocations `answer` is
 * rendered like a function result (an already rendered `HttpResponse` is kept as it is).
 */
export interface EarlyAnswer {
  answer: unknown;
}

/**
 * How an invocation ended. On an HTTP invocation a successful `value` is the rendered
 * `HttpResponse`.
 */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: SteadyError };

/**
 * Runs the rest of the onion (inner `wrap`s, then the function and, for HTTP, the rendering
 * of its result) and resolves to that result. It may be called more than once — each call runs
 * the function again with the same ctx (e.g. MongoDB `withTransaction` retrying its callback);
 * it rejects with whatever the function threw, as thrown, or with `DEADLINE_EXCEEDED`.
 */
export type Next = () => Promise<unknown>;

/**
 * The one plugin shape (middy / Hono style). `Added` is what `extend` puts on `ctx`; `State`
 * is the plugin's private per-invocation slot, made by `state()` and passed to every hook.
 *
 * Order for one invocation:
 *
 *   extend (in order) → validation → before (in order) → wrap (outermost first) → function
 *   → render (HTTP) → wrap unwinds → after (reverse) → onError (reverse) → finally (reverse)
 *
 * Every hook up to and including `after` runs under the invocation's deadline: nothing new
 * starts once `deadline − deadlineMarginMs` has passed, and a hook still running then is
 * abandoned and the invocation answers `DEADLINE_EXCEEDED`. `onError`, `finally` and
 * `afterBatch` still run after that, each cut off at `deadline − deadlineMarginMs / 2`.
 *
 * @example
 * const timing: Plugin<{}, { startedAt: number }> = {
 *   name: 'timing',
 *   state: () => ({ startedAt: Date.now() }),
 *   finally: (ctx, _outcome, state) => ctx.log.info('done', { ms: Date.now() - state.startedAt }),
 * };
 */
export interface Plugin<Added extends object = {}, State = undefined> {
  /** Names the plugin in logs. */
  name: string;
  /**
   * Makes this plugin's state for one invocation (each message of a batch gets its own),
   * before any hook runs. Hooks receive it as their last argument. Keep it small: it is made
   * on every invocation.
   */
  state?(): State;
  /** Adds typed members to `ctx` (e.g. `ctx.redis`). Runs first, before validation and before `beforeBatch`. */
  extend?(ctx: Context, state: State): Added | Promise<Added>;
  /** Before the function, after validation; return `{ answer }` to answer without calling it. */
  before?(ctx: Context<Added>, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /**
   * Around the function: call `next()` to run it (and inner `wrap`s) and return what it
   * resolves to, or another value to replace it. Not calling `next` answers without the function.
   */
  wrap?(ctx: Context<Added>, next: Next, state: State): Promise<unknown>;
  /** After the function succeeded (with the rendered response for HTTP); return `{ answer }` to replace its result. */
  after?(ctx: Context<Added>, result: unknown, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** After the function (or a hook) failed; return `{ answer }` to recover. */
  onError?(ctx: Context<Added>, error: SteadyError, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** Always, last; cannot change the outcome. A throw here is logged, not raised. */
  finally?(ctx: Context<Added>, outcome: Outcome, state: State): void | Promise<void>;
  /**
   * Once per batch (SQS, Kafka feed, Service Bus), after every message's `extend` and
   * validation and before any message runs: one store round trip for the whole batch instead
   * of one per message. `states[i]` is this plugin's state for `ctxs[i]`; each `ctx.input` is
   * validated (undefined for a message that failed validation). A throw fails every message
   * of the batch; their `onError`, `finally` and every plugin's `afterBatch` still run.
   */
  beforeBatch?(ctxs: ReadonlyArray<Context<Added>>, states: ReadonlyArray<State>): void | Promise<void>;
  /** Once per batch, after every message has settled; plugins in reverse order. */
  afterBatch?(ctxs: ReadonlyArray<Context<Added>>, outcomes: ReadonlyArray<Outcome>, states: ReadonlyArray<State>): void | Promise<void>;
}

/** A schema the wrapper can validate with: any zod schema. */
export interface InputSchema<T = unknown> {
  safeParseAsync(input: unknown): Promise<
    | { success: true; data: T }
    | { success: false; error: { issues: ReadonlyArray<ZodLikeIssue> } }
  >;
}

export type { ZodLikeIssue } from './internal/issues.js';

export type { FieldIssue };
