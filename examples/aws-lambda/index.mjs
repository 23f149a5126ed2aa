// Deploy with handler `index.main`. Wire it to an HTTP API route and to an SQS queue with
// `ReportBatchItemFailures` enabled: failed messages come back, the rest are deleted.
import { handler, TerminalError } from '@steadyfn/handler';
import { z } from 'zod';

const Order = z.object({ sku: z.string().min(1), qty: z.number().int().positive() });

export const main = handler({ input: Order }, async (order, ctx) => {
  if (order.sku === 'discontinued') throw new TerminalError('DISCONTINUED', 'This product is no longer sold');
  ctx.log.info('order accepted', { qty: order.qty, trigger: ctx.trigger.kind });
  return { accepted: true, sku: order.sku, qty: order.qty };
});
