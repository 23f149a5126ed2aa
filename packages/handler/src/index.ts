export { handler } from './handler.js';
export type { HandlerOptions, HandlerFunction, InputOf, PluginsAdded, SteadyHandler } from './handler.js';
export { currentContext } from './invoke.js';
export { detectProvider } from './detect.js';
export { httpResult, isHttpResult, toHttpResponse } from './http.js';
export type { HttpResult, HttpResultInit, HttpResponse } from './http.js';
export {
  SteadyError,
  ValidationError,
  MalformedEventError,
  DeadlineExceededError,
  RetryableError,
  TerminalError,
  ConfigurationError,
  httpError,
  toSteadyError,
  toProblem,
  toErrorSummary,
} from './errors.js';
export type { FieldIssue, ProblemDetails, SteadyErrorOptions } from './errors.js';
export { NotProcessedError } from './invoke.js';
export { allow, deny, authorized, authorizerPolicy, isAuthorizerAnswer } from './events/authorizer.js';
export type { AuthorizerAnswer, AuthorizerContext, PolicyInit } from './events/authorizer.js';
export type { BodyMode } from './message.js';
export { MAX_JSON_DEPTH } from './internal/json.js';
export { createLogger } from './logger.js';
export type { Logger, LogLevel, LogSink } from './logger.js';
export type { LambdaContext, SqsBatchResponse } from './providers/lambda.js';
export type { AzureInvocationContext, AzureHttpResponse } from './providers/azure.js';
export type { OpenWhiskWebResult } from './providers/openwhisk.js';
export type { DirectOptions } from './providers/direct.js';
export type {
  AuthorizerRequest,
  AuthorizerTrigger,
  BaseContext,
  ChangeTrigger,
  Context,
  DirectTrigger,
  EarlyAnswer,
  EventTrigger,
  HttpRequest,
  HttpTrigger,
  InputSchema,
  NotificationTrigger,
  Outcome,
  Plugin,
  Provider,
  QueueTrigger,
  ScheduleTrigger,
  StorageObject,
  StorageTrigger,
  StreamTrigger,
  Trigger,
  TriggerKind,
} from './types.js';
