/**
 * The options every entry's `handler(options, fn)` takes, checked up front, and the
 * `Definition` the core runs.
 */
import type { ZodType, output } from 'zod';
import { intOption, invalidOption, msOption, oneOfOption, stringOption } from './internal/options.js';
import { GCF_RESPONSE_LIMIT_BYTES, OPENWHISK_RESULT_LIMIT_BYTES, OPENWHISK_WEB_TIMEOUT_MS } from './internal/limits.js';
import { checkKnownKeys, keysOf } from './internal/option-keys.js';
import { makeLogger, planPlugins, type Definition } from './invoke.js';
import { isLogRecordSink, type LogLevel, type LogRecordSink, type LogSink } from './logger.js';
import { BODY_MODES, type BodyMode } from './message.js';
import type { Context, Plugin, Provider, Trigger } from './types.js';
import type { KinesisDeaggregate } from './events/kinesis-aggregation.js';
import { IDENTITY_HEADERS, type IdentityHeaders, type PrincipalConfig, type PrincipalFunction } from './principal.js';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

type AddedBy<P extends ReadonlyArray<Plugin<any, any>>> = P[number] extends infer U ? (U extends Plugin<infer A, any> ? A : never) : never;
type AddedOf<T> = T extends Plugin<infer A, any> ? A : never;
/** The named (not index-signature) keys of each member of the union `T`. */
type NamedKeys<T> = T extends unknown ? (keyof T extends infer K ? (K extends unknown ? (string extends K ? never : number extends K ? never : symbol extends K ? never : K) : never) : never) : never;
/** Keys of a member of the union `A` that another member of it has too (a list that is no tuple). */
type SharedKeys<A, All = A> = A extends unknown ? NamedKeys<A> & NamedKeys<Exclude<All, A>> : never;
/** Every named key the plugins of the tuple `P` add. */
type KeysOfAll<P> = P extends readonly [infer H, ...infer R] ? NamedKeys<AddedOf<H>> | KeysOfAll<R> : never;
/** Keys a plugin of the tuple `P` adds that a later one adds too: per plugin, so a plugin whose added type is a union is one plugin. */
type SharedInTuple<P> = P extends readonly [infer H, ...infer R] ? (NamedKeys<AddedOf<H>> & KeysOfAll<R>) | SharedInTuple<R> : never;
type SharedOf<P extends ReadonlyArray<Plugin<any, any>>> = number extends P['length'] ? SharedKeys<AddedBy<P>> : SharedInTuple<P>;
/** Every plugin's added type, intersected; a plugin's own union stays a union. */
type AllAddedIn<P> = P extends readonly [infer H, ...infer R] ? AddedOf<H> & AllAddedIn<R> : unknown;
type AllAdded<P extends ReadonlyArray<Plugin<any, any>>> = number extends P['length'] ? UnionToIntersection<AddedBy<P>> : AllAddedIn<P>;
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Merged<T, S extends PropertyKey> = [S] extends [never] ? T & {} : OmitEach<T, S> & { [K in S]: never };
/**
 * The members a list of plugins adds to `ctx`. A member two plugins add (with different types) is
 * `never`: at run time the second plugin adding it is refused (`CONFIG_INVALID`), so the function
 * cannot be written against both shapes. Plugins whose added types are the same are not told apart.
 * Keys are compared plugin by plugin: a plugin whose added type is a union (`{ a: number; db: Db }
 * | { b: string; db: Db }`) adds `db` once, typed `Db`.
 */
export type PluginsAdded<P extends ReadonlyArray<Plugin<any, any>>> = [P[number]] extends [never] ? {} : Merged<AllAdded<P>, SharedOf<P> & PropertyKey>;

