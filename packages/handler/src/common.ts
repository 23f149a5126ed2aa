/** What every entry of `@steadyfn/handler` exports besides its `handler`. */
export { currentContext } from './context.js';
export { functionReturned, functionStarted } from './effects.js';
export { recoveredFrom } from './recovered.js';
export { httpResult, isHttpResult, isHttpResponse } from './response.js';
export type { HeaderValue, HttpResult, HttpResultInit, HttpResponse } from './response.js';
export {
  SteadyError,
  ValidationError,
  MalformedEventError,
  MethodNotAllowedError,
  DeadlineExceededError,
  RetryableError,
  TerminalError,
  TraceparentInvalidError,
  PrincipalInvalidError,
  KinesisAggregatedRecordError,
  ConfigurationError,
  httpError,
  toSteadyError,
  toProblem,
  toErrorSummary,
} from './errors.js';
export type { FieldIssue, ProblemDetails, SteadyErrorOptions } from './errors.js';
export { NotProcessedError } from './batch.js';
export { configFromEnv, emptyAsUnset } from './config-env.js';
export type { EnvSchema } from './config-env.js';
export { allow, deny, authorized, authorizerPolicy, isAuthorizerAnswer } from './events/authorizer.js';
export type { AuthorizerAnswer, AuthorizerContext, PolicyInit } from './events/authorizer.js';
export type { BodyMode } from './message.js';
export type { KinesisDeaggregate, KinesisRecordPayload, KinesisUserRecord } from './events/kinesis-aggregation.js';
export { MAX_JSON_DEPTH } from './internal/json.js';
export type { IdentityHeaders, Principal, PrincipalClaims, PrincipalFunction, PrincipalSource } from './principal.js';
export { createLogger, SECRET_FIELD_NAMES } from './logger.js';
export type { Logger, LogLevel, LogRecord, LogRecordSink, LogSink } from './logger.js';
export type { DirectOptions } from './providers/direct.js';
export type { HandlerFunction, HandlerOptions, InputOf, PluginsAdded, TriggerNarrowing } from './define.js';
export type {
  AuthorizerRequest,
  AuthorizerTrigger,
  BaseContext,
  BatchOrder,
  ChangeTrigger,
  Context,
  DirectTrigger,
  EarlyAnswer,
  EventTrigger,
  HttpRequest,
  HttpTrigger,
  InputSchema,
  Next,
  NotificationTrigger,
  Outcome,
  Plugin,
  Provider,
  QueueTrigger,
  ScheduleTrigger,
  SnsNotification,
  EventBridgeEventRef,
  StorageObject,
  StorageTrigger,
  StreamTrigger,
  TimerScheduleStatus,
  Trigger,
  TriggerKind,
  TriggerSchema,
} from './types.js';
