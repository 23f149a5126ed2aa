/**
 * New-user trial finding (embedded mode, `ctx.outbox.updateOne(filter, update, options)`):
 * - a `filter` or `update` that is not an object (a variable left `undefined`) failed with an
 *   untyped `INTERNAL` — *retryable*, so a queue redelivered a programming error until its
 *   dead-letter queue — from a `TypeError` inside the outbox;
 * - `options` were not checked at all: a typo (`{ upsrt: true }`) or `upsert: 'yes'` was taken
 *   as "no upsert", and on a missing document the update answered `matched: false` with nothing
 *   said — unlike every factory of the package, which refuses an unknown key.
 * Each is now `OUTBOX_EVENT_INVALID` (terminal) naming the field (`filter`, `update`,
 * `options.upsrt`, `options.upsert`, `options.requestKey`), nothing written. FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox } from '../src/index.js';
import { useMongo } from './support.js';

const mongo = useMongo();

type Update = (...args: unknown[]) => Promise<unknown>;

describe('embedded updateOne: arguments that are not what it takes', () => {
  it.each<[string, unknown[], string]>([
    ['filter undefined', [undefined, { $set: { a: 1 } }], 'filter'],
    ['filter a string', ['o-1', { $set: { a: 1 } }], 'filter'],
    ['update undefined', [{ _id: 'o-1' }, undefined], 'update'],
    ['update an array', [{ _id: 'o-1' }, [{ $set: { a: 1 } }]], 'update'],
    ['options a string', [{ _id: 'o-1' }, { $set: { a: 1 } }, 'upsert'], 'options'],
    ['an unknown option', [{ _id: 'o-1' }, { $set: { a: 1 } }, { upsrt: true }], 'options.upsrt'],
    ['upsert not a boolean', [{ _id: 'o-1' }, { $set: { a: 1 } }, { upsert: 'yes' }], 'options.upsert'],
    ['requestKey a number', [{ _id: 'o-1' }, { $set: { a: 1 } }, { requestKey: 7 }], 'options.requestKey'],
  ])('%s: OUTBOX_EVENT_INVALID (terminal) naming the field, nothing written', async (_name, args, field) => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
    const lines: string[] = [];
    const pay = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (_input, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return (ctx.outbox.updateOne as unknown as Update)(...args);
    });
    const error = await pay.invoke({}, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field }] });
    expect(await mongo.db.collection(collection).countDocuments()).toBe(0);
  });

  it('the options it takes still pass', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
    const pay = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
      return ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { a: 1 } }, { upsert: true, requestKey: null, ...{ unused: undefined } } as never);
    });
    await expect(pay.invoke({}, { deliveryId: randomUUID() })).resolves.toMatchObject({ matched: true, upserted: true });
  });
});
