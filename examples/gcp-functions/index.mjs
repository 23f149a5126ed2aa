// Deploy twice from the same source: `--target=orders --trigger-http` and
// `--target=orderMessages --trigger-topic=orders`. The same wrapped function serves both.
import functions from '@google-cloud/functions-framework';
import { handler, TerminalError } from '@steadyfn/handler';
import { z } from 'zod';

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

export const main = handler({ input: Order }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});

functions.http('orders', main);
functions.cloudEvent('orderMessages', main);
