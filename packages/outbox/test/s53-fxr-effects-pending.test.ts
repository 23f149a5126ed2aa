/**
 * s53-fxr (review rvm3): `functionReturned` let the inbox and idempotency complete the event or
 * record when a plugin listed *after* the outbox failed once the function returned — but that
 * plugin's `after` runs before the outbox's, whose write (the function's staged state change and
 * events) was then never made: the redelivery was a duplicate, the effect lost. The outbox now
 * marks the effects pending (`markEffectsPending`) in its `extend` (s53: `before`) and clears the mark once its
 * write committed: a failure before it releases (the retry writes once), one after it (a plugin
 * listed before the outbox) still completes. Real Redis, Redis Cluster not needed; FerretDB for
 * embedded mode.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { idempotency, mongoStore, redisStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { mongoEmbeddedOutbox, outbox, redisOutbox } from '../src/index.js';
import { lambdaContext, sqsRecord, useMongo, useRedis } from './support.js';
import { audit, codeOf, paidEvents, shipped } from './after-failures.js';

describe('on redis: a plugin listed after the outbox fails after the function returned', () => {
  const backend = useRedis('redis');
  const idem = () => redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
  const store = () => redisOutbox({ client: backend.client, prefix: backend.prefix });
  const countOf = (id: string) => backend.client.hget(`${backend.prefix}shipments:{${id}}`, 'count');
  const eventsOf = (id: string) => backend.client.xlen(`${backend.prefix}{${id}}:events`);

  it('inbox: the event is released (the outbox never wrote), the redelivery writes once', async () => {
    const a = audit();
    let runs = 0;
    const ship = handler(
      { name: 'ship', logSink: () => undefined, use: [inbox({ store: idem(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), outbox({ events: shipped, store: store() }), a] },
      async (_input, ctx) => {
        runs++;
        const e = ctx.inbox.event;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${e.aggregateId}}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: e.aggregateId, payload: {} });
      },
    );
    const event = prepareEvent(paidEvents, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const deliver = async (attempt: number) => (await ship.aws({ Records: [sqsRecord(body, { attempt })] }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect((await deliver(1)).batchItemFailures).toHaveLength(1);
    expect(await countOf(event.aggregateId)).toBeNull();
    a.down = false;
    expect((await deliver(2)).batchItemFailures).toEqual([]);
    expect((await deliver(3)).batchItemFailures).toEqual([]);
    expect(runs).toBe(2);
    expect(await countOf(event.aggregateId)).toBe('1');
    expect(await eventsOf(event.aggregateId)).toBe(1);
  });

  it('idempotency: the record is released (the outbox never wrote), the retry writes once', async () => {
    const a = audit();
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: idem(), ttlMs: 3_600_000, localCache: false }), outbox({ events: shipped, store: store() }), a] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: id, payload: {} });
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf)).toBe('AUDIT_FAILED');
    expect(await countOf(id)).toBeNull();
    a.down = false;
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(runs).toBe(2);
    expect(await countOf(id)).toBe('1');
    expect(await eventsOf(id)).toBe(1);
  });

  it('positive: a plugin listed before the outbox fails after its write committed — completed, one write, the retry replays', async () => {
    const a = audit();
    let runs = 0;
    const id = `o-${randomUUID()}`;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: idem(), ttlMs: 3_600_000, localCache: false }), a, outbox({ events: shipped, store: store() })] },
      async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${id}}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: id, payload: {} });
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf)).toBe('AUDIT_FAILED');
    expect(await countOf(id)).toBe('1');
    a.down = false;
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() })).toEqual({ paid: true });
    expect(runs).toBe(1);
    expect(await countOf(id)).toBe('1');
    expect(await eventsOf(id)).toBe(1);
  });
});

describe('on FerretDB embedded: the outbox write fails after the function returned', () => {
  const mongo = useMongo();

  it('an event for a document no update wrote: the record is not completed with the result, the retry does not answer 200', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection, aggregateType: 'order', writeLease: mongo.lease });
    const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
    await docs.insertMany([{ _id: 'a', status: 'new' }, { _id: 'b', status: 'new' }]);
    let runs = 0;
    const pay = handler(
      { name: `pay-${randomUUID()}`, logSink: () => undefined, use: [idempotency({ store: mongoStore({ collection: mongo.db.collection(`idem_${collection}`) }), ttlMs: 3_600_000, localCache: false }), outbox({ events: shipped, store })] },
      async (_input, ctx) => {
        runs++;
        await ctx.outbox.updateOne({ _id: 'a' }, { $set: { status: 'paid' } });
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: 'b', payload: {} });
        return { paid: true };
      },
    );
    const deliveryId = randomUUID();
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf)).toBe('OUTBOX_EVENT_INVALID');
    // Not `{ paid: true }` with B's event lost: the failure is answered again (replayed or run again).
    expect(await pay.invoke({}, { deliveryId, requestId: randomUUID() }).catch(codeOf)).toBe('OUTBOX_EVENT_INVALID');
    expect(runs).toBeGreaterThanOrEqual(1);
  });
});
