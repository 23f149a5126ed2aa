/**
 * Review finding (fresh-eyes review, obx): `ctx.outbox` stayed usable after the invocation's
 * write. A function that forgot an `await` — a helper that adds its event after an awaited
 * call, left running when the function returned — had that event (and, in Redis mode, its
 * `call`s) staged after the one atomic write had run: nothing ever wrote it, and nothing said
 * so; the function had answered success. In embedded mode the late `updateOne` wrote state and
 * event after the invocation had ended (after its idempotency completion and its flush).
 * `add`, `check`, `call` and `updateOne` now throw `OUTBOX_EVENT_INVALID` once the outbox's
 * write has run (the invocation's `after`, `onError`), so the mistake shows instead of an event
 * lost or written outside its invocation. Redis and the embedded outbox on FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox, redisOutbox } from '@steadyfn/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openMongo, openRedis, type MongoBackend, type RedisBackend } from './support.js';

let redis: RedisBackend;
let mongo: MongoBackend;
beforeAll(async () => {
  redis = await openRedis('redis');
  mongo = await openMongo();
});
afterAll(async () => {
  await redis?.close();
  await mongo?.close();
});

const events = { Noted: { aggregateType: 'order', schema: z.object({}) } };

/** Runs `late` after the function returned (a promise nobody awaited) and settles with what it threw. */
function afterReturn(late: () => unknown): { outcome: Promise<unknown> } {
  const outcome = new Promise<unknown>((resolve) =>
    setTimeout(async () => {
      try {
        await late();
        resolve('accepted');
      } catch (error) {
        resolve((error as { code?: unknown }).code);
      }
    }, 20),
  );
  return { outcome };
}

describe('ctx.outbox used after the invocation wrote', () => {
  it('Redis: a late add or call is refused (typed), not dropped without a word', async () => {
    const prefix = `${redis.prefix}outbox:`;
    const orders = outbox({ events, store: redisOutbox({ client: redis.client, prefix }) });
    const late: Array<Promise<unknown>> = [];
    const note = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'n', '1');
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      late.push(afterReturn(() => ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} })).outcome);
      late.push(afterReturn(() => ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'n', '2')).outcome);
      return 'ok';
    });
    await expect(note.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('ok');
    expect(await Promise.all(late)).toEqual(['OUTBOX_EVENT_INVALID', 'OUTBOX_EVENT_INVALID']);
    expect(await redis.client.xlen(`${prefix}{o-1}:events`)).toBe(1);
    expect(await redis.client.hget(`${redis.prefix}order:{o-1}`, 'n')).toBe('1');
  });

  it('embedded: a late updateOne is refused, nothing written after the invocation', async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const orders = outbox({ events, store: mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease }) });
    const late: Array<Promise<unknown>> = [];
    const note = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: {} });
      await ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { a: 1 } }, { upsert: true });
      late.push(afterReturn(() => ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { b: 1 } })).outcome);
      return 'ok';
    });
    await expect(note.invoke({}, { deliveryId: randomUUID() })).resolves.toBe('ok');
    expect(await Promise.all(late)).toEqual(['OUTBOX_EVENT_INVALID']);
    expect(await mongo.db.collection(collection).findOne({ _id: 'o-1' as never }, { projection: { a: 1, b: 1, _outboxSeq: 1 } })).toEqual({ _id: 'o-1', a: 1, _outboxSeq: 1 });
  });
});
