/**
 * Redis-mode transitions, as a user sees a failed one:
 * - An aggregate that does not exist (no hash at `redisKey(id)`) answered
 *   `TRANSITION_CONFLICT` "lost: it is no longer "validated"" — it never was; the message now
 *   names the aggregate, says it has no state and what state was expected.
 * - Every lost race logged a `warn` "plugin onError hook replaced the error": transitions()
 *   turned the outbox's precondition error into its 409 in an `onError` hook, which the
 *   pipeline reports as a hook replacing the error (meant for hook bugs) — one warning per lost
 *   race, so a storm of competing consumers flooded the log with false alarms. The write now
 *   fails the transition's check with the transition's own error at the source: no
 *   replacement, no warning; the function's other preconditions keep their own error.
 * - A key at `redisKey(id)` that is not a hash (a string, a list) answered the same
 *   `TRANSITION_CONFLICT` "lost: it is no longer "validated"", which a function or consumer
 *   catching lost races takes for "already moved on". It is now `OUTBOX_PRECONDITION_FAILED`
 *   naming the aggregate's state key, its type and the hash expected, never what it holds.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, transitions } from '../src/index.js';
import { useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };
const table = { validated: ['paid'], paid: ['dispatched'], dispatched: [] } as const;

describe('Redis transitions: what a failed one reports', () => {
  const redis = useRedis('redis');

  const setup = () => {
    const lines: string[] = [];
    const store = redisOutbox({ client: redis.client, prefix: redis.prefix });
    const key = (id: string) => `${redis.prefix}order:{${id}}`;
    const fn = handler(
      { input: z.object({ id: z.string(), also: z.string().optional() }), use: [outbox({ events, store }), transitions({ table, store, redisKey: key })], logSink: (l) => lines.push(l), logLevel: 'warn' },
      async ({ id, also }, ctx) => {
        if (also) ctx.outbox.check({ key: key(id), field: also, exists: true, label: 'other' });
        return ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
      },
    );
    const msgs = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    return { fn, key, msgs };
  };

  it('a missing aggregate: TRANSITION_CONFLICT naming it and the state expected; nothing written', async () => {
    const { fn, key, msgs } = setup();
    const id = `o-${randomUUID().slice(0, 8)}`;
    const refused = await fn.invoke({ id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'TRANSITION_CONFLICT' });
    expect((refused as Error).message).toContain(`transition of ${id} from "validated" to "paid" refused: aggregate ${id} has no state (it does not exist, or has no "status"); expected "validated"`);
    expect(await redis.client.exists(key(id))).toBe(0);
    expect(msgs()).not.toContain('plugin onError hook replaced the error');
  });

  it('a state key of another type (a string, a list): OUTBOX_PRECONDITION_FAILED naming its role, its type and the hash expected, never what it holds; not a lost race; nothing written', async () => {
    const { fn, key } = setup();
    for (const seed of ['string', 'list'] as const) {
      const id = `o-${randomUUID().slice(0, 8)}`;
      // The value reads like the state expected: a message quoting it, or a check reading it, would show.
      if (seed === 'string') await redis.client.set(key(id), 'validated secret-7f3a');
      else await redis.client.rpush(key(id), 'validated secret-7f3a');
      const refused = await fn.invoke({ id }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
      expect((refused as Error).message).toContain(
        `transition of ${id} from "validated" to "paid" refused: the aggregate's state key (redisKey("${id}")) holds a ${seed}; expected a hash whose "status" field holds its state (does redisKey give the name of another key?); nothing was written`,
      );
      expect((refused as Error).message).not.toContain('secret');
      expect(await redis.client.type(key(id))).toBe(seed);
      expect(seed === 'string' ? await redis.client.get(key(id)) : await redis.client.lrange(key(id), 0, -1)).toEqual(seed === 'string' ? 'validated secret-7f3a' : ['validated secret-7f3a']);
    }
  });

  it('a lost race: TRANSITION_CONFLICT without an "onError replaced the error" warning; another precondition keeps its own 409', async () => {
    const { fn, key, msgs } = setup();
    const id = `o-${randomUUID().slice(0, 8)}`;
    await redis.client.hset(key(id), 'status', 'paid');
    for (let i = 0; i < 5; i++) await expect(fn.invoke({ id })).rejects.toMatchObject({ code: 'TRANSITION_CONFLICT', message: expect.stringMatching(/lost: it is no longer "validated"$/) });
    expect(msgs()).not.toContain('plugin onError hook replaced the error');
    // The function's own check fails first (checked in order): its error, naming why.
    await redis.client.hset(key(id), 'status', 'validated');
    await expect(fn.invoke({ id, also: 'missing-field' })).rejects.toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', message: expect.stringContaining('outbox: precondition "other" does not hold (its hash field does not exist); nothing was written') });
    expect(await redis.client.hget(key(id), 'status')).toBe('validated');
  });
});
