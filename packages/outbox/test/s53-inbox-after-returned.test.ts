/**
 * s53-fxn: a plugin listed after the inbox that fails once the function returned (its `after`
 * throws) used to release the event: the redelivery ran the function's effect a second time.
 * Now the inbox completes the event when the function returned (`functionReturned`), both in
 * `onError` and when an `onError` fallback recovered, so the redelivery is a duplicate — unless
 * the outbox's write joining the inbox's key failed (nothing was written): released, and the
 * redelivery writes once. A function that throws is still released. Real Redis, Redis Cluster
 * and FerretDB (idempotency `redisStore` / `mongoStore`), SQS records as Lambda hands them out.
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult, SteadyError, type Plugin, type SteadyHandler } from '@steadyfn/handler';
import { mongoStore, redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent } from '../src/envelope.js';
import { inbox } from '../src/inbox.js';
import { outbox, redisOutbox } from '../src/index.js';
import { lambdaContext, sqsRecord, useMongo, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const shipped = { OrderShipped: { aggregateType: 'order', schema: z.object({}) } };

/** One serialized OrderPaid event of a fresh aggregate (seq 1: no gap check). */
const freshEvent = () => {
  const event = prepareEvent(events, { type: 'OrderPaid', aggregateId: `o-${randomUUID()}`, payload: { amountCents: 1 } }, {});
  return { id: event.id, aggregateId: event.aggregateId, body: serializeEvent(event, 1) };
};

type Deliver = (attempt: number) => Promise<{ batchItemFailures: unknown[] }>;
const deliverer = (fn: SteadyHandler, body: string): Deliver =>
  async (attempt) => (await fn.aws({ Records: [sqsRecord(body, { attempt })] }, lambdaContext())) as { batchItemFailures: unknown[] };

/** A plugin whose `after` throws while `down`: retryable (503) or not (422). */
const audit = (retryable: boolean) => {
  const switchable = { down: true };
  const plugin: Plugin = {
    name: 'audit',
    after: () => {
      if (switchable.down) throw new SteadyError('AUDIT_FAILED', 'audit log unavailable', { status: retryable ? 503 : 422, retryable });
    },
  };
  return Object.assign(switchable, { plugin });
};

const fallback: Plugin = { name: 'fallback', onError: () => ({ answer: httpResult({ status: 202, body: { later: true } }) }) };

function afterReturnedCases(label: string, storeOf: () => IdempotencyStore) {
  describe(`${label}: a plugin after the inbox fails after the function returned`, () => {
    for (const retryable of [true, false]) {
      it(`audit.after throws (retryable: ${retryable}): the event is completed, the redelivery is a duplicate — one effect`, async () => {
        const effects: string[] = [];
        const a = audit(retryable);
        const ship = handler({ name: 'ship', logSink: () => undefined, use: [inbox({ store: storeOf(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), a.plugin] }, async (_input, ctx) => {
          effects.push(ctx.inbox.event.id);
        });
        const { id, body } = freshEvent();
        const deliver = deliverer(ship, body);
        const first = await deliver(1);
        if (retryable) expect(first.batchItemFailures).toHaveLength(1);
        expect(effects).toEqual([id]);
        a.down = false;
        expect((await deliver(2)).batchItemFailures).toEqual([]);
        expect(effects).toEqual([id]);
      });
    }

    it('audit.after throws and an onError fallback recovers: completed, the redelivery is a duplicate — one effect', async () => {
      const effects: string[] = [];
      const a = audit(true);
      const ship = handler({ name: 'ship', logSink: () => undefined, use: [inbox({ store: storeOf(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), fallback, a.plugin] }, async (_input, ctx) => {
        effects.push(ctx.inbox.event.id);
      });
      const { id, body } = freshEvent();
      const deliver = deliverer(ship, body);
      expect((await deliver(1)).batchItemFailures).toEqual([]);
      a.down = false;
      expect((await deliver(2)).batchItemFailures).toEqual([]);
      expect(effects).toEqual([id]);
    });

    it('control: the function throws — released, the redelivery runs it', async () => {
      const effects: string[] = [];
      let runs = 0;
      const ship = handler({ name: 'ship', logSink: () => undefined, use: [inbox({ store: storeOf(), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }), audit(true).plugin] }, async (_input, ctx) => {
        if (++runs === 1) throw new SteadyError('WAREHOUSE_DOWN', 'warehouse down', { status: 503, retryable: true });
        effects.push(ctx.inbox.event.id);
      });
      const { id, body } = freshEvent();
      const deliver = deliverer(ship, body);
      expect((await deliver(1)).batchItemFailures).toHaveLength(1);
      expect(effects).toEqual([]);
      // audit still down: its after fails this one too, after the function returned (completed).
      expect((await deliver(2)).batchItemFailures).toHaveLength(1);
      expect((await deliver(3)).batchItemFailures).toEqual([]);
      expect(effects).toEqual([id]);
      expect(runs).toBe(2);
    });
  });
}

for (const name of ['redis', 'cluster'] as const) {
  describe(`on ${name}`, () => {
    const backend = useRedis(name);
    afterReturnedCases(name, () => redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` }));

    it("control: the outbox's write joining the inbox key fails — released, the redelivery runs and writes once", async () => {
      let down = true;
      const real = backend.client;
      // The outbox's client: its scripts fail while `down` (nothing reaches the server).
      const failing = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if ((prop === 'evalsha' || prop === 'eval') && typeof value === 'function') {
            return (...args: unknown[]) => (down ? Promise.reject(Object.assign(new Error('connection lost'), { code: 'ECONNRESET' })) : (value as (...a: unknown[]) => unknown).apply(target, args));
          }
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      let runs = 0;
      const ship = handler(
        {
          name: 'ship',
          logSink: () => undefined,
          use: [
            inbox({ store: redisStore({ client: real, prefix: `${backend.prefix}idem:` }), consumer: `shipping-${randomUUID().slice(0, 8)}`, leaseMs: 60_000 }),
            outbox({ events: shipped, store: redisOutbox({ client: () => failing, prefix: backend.prefix }) }),
          ],
        },
        async (_input, ctx) => {
          runs++;
          const e = ctx.inbox.event;
          ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${e.aggregateId}}`, 'count', 1);
          ctx.outbox.add({ type: 'OrderShipped', aggregateId: e.aggregateId, payload: {} });
        },
      );
      const { aggregateId, body } = freshEvent();
      const deliver = deliverer(ship, body);
      expect((await deliver(1)).batchItemFailures).toHaveLength(1);
      expect(await real.hget(`${backend.prefix}shipments:{${aggregateId}}`, 'count')).toBeNull();
      down = false;
      expect((await deliver(2)).batchItemFailures).toEqual([]);
      expect((await deliver(3)).batchItemFailures).toEqual([]);
      expect(runs).toBe(2);
      expect(await real.hget(`${backend.prefix}shipments:{${aggregateId}}`, 'count')).toBe('1');
      expect(await real.xlen(`${backend.prefix}{${aggregateId}}:events`)).toBe(1);
    });
  });
}

describe('on FerretDB', () => {
  const mongo = useMongo();
  afterReturnedCases('ferretdb', () => mongoStore({ collection: mongo.db.collection('inbox') }));
});
