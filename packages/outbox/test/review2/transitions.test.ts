/**
 * Review finding (Redis-mode transitions): when the function's own precondition failed
 * (`ctx.outbox.check` on another field) while a transition was staged, the 409 was reported as
 * that transition's `TRANSITION_CONFLICT` — "lost: it is no longer \"validated\"" — although the
 * aggregate was still in `from`: a wrong diagnosis for whoever reads the dead-letter queue. The
 * transition's conflict is now reported only when its own check failed (matched by its label,
 * quoted as the write quotes it, so ids with quotes match too); any other precondition keeps
 * its `OUTBOX_PRECONDITION_FAILED`.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox, transitions } from '../../src/index.js';
import { openRedis, type RedisBackend } from '../support.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

function payFunction() {
  const key = (id: string) => `${backend.prefix}order:{${id}}`;
  const store = redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` });
  const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } }, store });
  const flow = transitions({ table: { validated: ['paid'], paid: [] }, store, redisKey: key });
  const pay = handler({ use: [orders, flow], logSink: () => undefined }, async (input: unknown, ctx) => {
    const { id } = input as { id: string };
    ctx.outbox.check({ key: key(id), field: 'credit', equals: 'ok', label: 'credit checked' });
    return ctx.transition(id, 'validated', 'paid', { type: 'OrderPaid', aggregateId: id, payload: {} });
  });
  return { key, pay };
}

describe('Redis-mode transitions and the function’s own preconditions', () => {
  it('another precondition failing keeps its own error; the state is untouched', async () => {
    const { key, pay } = payFunction();
    await backend.client.hset(key('o-1'), 'status', 'validated', 'credit', 'refused');
    const error = await pay.invoke({ id: 'o-1' }, { deliveryId: 'd-1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
    expect(await backend.client.hget(key('o-1'), 'status')).toBe('validated');
  });

  it.each([['o-2'], ['o "quoted" 2']])('a lost transition (%s) is still TRANSITION_CONFLICT', async (id) => {
    const { key, pay } = payFunction();
    await backend.client.hset(key(id), 'status', 'paid', 'credit', 'ok');
    const error = await pay.invoke({ id }, { deliveryId: `d-${id}` }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRANSITION_CONFLICT' });
  });
});
