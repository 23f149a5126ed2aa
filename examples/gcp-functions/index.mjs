// Deploy twice from the same source: `--target=orders --trigger-http` and
// `--target=orderMessages --trigger-topic=orders`. The same wrapped function serves both.
import functions from '@google-cloud/functions-framework';
import { connections } from '@steadyfn/connections';
import { redis } from '@steadyfn/connections/redis';
import { handler, TerminalError } from '@steadyfn/handler';
import { z } from 'zod';

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

// Module scope: one Redis client per instance (REDIS_URL), reused by warm invocations and
// checked after a thaw. Only ioredis is needed: the other drivers have entries of their own.
const cache = redis();

export const main = handler({ input: Order, use: [connections({ redis: cache })] }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  // Units accepted per product: a write, so it is never sent twice blindly.
  await ctx.redis.hincrby('steadyfn:example:accepted', order.sku, order.qty);
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

functions.http('orders', main);
functions.cloudEvent('orderMessages', main);
