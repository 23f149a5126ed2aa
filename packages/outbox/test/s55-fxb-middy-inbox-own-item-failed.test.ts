/**
 * The inbox under middy (`toMiddy(inbox)`), one SQS message per event, the handler answering
 * Lambda's partial batch response itself. When it reports its own message failed
 * (`{ batchItemFailures: [{ itemIdentifier: messageId }] }`), SQS redelivers the message: the
 * inbox must release the event's claims, so the redelivery runs the effect (before: the event
 * was completed, the redelivery answered `{ duplicate: true }` and deleted, the effect lost).
 * On real Redis, real `@middy/core`.
 */
import { randomUUID } from 'node:crypto';
// @middy/core is a dev dependency of @steadyfn/handler, not of this package: taken from there.
import middy from '../../handler/node_modules/@middy/core/index.js';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { idempotency, redisStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { outbox, redisOutbox } from '../src/index.js';
import { lambdaContext, sqsRecord, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const backend = useRedis('redis');

/** One serialized OrderPaid event of a fresh aggregate (seq 1: no gap check). */
const freshEvent = () => {
  const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
  return { id: event.id, body: serializeEvent(event, 1) };
};

/** A shipping consumer on middy; `fail(n)` says whether call n reports its message failed. */
function shipping(fail: (call: number) => boolean) {
  const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
  const effects: string[] = [];
  let calls = 0;
  const main = middy()
    .use(toMiddy(inbox({ store, consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), { name: 'ship', logSink: () => undefined }))
    .handler(
      steadyHandler(async (event: any, _context, ctx) => {
        const messageId = event.Records[0].messageId as string;
        if (fail(++calls)) return { batchItemFailures: [{ itemIdentifier: messageId }] };
        effects.push((ctx as unknown as { inbox: { event: { id: string } } }).inbox.event.id);
        return { batchItemFailures: [] };
      }),
    );
  return { main, effects, calls: () => calls };
}

describe('toMiddy(inbox): the handler reports its own message failed', () => {
  it('the claims are released: the redelivery (same messageId) runs the effect, once', async () => {
    const { main, effects, calls } = shipping((n) => n === 1);
    const { id, body } = freshEvent();
    const messageId = randomUUID();
    const deliver = (attempt: number) => main({ Records: [sqsRecord(body, { attempt, messageId, receiptHandle: randomUUID() })] } as never, lambdaContext() as never);

    expect(await deliver(1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(effects).toEqual([]);
    // Redelivered: runs (completed claims would answer { duplicate: true }, the effect never done).
    expect(await deliver(2)).toEqual({ batchItemFailures: [] });
    expect(effects).toEqual([id]);
    // Now handled: a third delivery is a duplicate.
    expect(await deliver(3)).toEqual({ duplicate: true, eventId: id });
    expect(effects).toEqual([id]);
    expect(calls()).toBe(2);
  });

  it('the mirror: { batchItemFailures: [] } completes the event; its redelivery is a duplicate', async () => {
    const { main, effects, calls } = shipping(() => false);
    const { id, body } = freshEvent();
    const record = sqsRecord(body);
    expect(await main({ Records: [record] } as never, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
    expect(await main({ Records: [{ ...record, receiptHandle: randomUUID() }] } as never, lambdaContext() as never)).toEqual({ duplicate: true, eventId: id });
    expect(effects).toEqual([id]);
    expect(calls()).toBe(1);
  });
});

describe('toMiddy(inbox) with toMiddy(outbox) (Redis mode, joining the inbox key)', () => {
  it('a run that reports its message failed writes nothing; the redelivery writes once', async () => {
    const shippedEvents = { OrderShipped: { aggregateType: 'order', schema: z.object({}) } };
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    let calls = 0;
    const main = middy()
      .use(toMiddy(inbox({ store, consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), { name: 'ship', logSink: () => undefined }))
      .use(toMiddy(outbox({ events: shippedEvents, store: redisOutbox({ client: () => backend.client, prefix: backend.prefix }) })))
      .handler(
        steadyHandler(async (event: any, _context, ctx: any) => {
          const e = ctx.inbox.event;
          ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${e.aggregateId}}`, 'count', 1);
          ctx.outbox.add({ type: 'OrderShipped', aggregateId: e.aggregateId, payload: {} });
          return { batchItemFailures: ++calls === 1 ? [{ itemIdentifier: event.Records[0].messageId }] : [] };
        }),
      );
    const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
    const body = serializeEvent(event, 1);
    const messageId = randomUUID();
    const deliver = (attempt: number) => main({ Records: [sqsRecord(body, { attempt, messageId, receiptHandle: randomUUID() })] } as never, lambdaContext() as never);
    expect(await deliver(1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    // The failed run's staged effects are dropped, as a throw's are (before: written, the run failed).
    expect(await backend.client.hget(`${backend.prefix}shipments:{${event.aggregateId}}`, 'count')).toBeNull();
    expect(await deliver(2)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
    expect(await backend.client.hget(`${backend.prefix}shipments:{${event.aggregateId}}`, 'count')).toBe('1');
    expect(await backend.client.xlen(`${backend.prefix}{${event.aggregateId}}:events`)).toBe(1);
  });
});

describe('toMiddy(idempotency) with toMiddy(outbox) (Redis mode): the outbox write joins the record', () => {
  it('a run that reports its message failed: no completion joined, the redelivery runs and writes once', async () => {
    const shippedEvents = { OrderShipped: { aggregateType: 'order', schema: z.object({}) } };
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const aggregateId = `o-${randomUUID()}`;
    let calls = 0;
    const main = middy()
      .use(toMiddy(idempotency({ store, ttlMs: 60_000, localCache: false }), { name: 'ship', logSink: () => undefined }))
      .use(toMiddy(outbox({ events: shippedEvents, store: redisOutbox({ client: () => backend.client, prefix: backend.prefix }) })))
      .handler(
        steadyHandler(async (event: any, _context, ctx: any) => {
          ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${aggregateId}}`, 'count', 1);
          ctx.outbox.add({ type: 'OrderShipped', aggregateId, payload: {} });
          return { batchItemFailures: ++calls === 1 ? [{ itemIdentifier: event.Records[0].messageId }] : [] };
        }),
      );
    const messageId = randomUUID();
    const deliver = (attempt: number) => main({ Records: [sqsRecord('{}', { attempt, messageId, receiptHandle: randomUUID() })] } as never, lambdaContext() as never);
    expect(await deliver(1)).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    // Redelivered: runs (a joined completion would replay the failure on every redelivery).
    expect(await deliver(2)).toEqual({ batchItemFailures: [] });
    expect(await deliver(3)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(2);
    expect(await backend.client.hget(`${backend.prefix}shipments:{${aggregateId}}`, 'count')).toBe('1');
    expect(await backend.client.xlen(`${backend.prefix}{${aggregateId}}:events`)).toBe(1);
  });
});
