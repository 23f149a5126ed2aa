/**
 * s55-fxe (review rvo), `transitions({ alsoSet })`: the transition's `$set` (or `HSET`) was
 * `{ [field]: to, ...alsoSet(from, to) }`, so an `alsoSet` returning the state field overrode
 * `to` — `validated → paid` landed in `dispatched`, with `OrderPaid` written. It is now refused
 * when the transition is called, a terminal `CONFIG_INVALID` (field `alsoSet`), before the
 * event is staged: nothing written. In MongoDB modes so are keys of the outbox (`_outbox…`),
 * operators (`$…`) and paths inside the state field (`status.…`). In Redis mode a value a hash
 * cannot hold (`undefined`, `NaN`) failed only at the write, as `OUTBOX_EVENT_INVALID` field
 * `commands.0.5`; it is now `CONFIG_INVALID` naming `alsoSet.<key>`. The functions catch the
 * refusal and return: an event left staged would fail the invocation or be written. FerretDB and Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mongoEmbeddedOutbox, outbox, redisOutbox, transitions } from '../src/index.js';
import { openRedis, useMongo, type RedisBackend } from './support.js';

const mongo = useMongo();
let redis: RedisBackend;
beforeAll(async () => {
  redis = await openRedis('redis');
});
afterAll(async () => {
  await redis?.close();
});

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;
type Fields = Record<string, unknown>;
/** What the transition threw (caught by the function, which then returns: nothing of it may be staged). */
const refusal = (e: unknown) => ({ code: (e as { code?: unknown }).code, field: (e as { field?: unknown }).field });
const at = new Date('2026-12-07T12:00:00.000Z');

describe('transitions alsoSet, embedded mode (FerretDB)', () => {
  const setup = async () => {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db, collection, aggregateType: 'order', writeLease: mongo.lease });
    const docs = mongo.db.collection<{ _id: string } & Fields>(collection);
    let extra: Fields = {};
    const flow = transitions({ table, store, alsoSet: () => extra });
    const pay = handler({ use: [outbox({ events, store }), flow], logSink: () => undefined }, async (_input: unknown, ctx) =>
      ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }).catch(refusal),
    );
    const attempt = async (fields: Fields) => {
      await docs.deleteOne({ _id: 'o-1' });
      await docs.insertOne({ _id: 'o-1', status: 'validated' });
      extra = fields;
      const answer = await pay.invoke({}, { deliveryId: randomUUID() });
      return { answer, doc: await docs.findOne({ _id: 'o-1' }) };
    };
    return { attempt };
  };

  it('an alsoSet returning the state field is CONFIG_INVALID (field alsoSet); the state stays, no event', async () => {
    const { attempt } = await setup();
    const { answer, doc } = await attempt({ status: 'dispatched', paidAt: at });
    expect(answer).toEqual({ code: 'CONFIG_INVALID', field: 'alsoSet' });
    expect(doc).toEqual({ _id: 'o-1', status: 'validated' });
  });

  it('so are an _outbox key, an operator and a path inside the state field; a plain field is set with the state', async () => {
    const { attempt } = await setup();
    for (const key of ['_outboxCount', '$inc', 'status.at']) {
      const { answer, doc } = await attempt({ [key]: 1 });
      expect(answer, key).toEqual({ code: 'CONFIG_INVALID', field: 'alsoSet' });
      expect(doc, key).toEqual({ _id: 'o-1', status: 'validated' });
    }
    const { answer, doc } = await attempt({ paidAt: at, 'audit.by': 'api' });
    expect(answer).toEqual({ duplicate: false });
    expect(doc).toMatchObject({ status: 'paid', paidAt: at, audit: { by: 'api' } });
    expect((doc?._outbox as Array<{ t: string }>).map((e) => e.t)).toEqual(['OrderPaid']);
  });
});

describe('transitions alsoSet, Redis mode', () => {
  const setup = async () => {
    const prefix = `${redis.prefix}${randomUUID().slice(0, 8)}:`;
    const key = (id: string) => `${prefix}order:{${id}}`;
    const store = redisOutbox({ client: redis.client, prefix: `${prefix}outbox:` });
    let extra: Fields = {};
    const flow = transitions({ table, store, redisKey: key, alsoSet: () => extra });
    const pay = handler({ use: [outbox({ events, store }), flow], logSink: () => undefined }, async (_input: unknown, ctx) =>
      ctx.transition('o-1', 'validated', 'paid', { type: 'OrderPaid', aggregateId: 'o-1', payload: {} }).catch(refusal),
    );
    const attempt = async (fields: Fields) => {
      await redis.client.del(key('o-1'));
      await redis.client.hset(key('o-1'), 'status', 'validated');
      extra = fields;
      const answer = await pay.invoke({}, { deliveryId: randomUUID() });
      return { answer, hash: await redis.client.hgetall(key('o-1')), outboxKeys: await redis.client.keys(`${prefix}outbox:*`) };
    };
    return { attempt };
  };

  it('an alsoSet returning the state field is CONFIG_INVALID (field alsoSet); the state stays, no event', async () => {
    const { attempt } = await setup();
    const { answer, hash, outboxKeys } = await attempt({ status: 'dispatched' });
    expect(answer).toEqual({ code: 'CONFIG_INVALID', field: 'alsoSet' });
    expect(hash).toEqual({ status: 'validated' });
    expect(outboxKeys).toEqual([]);
  });

  it('a value a hash cannot hold (undefined, NaN, an invalid Date) is CONFIG_INVALID naming alsoSet.<key>, not a refused write', async () => {
    const { attempt } = await setup();
    for (const [name, value] of [['paidAt', undefined], ['score', Number.NaN], ['seenAt', new Date('not a date')]] as const) {
      const { answer, hash, outboxKeys } = await attempt({ [name]: value });
      expect(answer, name).toEqual({ code: 'CONFIG_INVALID', field: `alsoSet.${name}` });
      expect(hash, name).toEqual({ status: 'validated' });
      expect(outboxKeys, name).toEqual([]);
    }
    // The ones it holds still go in.
    const { answer, hash } = await attempt({ paidAt: at, tries: 2, audited: true });
    expect(answer).toEqual({ duplicate: false });
    expect(hash).toEqual({ status: 'paid', paidAt: at.toISOString(), tries: '2', audited: 'true' });
  });
});
