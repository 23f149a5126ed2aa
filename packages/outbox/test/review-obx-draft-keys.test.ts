/**
 * Review finding (fresh-eyes review, obx): `ctx.outbox.add` silently dropped every key of a
 * draft it does not read. A JavaScript caller (or one casting past the types) who set an
 * envelope field the outbox fills in itself — `correlationId`, `causationId`, `id`, `seq` —
 * or misspelt one it reads (`relatd`, `change.afterr`) got an event without it and no word:
 * state and event committed, the data gone. Every factory of the package refuses an unknown
 * option key; a draft now does too: `OUTBOX_EVENT_INVALID` naming the key, nothing written.
 * A key holding `undefined` passes, as for options. Redis.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useRedis } from './support.js';

const redis = useRedis('redis');

describe('an event draft with a key the outbox does not read', () => {
  it('is refused, naming the key; nothing written', async () => {
    const prefix = `${redis.prefix}outbox:`;
    const orders = outbox({ events: { OrderPaid: { aggregateType: 'order', schema: z.object({ cents: z.number() }) } }, store: redisOutbox({ client: redis.client, prefix }) });
    const lines: string[] = [];
    const pay = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (input: unknown, ctx) => {
      const { id, draft } = input as { id: string; draft: Record<string, unknown> };
      ctx.outbox.call('HSET', `${redis.prefix}order:{${id}}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: { cents: 5 }, ...draft } as never);
      return ctx.outbox.staged.map((e) => e.correlationId);
    });

    const refused: Array<[Record<string, unknown>, string]> = [
      [{ correlationId: 'mine' }, 'correlationId'],
      [{ causationId: 'mine' }, 'causationId'],
      [{ seq: 7 }, 'seq'],
      [{ relatd: { customer: 'c-1' } }, 'relatd'],
      [{ change: { op: 'update', afterr: { status: 'paid' } } }, 'change.afterr'],
    ];
    for (const [draft, field] of refused) {
      const id = `o-${randomUUID()}`;
      const failure = await pay.invoke({ id, draft }, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
      expect(failure).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
      // The log names the key (the caller's 500 does not: the function's own bug).
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field }] });
      expect(await redis.client.hget(`${redis.prefix}order:{${id}}`, 'status')).toBeNull();
    }

    // The keys it reads, and a key holding undefined, pass.
    const id = `o-${randomUUID()}`;
    const ok = await pay.invoke({ id, draft: { related: { customer: 'c-1' }, change: { op: 'update', after: { status: 'paid' } }, correlationId: undefined } }, { deliveryId: 'd-ok' });
    expect(ok).toEqual(['d-ok']);
    expect(await redis.client.hget(`${redis.prefix}order:{${id}}`, 'status')).toBe('paid');
  });
});
