// Azure Functions v4 programming model: one wrapped function for an HTTP route and a
// storage queue. Set `timeoutMs` to the `functionTimeout` of host.json.
import azure from '@azure/functions';
import { handler, TerminalError } from '@steadyfn/handler';
import { z } from 'zod';

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

export const main = handler({ input: Order, timeoutMs: 5 * 60_000 }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

azure.app.http('orders', { methods: ['POST'], authLevel: 'function', handler: main });
azure.app.storageQueue('orderMessages', { queueName: 'orders', connection: 'AzureWebJobsStorage', handler: main });
