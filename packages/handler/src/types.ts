import type { Logger } from './logger.js';
import type { FieldIssue, SteadyError } from './errors.js';

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
  /** Epoch milliseconds at which the provider stops this invocation. */
  deadline: number;
  /** Milliseconds left before `deadline`. */
  remainingMs(): number;
  /** Aborted shortly before the deadline (see `deadlineMarginMs`) so work can stop cleanly. */
  signal: AbortSignal;
  log: Logger;
  /** The provider's own arguments, for the rare need the normalised view does not cover. */
  raw: unknown;
  /** Validated input (the same value the function receives). */
  input: unknown;
}

/** A plugin's contribution to `ctx`, merged in before the function runs. */
export type Context<Added extends object = {}> = BaseContext & Added;

/** Returned by `before` to answer without calling the function (a cache hit, a replay). */
export interface EarlyAnswer {
  answer: unknown;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: SteadyError };

/**
 * The one plugin shape. Hooks run as an onion: `setup`/`before` in the order the plugins
 * are listed, `after`/`onError`/`finally` in reverse.
 */
export interface Plugin<Added extends object = {}> {
  name: string;
  /** Adds typed members to `ctx` (e.g. `ctx.redis`). Runs before `before`. */
  extend?(ctx: Context): Added | Promise<Added>;
  /** Before the function; return `{ answer }` to answer early. */
  before?(ctx: Context<Added>): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** After the function succeeded; return `{ answer }` to replace its result. */
  after?(ctx: Context<Added>, result: unknown): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** After the function (or a later plugin) failed; return `{ answer }` to recover. */
  onError?(ctx: Context<Added>, error: SteadyError): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** Always, last; cannot change the outcome. */
  finally?(ctx: Context<Added>, outcome: Outcome): void | Promise<void>;
  /**
   * Once per batch, before any message of it runs (SQS, Kafka feed, Service Bus): lets a
   * plugin do one store round trip for the whole batch instead of one per message. Each
   * ctx's `input` is already validated (undefined for a message that failed validation).
   */
  beforeBatch?(ctxs: ReadonlyArray<Context>): void | Promise<void>;
  /** Once per batch, after every message has settled. */
  afterBatch?(ctxs: ReadonlyArray<Context>, outcomes: ReadonlyArray<Outcome>): void | Promise<void>;
}

/** A schema the wrapper can validate with: any zod schema. */
export interface InputSchema<T = unknown> {
  safeParseAsync(input: unknown): Promise<
    | { success: true; data: T }
    | { success: false; error: { issues: ReadonlyArray<ZodLikeIssue> } }
  >;
}

export interface ZodLikeIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  expected?: unknown;
}

export type { FieldIssue };
