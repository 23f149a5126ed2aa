// An OpenWhisk Node.js action (CommonJS, as the runtime loads a zipped package's `main`).
// Create it as a web action: `wsk action create orders action.zip --kind nodejs:22 --web true`,
// or bind it to a Kafka feed trigger. Failures are returned as `{ error }`, never thrown,
// so the container and its warm connections survive.
const { handler, TerminalError } = require('@steadyfn/handler');
const { z } = require('zod');

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

const main = handler({ input: Order }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

exports.main = main;
