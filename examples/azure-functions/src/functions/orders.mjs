// Azure Functions v4 programming model: one wrapped function for an HTTP route and a
// storage queue. Set `timeoutMs` to the `functionTimeout` of host.json.
import azure from '@azure/functions';
import { connections } from '@steadyfn/connections';
import { redis } from '@steadyfn/connections/redis';
import { handler, TerminalError } from '@steadyfn/handler';
import { z } from 'zod';

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

// Module scope: one Redis client per instance (REDIS_URL), reused by warm invocations and
// checked after a thaw. Only ioredis is needed: the other drivers have entries of their own.
const cache = redis();

export const main = handler({ input: Order, timeoutMs: 5 * 60_000, use: [connections({ redis: cache })] }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  // Units accepted per product: a write, so it is never sent twice blindly.
  await ctx.redis.hincrby('steadyfn:example:accepted', order.sku, order.qty);
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

azure.app.http('orders', { methods: ['POST'], authLevel: 'function', handler: main });
azure.app.storageQueue('orderMessages', { queueName: 'orders', connection: 'AzureWebJobsStorage', handler: main });
