/**
 * New-user trial finding: two transitions of one aggregate in one invocation
 * (`validated → paid`, then `paid → dispatched`) worked in embedded mode but failed in Redis
 * mode with `TRANSITION_CONFLICT` "lost: it is no longer "paid"" — no race: the write checks
 * every precondition against the state before any of its commands, so the second check read
 * `validated`. A chained transition is now judged against the state the invocation's earlier
 * transition leaves: from its `to` it passes (one check, of the first `from`), from another
 * state it is refused at once, and a function that catches that refusal writes nothing of it.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Plugin } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, streamKeyFor, transitions } from '../src/index.js';
import { useRedis } from './support.js';

const events = {
  OrderPaid: { aggregateType: 'order', schema: z.object({}) },
  OrderDispatched: { aggregateType: 'order', schema: z.object({}) },
};
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;

describe('Redis transitions: two of one aggregate in one invocation', () => {
  const redis = useRedis('redis');

  const setup = async () => {
    const id = `o-${randomUUID().slice(0, 8)}`;
    const key = `${redis.prefix}order:{${id}}`;
    await redis.client.hset(key, 'status', 'validated');
    const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
    const orders = outbox({ events, store });
    const flow = transitions({ table, store, redisKey: (aggregateId) => `${redis.prefix}order:{${aggregateId}}` });
    const pending = async () => (await redis.client.xrange(streamKeyFor(key, redis.prefix), '-', '+')).map(([, fields]) => fields[fields.indexOf('t') + 1]);
    return { id, key, orders, flow, pending };
  };

  it('validated → paid → dispatched: both applied, both events written in order', async () => {
    const { id, key, orders, flow, pending } = await setup();
    const run = handler({ use: [orders, flow], logSink: () => undefined }, async (_input, ctx) => {
      await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
      await ctx.transition(id, 'paid', 'dispatched', { type: 'OrderDispatched', aggregateId: id, payload: {} });
      return 'ok';
    });
    await expect(run.invoke({})).resolves.toBe('ok');
    expect(await redis.client.hget(key, 'status')).toBe('dispatched');
    expect(await pending()).toEqual(['OrderPaid', 'OrderDispatched']);
    // The chain's one check is the first `from`: run again, the aggregate is no longer validated.
    await expect(run.invoke({})).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT' });
  });

  it('a second transition from a state the first does not leave is refused at once; caught, nothing of it is written', async () => {
    const { id, key, orders, flow, pending } = await setup();
    const run = handler({ use: [orders, flow], logSink: () => undefined }, async (_input, ctx) => {
      await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
      try {
        await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
      } catch (error) {
        return (error as { code?: string; message?: string }).code + ': ' + (error as Error).message;
      }
      return 'both';
    });
    const answer = await run.invoke({});
    expect(answer).toMatch(/^TRANSITION_CONFLICT: .*already moves it to "paid"/);
    expect(await redis.client.hget(key, 'status')).toBe('paid');
    expect(await pending()).toEqual(['OrderPaid']);
  });

  // Review finding: the chain's pending transitions outlived a run. A plugin listed before the
  // outbox that runs the function again (the first attempt throws) saw the first run's
  // transition: repeating it was a false TRANSITION_CONFLICT, and one from its `to` skipped its
  // check (the outbox had dropped the first run's), writing with no `from` precondition.
  const retryOnce = (between: () => Promise<unknown> = async () => undefined): Plugin => ({
    name: 'retry-once',
    async wrap(_ctx, next) {
      try {
        return await next();
      } catch {
        await between();
        return next();
      }
    },
  });

  it('a re-run by a plugin before the outbox: the retry repeats the transition and it is applied', async () => {
    const { id, key, orders, flow, pending } = await setup();
    let runs = 0;
    const run = handler({ use: [retryOnce(), orders, flow], logSink: () => undefined }, async (_input, ctx) => {
      runs++;
      await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
      if (runs === 1) throw new Error('transient');
      return 'ok';
    });
    await expect(run.invoke({})).resolves.toBe('ok');
    expect(await redis.client.hget(key, 'status')).toBe('paid');
    expect(await pending()).toEqual(['OrderPaid']);
  });

  it("a re-run's transition from the earlier run's `to` keeps its own precondition: a change between attempts is a 409", async () => {
    const { id, key, orders, flow, pending } = await setup();
    let runs = 0;
    // Between the attempts another writer moves the aggregate on, to `dispatched`.
    const use = [retryOnce(() => redis.client.hset(key, 'status', 'dispatched')), orders, flow];
    const run = handler({ use, logSink: () => undefined }, async (_input, ctx) => {
      runs++;
      if (runs === 1) {
        await ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
        throw new Error('transient');
      }
      await ctx.transition(id, 'paid', 'dispatched', { type: 'OrderDispatched', aggregateId: id, payload: {} });
      return 'ok';
    });
    await expect(run.invoke({})).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT', message: expect.stringMatching(/from "paid" to "dispatched" lost/) });
    expect(await redis.client.hget(key, 'status')).toBe('dispatched');
    expect(await pending()).toEqual([]);
  });
});