/** Options of `handler(options, fn)`. Durations are whole milliseconds. */
export interface HandlerOptions<S extends ZodType | undefined, P extends ReadonlyArray<Plugin<any, any>>> {
  /** zod schema for the input; the function receives the parsed value. @default none (the input as received) */
  input?: S;
  /** Plugins, outermost first. @default [] */
  use?: P;
  /** Skip detection and always treat calls as coming from this provider (root entry only). @default detected */
  provider?: Provider;
  /** Name used in logs and idempotency keys. @default the provider's function name */
  name?: string;
  /**
   * The function's timeout in ms, where the provider gives no clock to read:
   * - **Azure**: set it to your `functionTimeout`. An Azure HTTP trigger's deadline is at most
   *   230000 ms from the start whatever this says: the most Azure's load balancer waits for an
   *   HTTP answer (Azure docs, "Function app timeout duration").
   * - **Cloud Functions**: the deadline comes from `CLOUD_RUN_TIMEOUT_SECONDS` (what the Functions
   *   Framework reads) or `FUNCTION_TIMEOUT_SEC` (1st gen's older runtimes), neither of which is
   *   in Cloud Run's documented container contract. Given here, it is the deadline when neither
   *   is set — set it to the `--timeout` you deploy with — and the earlier one when one is. Not
   *   given (the default is not applied there), a function without either variable has no
   *   deadline: `ctx.signal` never aborts and the idempotency and inbox leases fall back to 5
   *   minutes (`IDEMPOTENCY_LEASE_NO_DEADLINE`, `INBOX_LEASE_NO_DEADLINE`).
   * Other providers give their own clock, and this is not read there.
   * @default 300000 (5 minutes, the Azure Consumption plan's default; Cloud Functions: none)
   * @throws ConfigurationError (`CONFIG_INVALID`, field `timeoutMs`) not a whole number of milliseconds ≥ 1
   * @example
   * ```ts
   * // gcloud functions deploy orders --gen2 --timeout=540s
   * export const orders = handler({ timeoutMs: 540_000 }, placeOrder);
   * ```
   */
  timeoutMs?: number;
  /**
   * AWS Lambda behind API Gateway: the API's integration timeout in ms — how long API Gateway
   * waits for the function before it answers the client `504` itself. An HTTP invocation from
   * API Gateway has its deadline at most this long from the start, however long the Lambda
   * timeout is, so `ctx.signal` aborts (and idempotency and inbox leases end) when the client
   * has been answered, not minutes later. Set it when you raised a Regional or private REST
   * API's integration timeout above 29 s. REST APIs: this value. HTTP APIs (payload format 2.0,
   * or 1.0 — an event with a top-level `version: '1.0'`): at most 30000, their fixed maximum;
   * WebSocket APIs: at most 29000 — a smaller value counts there too (a
   * lowered `timeoutInMillis`). ALB, Function URL and VPC Lattice requests keep the Lambda
   * clock. The earlier of this and `getRemainingTimeInMillis()` wins.
   * @default 29000 (REST's default integration timeout; HTTP APIs 30000, WebSocket APIs 29000)
   * @throws ConfigurationError (`CONFIG_INVALID`, field `apiGatewayTimeoutMs`) not a whole
   *   number of milliseconds ≥ 50 (API Gateway's smallest integration timeout)
   * @example
   * ```ts
   * // A Regional REST API whose integration timeout was raised to 120 s; the function's timeout is 180 s:
   * export const report = handler({ apiGatewayTimeoutMs: 120_000 }, buildReport);
   * ```
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
   */
  apiGatewayTimeoutMs?: number;
  /**
   * How long before the deadline, in ms, `ctx.signal` aborts and the wrapper answers
   * `DEADLINE_EXCEEDED`; cleanup hooks are cut off at half of it.
   * @default 500
   */
  deadlineMarginMs?: number;
  /**
   * A message that failed with a terminal (non-retryable) error: `'fail'` reports it failed
   * so the provider's redrive moves it to the dead-letter queue — nothing is lost; `'ack'`
   * acknowledges it after logging, for messages that are safe to drop (poison messages: invalid
   * input, a `TerminalError`: a terminal error with a 4xx status). A `ConfigurationError` (a
   * wrong or missing option, a driver not installed, credentials the server refuses:
   * `CONNECTION_AUTH_FAILED`) and any terminal error with a 5xx status (`IDEMPOTENCY_RECORD_CORRUPT`,
   * `OUTBOX_EVENT_INVALID`, a `TerminalError` given `status: 500`) are the deployment's or the
   * function's fault, not the message's: they are reported failed under both, so a
   * misconfiguration, a bug or a credential rotation window does not drop every message.
   * On AWS `'ack'` also acknowledges an SNS, S3 (direct or through EventBridge), Kafka,
   * DocumentDB, Kinesis or DynamoDB stream event that cannot be read as a whole (`MALFORMED_EVENT`:
   * no record of it can be read on its own, or the event's shape is damaged): logged by code and
   * field, never the payload, and answered as an event with no records without running the
   * function; `'fail'` throws it (Lambda retries it, a stream holds its shard). An event in which
   * some records can be read and one cannot (a stream record without a sequence number, a Kafka
   * record without an offset) is thrown under both: acknowledging it would drop the readable
   * records unrun, and a partial answer cannot name a record that has no sequence number.
   * @default 'fail'
   */
  terminalErrors?: 'fail' | 'ack';
  /**
   * Where log entries go: a function of each JSON line, or a `LogRecordSink` that hands each
   * entry (masked) to a logger you already run — `powertoolsLogSink(logger)`,
   * `pinoLogSink(logger)` from `@steadyfn/handler/logging`.
   * @default stdout, one JSON line per entry
   */
  logSink?: LogSink | LogRecordSink;
  /**
   * Lowest level written.
   * @default `STEADYFN_LOG_LEVEL` (`debug`, `info`, `warn`, `error`, any case), else `'info'` — a
   *   value naming no level also gives `'info'`, warned once per process (`LOG_LEVEL_UNKNOWN`)
   * @throws ConfigurationError (`CONFIG_INVALID`, field `logLevel`) not one of the four levels
   */
  logLevel?: LogLevel;
  /**
   * How message bodies (queue, stream, notification) and HTTP bodies reach the function:
   * `'auto'` parses JSON only when nothing is lost (or the message says it is JSON) and keeps
   * bytes that are not UTF-8 as a `Buffer` — and, for a message received as bytes (Pub/Sub,
   * Kinesis, Kafka, Event Grid `data_base64`, a `Buffer` from Azure), UTF-8 bytes holding a
   * control character other than tab, line feed, form feed, carriage return and escape (DEL
   * included) too; `'json'` always parses (else a terminal
   * `MALFORMED_EVENT`); `'text'` gives the UTF-8 text; `'bytes'` the exact bytes. An HTTP body
   * under a textual type with a declared charset other than UTF-8 is decoded with that charset
   * (`'auto'` and `'text'`). A byte order mark before JSON is ignored (RFC 8259 §8.1).
   * @default 'auto'
   */
  body?: BodyMode;
  /**
   * Kinesis records aggregated by the Kinesis Producer Library (KPL aggregation is on by
   * default in the KPL): pass `deaggregateSync` from the `aws-kinesis-agg` package and each
   * user record runs as its own record (its own `ctx.deliveryId`, `ctx.trigger.subSequence`,
   * MD5 checked); `false` hands the aggregated bytes over as they are. Without it an
   * aggregated record fails with the retryable `KINESIS_AGGREGATED_RECORD`, so it stays in the
   * stream until a deployment can read it.
   * @default undefined (aggregated records fail, retryably)
   * @example
   * import { deaggregateSync } from 'aws-kinesis-agg';
   * export const main = handler({ kinesisDeaggregate: deaggregateSync }, (input, ctx) => input);
   * @see https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md
   */
  kinesisDeaggregate?: KinesisDeaggregate | false;
  /**
   * Amazon MSK and self-managed Kafka on Lambda: answer a failed batch with
   * `batchItemFailures` (`itemIdentifier: { partition: '<topic>-<partition>', offset }`, the first failed
   * record of each partition; later records of that partition are not run) instead of
   * throwing. Turn it on only together with `ReportBatchItemFailures` on the event source
   * mapping (provisioned mode): without it Lambda reads that answer as a success and the
   * failed records are skipped. Off, a failure is thrown and Lambda retries the whole batch.
   * An EventBridge Pipes array of Kafka records is always answered by throwing: Pipes retries
   * the entire batch and reads no partial answer for a Kafka source.
   * @default false
   * @see https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
   */
  kafkaBatchItemFailures?: boolean;
  /**
   * Your own authentication: returns the caller's id for `ctx.principal` (source `custom`), or
   * undefined for an anonymous caller. When given it decides alone; its second argument is the
   * principal the provider verified, if any. It is called each time `ctx.principal` is read, so
   * it may read what your own `before` hook put on `ctx` (put that plugin before
   * `idempotency()` in `use`). A blank string counts as undefined; any other non-string
   * fails the invocation with `PRINCIPAL_INVALID` (terminal).
   * @default undefined (the provider-verified principal; see `ctx.principal`)
   * @example
   * handler({ use: [verifyJwt, idempotency({ store, ttlMs })], principal: (ctx) => (ctx as Context<{ user?: { sub: string } }>).user?.sub }, fn);
   */
  principal?: PrincipalFunction;
  /**
   * Identity headers to trust for `ctx.principal` because a platform in front of the function
   * authenticates every request and sets them: `'alb-oidc'` (ALB `authenticate-oidc` /
   * `authenticate-cognito`: `x-amzn-oidc-identity`), `'azure-app-service'` (App Service
   * authentication: `x-ms-client-principal-id` / `-idp`, claims and roles from
   * `x-ms-client-principal`), `'azure-static-web-apps'` (a Static Web Apps API:
   * `x-ms-client-principal` in its `{ identityProvider, userId, userDetails, userRoles }`
   * shape), `'gcp-iap'` (Identity-Aware Proxy: `x-goog-authenticated-user-id`). Name one only
   * when that authentication is on for every route to the function: without it, a client sends
   * these headers itself (a Static Web Apps linked backend: only while its own endpoint admits
   * the static web app alone). A malformed or oversized `x-ms-client-principal` is no caller.
   * @default [] (identity headers are ignored)
   * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html
   * @see https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities
   * @see https://learn.microsoft.com/azure/static-web-apps/user-information
   * @see https://cloud.google.com/iap/docs/identity-howto
   */
  trustIdentityHeaders?: ReadonlyArray<IdentityHeaders>;
  /**
   * SQS messages an SNS topic delivered without raw message delivery carry the SNS envelope as
   * their body. `'unwrap'`: the function's input is the envelope's `Message` (under the `body`
   * option), the SNS `MessageAttributes` are in `ctx.trigger.attributes` / `binaryAttributes` /
   * `attributeTypes` (as raw delivery would give them), the notification's identity in
   * `ctx.trigger.sns`, and `ctx.deliveryId` is the SNS message id; a malformed envelope fails
   * that message alone (`MALFORMED_EVENT`). `'keep'`: the body is the input as it is, the
   * envelope included (as before 0.x). `ctx.raw` holds the Lambda event unchanged either way.
   * An S3 notification inside the envelope is a storage trigger in both modes.
   * @default 'unwrap'
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html
   */
  snsEnvelope?: 'unwrap' | 'keep';
  /**
   * SQS messages an EventBridge rule delivered (the queue as target, no input transformer) carry
   * the whole event as their body. `'read'`: `ctx.deliveryId` is the event's `id` (a scheduled
   * tick: `<schedule ARN>@<time>`; an archive replay: `replay/<replay-name>#<id>`, so a replay
   * runs again), the same for every copy EventBridge's target retries send, and
   * `ctx.trigger.eventBridge` names the event. `'keep'`: `ctx.deliveryId` is the SQS message id,
   * as before. Either way the input is the body (the whole event), `ctx.trigger.messageId` and
   * `batchItemFailures` name the SQS message.
   * @default 'read'
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
   */
  eventBridgeEnvelope?: 'read' | 'keep';
  /**
   * OpenWhisk: the largest action result, in bytes (the UTF-8 of the JSON the runtime answers
   * the invoker with), that the platform accepts — its `whisk.activation.payload.max`. Set it
   * when the operator of your OpenWhisk deployment raised (or lowered) that limit. A larger
   * result is answered as `RESPONSE_TOO_LARGE` (500) instead of the invoker's "action developer
   * error" with a truncated copy of the result in the activation record.
   * @default 1048576 (OpenWhisk's default: docs "System limits", `result` 1 MB)
   * @see https://github.com/apache/openwhisk/blob/master/docs/reference.md#system-limits
   */
  openwhiskResultLimitBytes?: number;
  /**
   * OpenWhisk web actions: how long, in ms, the controller waits for a web action's result —
   * its activation setting `maxWaitForBlockingActivation` (the controller's activation config).
   * A web activation's deadline is at most this long from its start, whatever `__OW_DEADLINE`
   * (the action's own timeout) says: past it the controller answers the client `202` "Response
   * not yet ready." — a success status, the function's answer lost — so `ctx.signal` aborts and
   * `DEADLINE_EXCEEDED` (504) is answered before. Set it when the operator changed that setting;
   * other activations are not affected.
   * @default 60000 (the controller's default)
   * @throws ConfigurationError (`CONFIG_INVALID`, field `openwhiskWebTimeoutMs`) not a whole number of milliseconds ≥ 1
   * @example
   * ```ts
   * // The deployment's controller waits 2 minutes for blocking activations:
   * export const main = handler({ openwhiskWebTimeoutMs: 120_000 }, async () => render());
   * ```
   * @see https://github.com/apache/openwhisk/blob/master/core/controller/src/main/scala/org/apache/openwhisk/core/controller/WebActions.scala
   */
  openwhiskWebTimeoutMs?: number;
  /**
   * Cloud Functions over HTTP (Cloud Scheduler HTTP targets included): the largest response
   * body, in bytes, the handler sends — uncompressed, a binary body counted by its bytes, not
   * its base64; headers are not counted. A larger one is answered `RESPONSE_TOO_LARGE` (500,
   * plugins see it in `onError`) instead of being written and then failed by the platform with
   * a 500 the function never sees. The default is 2nd gen's (Cloud Run functions) limit; a
   * function cannot tell which generation runs it, so on **1st gen** set `10_000_000` (its
   * quota: "Max uncompressed HTTP response size | 10MB"). Google gives "MB" without a byte
   * count: read, like the other limits here, as decimal (10 MB = 10,000,000 bytes), the lower
   * reading, so nothing the platform refuses passes the check. A value above the default lets
   * through responses 2nd gen may refuse.
   * @default 32000000 (2nd gen: "32MB for non-streaming responses"; the adapter never streams)
   * @example
   * ```ts
   * // Deployed as a Cloud Functions 1st gen function:
   * export const report = handler({ gcpResponseLimitBytes: 10_000_000 }, async () => buildReport());
   * ```
   * @see https://cloud.google.com/functions/quotas
   * @see https://cloud.google.com/functions/quotas-1st-gen
   */
  gcpResponseLimitBytes?: number;
  /**
   * Cloud Functions HTTP: recognise a **Pub/Sub push** POSTed to the function — the default
   * wrapped push (`application/json` body `{ message: { messageId, data, attributes, … },
   * subscription: 'projects/<p>/subscriptions/<s>', deliveryAttempt? }`) or an unwrapped one
   * with write metadata (`x-goog-pubsub-message-id` and `x-goog-pubsub-subscription-name`
   * headers) — as the `queue` trigger a Pub/Sub CloudEvent gives: `ctx.deliveryId` is the
   * message id (the same on every redelivery, so idempotency and the inbox dedupe
   * redeliveries), the input the decoded message data, and the answer `204` (acknowledged) or a
   * non-2xx problem (redelivered). Off, such a request is plain HTTP (the first one of each
   * handler is named in a `warn` line).
   *
   * Turn it on only when nobody but Pub/Sub can call the function: push authentication with a
   * service that requires it (no `allUsers` invoker), or your own check of the push token in
   * front. Every mark of a push is something any caller can send, and a caller who sends a
   * message id before Pub/Sub does would have the real message answered as a replay
   * (acknowledged, never run): message ids are not secret, and delivery ids are not scoped by
   * caller.
   * @default false
   * @example
   * ```ts
   * // Deployed behind an authenticated push subscription (--push-auth-service-account):
   * export const onOrder = handler({ gcpPubSubPush: true, use: [idempotency({ store, ttlMs })] }, (order, ctx) => ship(order, ctx.deliveryId));
   * ```
   * @see https://cloud.google.com/pubsub/docs/push
   * @see https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
   */
  gcpPubSubPush?: boolean;
  /**
   * Cloud Functions HTTP: read a call from a Cloud Scheduler HTTP target (the request carries
   * `X-CloudScheduler: true`) as the `schedule` trigger: `ctx.trigger.schedule` is the
   * `X-CloudScheduler-JobName` header, `scheduledTime` the `X-CloudScheduler-ScheduleTime` header
   * and `ctx.deliveryId` `<job>@<scheduleTime>` (the same on every retry of a tick, so
   * idempotency and the inbox run each tick once); the answer follows the tick's: a terminal
   * failure under `terminalErrors: 'ack'` is `204`, a failure to report non-2xx. Off, such a
   * request is plain HTTP with no `ctx.deliveryId` (the first one of each handler is named in a
   * `warn` line). A Cloud Scheduler CloudEvent (`google.cloud.scheduler.job.v1.executed`) is a
   * tick either way.
   *
   * Turn it on only when nobody but the scheduler can call the function: authenticated
   * invocation (no `allUsers` invoker) with the job's OIDC service account the only one granted
   * the invoker role. Those headers are what any caller can send, and a caller who sends a
   * tick's job and time before Cloud Scheduler does would have the real tick answered as a
   * replay (run never): schedule times are predictable, and delivery ids are not scoped by caller.
   * @default false
   * @example
   * ```ts
   * // Deployed with --no-allow-unauthenticated; the job calls it with --oidc-service-account-email:
   * export const nightly = handler({ gcpSchedulerHttp: true, use: [idempotency({ store, ttlMs })] }, () => reconcile());
   * ```
   * @see https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
   * @see https://cloud.google.com/scheduler/docs/http-target-auth
   */
  gcpSchedulerHttp?: boolean;
  /**
   * The HTTP methods the function answers. A request with any other method is answered
   * `405 Method Not Allowed` (`METHOD_NOT_ALLOWED`, terminal) with an `Allow` header listing
   * these (RFC 9110 §15.5.6, §10.2.1) before any plugin runs or the input is read — so a
   * `GET` that a link preview or crawler sends to a function that creates orders never
   * reaches it (its query parameters would otherwise be the input), and no idempotency record
   * is claimed for it. `HEAD` is answered wherever `GET` is (RFC 9110 §9.3.2). Methods are
   * compared in upper case. List `OPTIONS` when a plugin of yours answers CORS preflights.
   * Only HTTP triggers are checked (API Gateway WebSocket routes are not: their "method" is
   * the event type); every other trigger runs as before.
   * @default undefined (every method reaches the function)
   * @throws ConfigurationError (`CONFIG_INVALID`, field `methods`) not a non-empty array of
   *   method names (RFC 9110 tokens)
   * @example
   * ```ts
   * export const createOrder = handler({ methods: ['POST'], input: order }, placeOrder);
   * ```
   * @see https://www.rfc-editor.org/rfc/rfc9110#name-405-method-not-allowed
   */
  methods?: ReadonlyArray<string>;
}

