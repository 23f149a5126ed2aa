// The orders application's functions. Each is a plain `handler(...)`: the same code runs as a
// Lambda handler, a Cloud Function, an Azure Function or an OpenWhisk action.
import { redisSource, redisTarget, snapshotBackup, verifyBackup } from '@steadyfn/backup';
import { handler, httpResult, TerminalError } from '@steadyfn/handler';
import { canonicalHash, idempotency, parseIdempotencyKeyHeader } from '@steadyfn/idempotency';
import { inbox } from '@steadyfn/outbox';
import { state } from '@steadyfn/state';
import { z } from 'zod';
import { backupStorage, catalog, client, keys, orders, records, workflow } from './app.mjs';
import { steps } from './workflow.mjs';

const NewOrder = z.object({
  customerId: z.string().min(1).max(64),
  items: z.array(z.object({ sku: z.string().min(1).max(64), qty: z.number().int().positive().max(100) })).min(1).max(50),
});

/**
 * POST /orders with an `Idempotency-Key` header. A retry with the same key replays the first
 * answer; the order and its OrderPlaced event are written in one script, then sent to SQS.
 */
export const createOrder = handler(
  {
    name: 'create-order',
    // Only POST places an order: a GET (a link preview, a crawler) is answered 405.
    methods: ['POST'],
    input: NewOrder,
    use: [idempotency({ store: records, ttlMs: 86_400_000, key: 'header' }), state(catalog), orders],
  },
  async (order, ctx) => {
    const lines = order.items.map(({ sku, qty }) => {
      const product = ctx.state.catalog[sku];
      if (!product) throw new TerminalError('UNKNOWN_SKU', `There is no product ${sku}`);
      return { sku, qty, priceCents: product.priceCents };
    });
    const totalCents = lines.reduce((sum, line) => sum + line.qty * line.priceCents, 0);
    // The order id comes from the customer and the Idempotency-Key, so a retry after a crash
    // lands on the same order, whose write the outbox then refuses to repeat.
    // The idempotency plugin has already refused a request without one valid Idempotency-Key.
    const header = ctx.trigger.kind === 'http' ? parseIdempotencyKeyHeader(ctx.trigger.request.headers['idempotency-key'] ?? '') : undefined;
    if (!header?.ok) throw new TerminalError('IDEMPOTENCY_KEY_MISSING', 'An order needs one valid Idempotency-Key header');
    const orderId = `o-${canonicalHash([order.customerId, header.key]).slice(0, 20)}`;
    const placedAt = new Date().toISOString();
    const record = { status: 'placed', customerId: order.customerId, lines: JSON.stringify(lines), totalCents, placedAt };
    ctx.outbox.call('HSET', keys.order(orderId), ...Object.entries(record).flat());
    ctx.outbox.add({
      type: 'OrderPlaced',
      aggregateId: orderId,
      payload: { customerId: order.customerId, lines, totalCents },
      change: { op: 'insert', after: { orderId, ...record, lines } },
    });
    return httpResult({ status: 201, headers: { location: `/orders/${orderId}` }, body: { orderId, status: 'placed', totalCents } });
  },
);

/**
 * The order-events queue's consumer: each event once (the inbox), running the workflow step it
 * calls for. The inbox comes before the outbox, so the step's write commits before the event
 * is recorded as handled.
 */
export const orderEvents = handler(
  { name: 'order-events', use: [inbox({ store: records, consumer: 'order-workflow' }), state(catalog), orders, workflow] },
  async (_input, ctx) => {
    const event = ctx.inbox.event;
    const step = steps[event.type];
    return step ? step(event, ctx) : { step: 'none', type: event.type };
  },
);

/** On a schedule: sends what a crashed or timed-out flush left in the outbox. */
export const sweepOutbox = handler({ name: 'sweep-outbox' }, async (_input, ctx) => {
  const { metrics } = await orders.sweep(ctx);
  return { sent: metrics.sent, failed: metrics.failed, quarantined: metrics.quarantined };
});

/** Nightly: a snapshot of every order to S3 (it resumes where it stopped if it runs out of time). */
export const backupOrders = handler(
  { name: 'backup-orders' },
  snapshotBackup({ source: redisSource({ client, pattern: keys.orders }), target: backupStorage, job: 'orders' }),
);

/**
 * Every morning: the latest backup restored under a scratch prefix, counted and hashed against
 * its manifest, then removed. A failed drill fails the invocation, so the provider's alarm fires.
 */
const scratch = redisTarget({ client, keyPrefix: keys.drill });
export const restoreDrill = handler({ name: 'restore-drill' }, async (_input, ctx) => {
  const result = await verifyBackup({ backup: { storage: backupStorage, id: 'latest' }, level: 'drill', scratch }, ctx);
  return { backupId: result.backupId, records: result.records, restoreMs: result.drill?.restoreMs };
});
