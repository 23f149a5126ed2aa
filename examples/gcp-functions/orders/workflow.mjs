// The workflow steps: each moves an order one state along the table with its event, in one
// atomic write. The order-events consumer runs the step an event calls for; through the inbox,
// a redelivered event runs no step twice.

/** placed → validated, or rejected when a product is no longer sold. */
export async function validate(event, ctx) {
  const gone = event.payload.lines.filter((line) => !ctx.state.catalog[line.sku]);
  if (gone.length > 0) {
    const reason = `no longer sold: ${gone.map((line) => line.sku).join(', ')}`;
    await ctx.transition(event.aggregateId, 'placed', 'rejected', { type: 'OrderRejected', aggregateId: event.aggregateId, payload: { reason } });
    return { step: 'validate', status: 'rejected' };
  }
  await ctx.transition(event.aggregateId, 'placed', 'validated', { type: 'OrderValidated', aggregateId: event.aggregateId, payload: { totalCents: event.payload.totalCents } });
  return { step: 'validate', status: 'validated' };
}

/**
 * validated → paid. A real payment call goes here, with `ctx.inbox.key` as the payment
 * provider's idempotency key, so a redelivery never charges twice.
 */
export async function pay(event, ctx) {
  const paymentRef = `pay-${ctx.inbox.event.id}`;
  await ctx.transition(event.aggregateId, 'validated', 'paid', { type: 'OrderPaid', aggregateId: event.aggregateId, payload: { amountCents: event.payload.totalCents, paymentRef } });
  return { step: 'pay', status: 'paid' };
}

/** paid → dispatched. */
export async function dispatch(event, ctx) {
  await ctx.transition(event.aggregateId, 'paid', 'dispatched', { type: 'OrderDispatched', aggregateId: event.aggregateId, payload: { carrier: 'post' } });
  return { step: 'dispatch', status: 'dispatched' };
}

/** The step each event calls for; events without one (OrderDispatched, OrderRejected) end the flow. */
export const steps = { OrderPlaced: validate, OrderValidated: pay, OrderPaid: dispatch };