/** The validated input type for schema `S`. */
export type InputOf<S> = S extends ZodType ? output<S> : unknown;

/**
 * What an input schema of `@steadyfn/handler/schemas` says about `ctx.trigger`: with
 * `input: storageObject()` it is a `StorageTrigger`, with `changeRecord(…)` a `ChangeTrigger`, …
 * (the schema refuses any other trigger); `{}` for any other schema.
 */
export type TriggerNarrowing<S> = S extends { readonly '~steadyfnTrigger': infer K } ? { trigger: Extract<Trigger, { kind: K }> } : {};

/**
 * The wrapped function: the validated input and a ctx typed with what the plugins add (and,
 * with a trigger schema from `@steadyfn/handler/schemas`, with its `ctx.trigger` narrowed).
 */
export type HandlerFunction<S, Added> = (input: InputOf<S>, ctx: Context<Added & TriggerNarrowing<S>>) => unknown;

const PROVIDERS = ['aws', 'gcp', 'azure', 'openwhisk', 'direct'] as const;
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const HOOKS = ['state', 'extend', 'before', 'wrap', 'after', 'onError', 'finally', 'beforeBatch', 'batchOrder', 'afterBatch'] as const;
// keysOf: fails to compile when HandlerOptions gains an option this list lacks (it would be refused as unknown).
const OPTIONS = keysOf<HandlerOptions<any, any>>({
  input: true,
  use: true,
  provider: true,
  name: true,
  timeoutMs: true,
  apiGatewayTimeoutMs: true,
  deadlineMarginMs: true,
  terminalErrors: true,
  logSink: true,
  logLevel: true,
  body: true,
  kinesisDeaggregate: true,
  kafkaBatchItemFailures: true,
  principal: true,
  trustIdentityHeaders: true,
  snsEnvelope: true,
  eventBridgeEnvelope: true,
  openwhiskResultLimitBytes: true,
  openwhiskWebTimeoutMs: true,
  gcpResponseLimitBytes: true,
  gcpPubSubPush: true,
  gcpSchedulerHttp: true,
  methods: true,
});

