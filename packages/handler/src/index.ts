/**
 * `@steadyfn/handler`: the auto-detecting entry (every provider's adapter). For a bundle
 * that carries one provider only, import `@steadyfn/handler/aws`, `/gcp`, `/azure` or
 * `/openwhisk` instead: the same API, one adapter.
 *
 * @packageDocumentation
 */
export * from './common.js';
export { handler } from './handler.js';
export type { SteadyHandler } from './handler.js';
export { detectProvider } from './detect.js';
export type { KafkaBatchResponse, LambdaContext, SqsBatchResponse } from './providers/lambda.js';
export type { AzureCookie, AzureInvocationContext, AzureHttpResponse } from './providers/azure.js';
export type { OpenWhiskWebResult } from './providers/openwhisk.js';
