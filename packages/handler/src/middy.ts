/**
 * `@steadyfn/handler/middy`: steadyfn plugins as middy middlewares (AWS Lambda), for teams
 * already on `@middy/core` and Powertools — adopt one piece at a time. `@middy/core` is not a
 * dependency: the types are structural.
 *
 * @example
 * import middy from '@middy/core';
 * import { middyPlugin, steadyHandler, toMiddy } from '@steadyfn/handler/middy';
 * export const main = middy(middyPlugin())
 *   .use(injectLambdaContext(logger))
 *   .use(toMiddy(idempotency({ store, ttlMs: 86_400_000 })))
 *   .handler(steadyHandler(async (event, context, ctx) => ({ statusCode: 201, body: ctx.requestId })));
 *
 * @packageDocumentation
 */
export { toMiddy } from './middy/middleware.js';
export type { MiddyMiddleware, MiddyOptions } from './middy/middleware.js';
export { steadyHandler, steadyContext } from './middy/handler.js';
export { middyPlugin } from './middy/plugin.js';
export type { MiddyPluginLike } from './middy/plugin.js';
export type { MiddyHandlerLike } from './middy/handler.js';
export type { MiddyRequestLike } from './middy/request.js';