/** An HTTP method name: an RFC 9110 token (§5.6.2). */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function methodsOption(value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((m) => typeof m === 'string' && METHOD.test(m))) {
    return invalidOption('handler', 'methods', "a non-empty array of HTTP method names, e.g. ['POST']", value);
  }
  const methods = new Set((value as string[]).map((m) => m.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  return methods;
}

function checkPlugins(use: unknown): ReadonlyArray<Plugin<any, any>> {
  if (use === undefined) return [];
  if (!Array.isArray(use)) invalidOption('handler', 'use', 'an array of plugins', use);
  use.forEach((plugin: unknown, i) => {
    if (typeof plugin !== 'object' || plugin === null) invalidOption('handler', `use.${i}`, 'a plugin object', plugin);
    const p = plugin as Record<string, unknown>;
    if (typeof p.name !== 'string' || p.name === '') invalidOption('handler', `use.${i}.name`, 'a non-empty string', p.name);
    for (const hook of HOOKS) {
      if (p[hook] !== undefined && typeof p[hook] !== 'function') invalidOption('handler', `use.${i}.${hook}`, 'a function', p[hook]);
    }
  });
  return use as ReadonlyArray<Plugin<any, any>>;
}

function principalOption(custom: unknown, trusted: unknown): PrincipalConfig {
  if (custom !== undefined && typeof custom !== 'function') invalidOption('handler', 'principal', 'a function (ctx, verified) => string | undefined', custom);
  if (trusted !== undefined && !(Array.isArray(trusted) && trusted.every((t) => (IDENTITY_HEADERS as unknown[]).includes(t)))) {
    invalidOption('handler', 'trustIdentityHeaders', `an array of ${IDENTITY_HEADERS.map((t) => `'${t}'`).join(', ')}`, trusted);
  }
  return { custom: custom as PrincipalFunction | undefined, trusted: new Set((trusted ?? []) as IdentityHeaders[]) };
}

function deaggregateOption(value: unknown): KinesisDeaggregate | false | undefined {
  if (value === undefined || value === false || typeof value === 'function') return value as KinesisDeaggregate | false | undefined;
  return invalidOption('handler', 'kinesisDeaggregate', "aws-kinesis-agg's deaggregateSync, or false", value);
}

/**
 * Checks `options` and `fn` and builds what the core runs.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option, e.g.
 *   `handler(): option "deadlineMarginMs" must be a whole number of milliseconds ≥ 0; got -1`.
 */
export function defineHandler(options: unknown, fn: unknown): Definition {
  // The function first: an entry point that names the factory itself (OpenWhisk `--main handler`
  // finds a top-level `handler` binding before the export) calls it with the event as `options`,
  // whose fields must not be quoted back as unknown options (a password parameter, a token).
  if (typeof fn !== 'function') {
    invalidOption('handler', 'fn', 'the function to wrap (handler(options, fn); an entry point naming handler itself calls it with the event)', fn);
  }
  if (typeof options !== 'object' || options === null) invalidOption('handler', 'options', 'an options object', options);
  const o = options as Record<string, unknown>;
  // An option handler() does not know is a typo or an old name (`timeout` for `timeoutMs`):
  // ignoring it would leave the default in force without a word (on Azure, a 5-minute deadline).
  checkKnownKeys('handler', '', o, OPTIONS);
  const input = o.input;
  if (input !== undefined && typeof (input as { safeParseAsync?: unknown } | null)?.safeParseAsync !== 'function') {
    invalidOption('handler', 'input', 'a zod schema', input);
  }
  const use = checkPlugins(o.use);
  oneOfOption('handler', 'provider', o.provider, PROVIDERS, 'direct');
  const name = o.name === undefined ? undefined : stringOption('handler', 'name', o.name);
  if (o.logSink !== undefined && typeof o.logSink !== 'function' && !isLogRecordSink(o.logSink)) {
    invalidOption('handler', 'logSink', 'a function (line: string) => void or a LogRecordSink { write(record) }', o.logSink);
  }
  const logLevel = o.logLevel === undefined ? undefined : oneOfOption('handler', 'logLevel', o.logLevel, LEVELS, 'info');
  return {
    input: input as Definition['input'],
    use,
    fn: fn as Definition['fn'],
    deadlineMarginMs: msOption('handler', 'deadlineMarginMs', o.deadlineMarginMs, 500, 0),
    logger: makeLogger(o.logSink as LogSink | LogRecordSink | undefined, name, logLevel),
    terminalErrors: oneOfOption('handler', 'terminalErrors', o.terminalErrors, ['fail', 'ack'] as const, 'fail'),
    timeoutMs: msOption('handler', 'timeoutMs', o.timeoutMs, 5 * 60_000),
    timeoutMsGiven: o.timeoutMs !== undefined,
    apiGatewayTimeoutMs: o.apiGatewayTimeoutMs === undefined ? undefined : msOption('handler', 'apiGatewayTimeoutMs', o.apiGatewayTimeoutMs, 29_000, 50),
    name,
    body: oneOfOption('handler', 'body', o.body, BODY_MODES, 'auto'),
    kinesisDeaggregate: deaggregateOption(o.kinesisDeaggregate),
    kafkaBatchItemFailures: oneOfOption('handler', 'kafkaBatchItemFailures', o.kafkaBatchItemFailures, [true, false] as const, false),
    principal: principalOption(o.principal, o.trustIdentityHeaders),
    snsEnvelope: oneOfOption('handler', 'snsEnvelope', o.snsEnvelope, ['unwrap', 'keep'] as const, 'unwrap'),
    eventBridgeEnvelope: oneOfOption('handler', 'eventBridgeEnvelope', o.eventBridgeEnvelope, ['read', 'keep'] as const, 'read'),
    openwhiskResultLimitBytes: intOption('handler', 'openwhiskResultLimitBytes', o.openwhiskResultLimitBytes, OPENWHISK_RESULT_LIMIT_BYTES, 1),
    openwhiskWebTimeoutMs: msOption('handler', 'openwhiskWebTimeoutMs', o.openwhiskWebTimeoutMs, OPENWHISK_WEB_TIMEOUT_MS),
    gcpResponseLimitBytes: intOption('handler', 'gcpResponseLimitBytes', o.gcpResponseLimitBytes, GCF_RESPONSE_LIMIT_BYTES, 1),
    gcpPubSubPush: oneOfOption('handler', 'gcpPubSubPush', o.gcpPubSubPush, [true, false] as const, false),
    gcpSchedulerHttp: oneOfOption('handler', 'gcpSchedulerHttp', o.gcpSchedulerHttp, [true, false] as const, false),
    methods: methodsOption(o.methods),
    ...planPlugins(use),
  };
}
