// An OpenWhisk Node.js action (CommonJS, as the runtime loads a zipped package's `main`).
// Create it as a web action: `wsk action create orders action.zip --kind nodejs:22 --web true`,
// or bind it to a Kafka feed trigger. Failures are returned as `{ error }`, never thrown,
// so the container and its warm connections survive.
const { connections } = require('@steadyfn/connections');
const { redis } = require('@steadyfn/connections/redis');
const { handler, TerminalError } = require('@steadyfn/handler');
const { z } = require('zod');

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

// Module scope: one Redis client per instance (REDIS_URL), reused by warm invocations and
// checked after a thaw. Only ioredis is needed: the other drivers have entries of their own.
const cache = redis();

const main = handler({ input: Order, use: [connections({ redis: cache })] }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  // Units accepted per product: a write, so it is never sent twice blindly.
  await ctx.redis.hincrby('steadyfn:example:accepted', order.sku, order.qty);
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

exports.main = main;
