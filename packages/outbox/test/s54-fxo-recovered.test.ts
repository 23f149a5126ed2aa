/**
 * s54-fxo (review rvx): an inner plugin's `onError` fallback that recovers — listed after the
 * outbox, so the recovered answer flows out through the outbox's `after` (onion order).
 *
 * - The function failed (its run staged a write, then threw): the outbox wrote the failed run's
 *   staged state change and events, and the idempotency completion joined that write with the
 *   fallback's answer — the key replayed the fallback for ever, the function never ran again; the
 *   inbox's request marker kept the failed attempt's write and dropped the redelivery's as a
 *   duplicate (a lost effect). Now nothing staged by a failed run is written (as in `onError`).
 * - The function returned and a plugin after it failed (`x.after`), the fallback recovered: the
 *   outbox wrote with the fallback's answer as the key's answer. Now the function's own result.
 *
 * Real Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler, SteadyError } from '@steadyfn/handler';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { outbox, redisOutbox } from '../src/index.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';
import { audit, fallback, paidEvents, shipped } from './after-failures.js';

const unavailable = () => new SteadyError('WAREHOUSE_DOWN', 'warehouse unavailable', { status: 503, retryable: true });

describe('on redis: an onError fallback listed after the outbox recovers', () => {
  const backend = useRedis('redis');
  const idem = () => redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
  const store = () => redisOutbox({ client: backend.client, prefix: backend.prefix });
  const countOf = (id: string) => backend.client.hget(`${backend.prefix}shipments:{${id}}`, 'count');
  const eventsOf = (id: string) => backend.client.xlen(`${backend.prefix}{${id}}:events`);

  it('idempotency: the failed run writes nothing and the fallback is not the key\'s answer; the retry runs and writes once', async () => {
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: idem(), ttlMs: 3_600_000, localCache: false }), outbox({ events: shipped, store: store() }), fallback] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: id, payload: {} });
        if (runs === 1) throw unavailable();
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ fallback: true });
    expect(await countOf(id)).toBeNull();
    expect(await eventsOf(id)).toBe(0);
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(runs).toBe(2);
    expect(await countOf(id)).toBe('1');
    expect(await eventsOf(id)).toBe(1);
  });

  it('inbox: the failed delivery writes nothing; the redelivery\'s write is the one kept (not dropped as a duplicate)', async () => {
    let runs = 0;
    const ship = handler(
      { name: 'ship', logSink: () => undefined, use: [inbox({ store: idem(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), outbox({ events: shipped, store: store() }), fallback] },
      async (_input, ctx) => {
        runs++;
        const e = ctx.inbox.event;
        ctx.outbox.call('HSET', `${backend.prefix}shipments:{${e.aggregateId}}`, `attempt${runs}`, 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: e.aggregateId, payload: {} });
        if (runs === 1) throw unavailable();
      },
    );
    const event = prepareEvent(paidEvents, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const deliver = async (attempt: number) => (await ship.aws({ Records: [sqsRecord(body, { attempt })] }, lambdaContext())) as { batchItemFailures: unknown[] };
    // Recovered: the fallback answered for the message (no batch item failure); SQS may deliver it again.
    expect((await deliver(1)).batchItemFailures).toEqual([]);
    expect(await backend.client.hgetall(`${backend.prefix}shipments:{${event.aggregateId}}`)).toEqual({});
    expect((await deliver(2)).batchItemFailures).toEqual([]);
    expect((await deliver(3)).batchItemFailures).toEqual([]);
    expect(runs).toBe(2);
    expect(await backend.client.hgetall(`${backend.prefix}shipments:{${event.aggregateId}}`)).toEqual({ attempt2: '1' });
    expect(await eventsOf(event.aggregateId)).toBe(1);
  });

  it('the function returned, a plugin after it failed, the fallback recovered: the key\'s answer is the function\'s result', async () => {
    const x = audit();
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: idem(), ttlMs: 3_600_000, localCache: false }), outbox({ events: shipped, store: store() }), fallback, x] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: id, payload: {} });
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    // This caller gets the fallback's answer; the effects are written (the function returned).
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ fallback: true });
    expect(await countOf(id)).toBe('1');
    x.down = false;
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(runs).toBe(1);
    expect(await countOf(id)).toBe('1');
    expect(await eventsOf(id)).toBe(1);
  });
});
