/**
 * Review finding (fresh-eyes review, obx): an event type whose schema lets the payload be
 * `undefined` (`z.object({}).optional()`, `z.undefined()`, a transform that returns nothing)
 * was accepted by `ctx.outbox.add`, committed and sent — but `JSON.stringify` drops an
 * `undefined` property, so the envelope went out without `payload`, and every steadyfn
 * consumer refused it as `INBOX_MESSAGE_INVALID` (terminal: dead-lettered, its effect never
 * applied). The state change had committed with an event no consumer can read. `add` now
 * refuses such a payload up front (`OUTBOX_EVENT_INVALID`, field `payload`): nothing is
 * written. Redis, flushed to a real queue on moto, consumed through the inbox.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { inbox, outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, drainQueue, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();

describe('a payload the envelope cannot carry (undefined)', () => {
  it('is refused by add, nothing written; a payload that is there goes through to the inbox', async () => {
    const { redis, sqs } = servers;
    const queue = await createQueue(sqs);
    const orders = outbox({
      events: {
        Pinged: { aggregateType: 'order', schema: z.object({ note: z.string() }).optional() },
        Touched: { aggregateType: 'order', schema: z.unknown() },
      },
      store: redisOutbox({ client: redis.client, prefix: `${redis.prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease },
    });
    const lines: string[] = [];
    const ping = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (input: unknown, ctx) => {
      const { id, type, payload } = input as { id: string; type: 'Pinged' | 'Touched'; payload?: unknown };
      ctx.outbox.call('HSET', `${redis.prefix}order:{${id}}`, 'pinged', '1');
      ctx.outbox.add({ type, aggregateId: id, payload } as never);
      return 'ok';
    });
    const consumer = handler(
      { use: [inbox({ store: redisStore({ client: redis.client, prefix: `${redis.prefix}inbox:` }), consumer: 'c' })], logSink: () => undefined },
      async (_input, ctx) => ({ type: ctx.inbox.event.type, payload: ctx.inbox.event.payload }),
    );

    for (const type of ['Pinged', 'Touched'] as const) {
      const id = `o-${randomUUID()}`;
      const failure = await ping.invoke({ id, type }, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
      expect(failure).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
      // The log names the field (the caller's 500 does not: the function's own bug).
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'payload' }] });
      // Nothing written: neither the state nor an event.
      expect(await redis.client.hget(`${redis.prefix}order:{${id}}`, 'pinged')).toBeNull();
    }
    expect(await drainQueue(sqs, queue.url)).toEqual([]);

    // With a payload the same types are relayed and consumed.
    const id = `o-${randomUUID()}`;
    await expect(ping.invoke({ id, type: 'Pinged', payload: { note: 'hi' } }, { deliveryId: randomUUID() })).resolves.toBe('ok');
    await expect(ping.invoke({ id, type: 'Touched', payload: null }, { deliveryId: randomUUID() })).resolves.toBe('ok');
    const received = await drainQueue(sqs, queue.url);
    const handled = [];
    for (const m of received.sort((a, b) => (JSON.parse(a.Body!) as { seq: number }).seq - (JSON.parse(b.Body!) as { seq: number }).seq)) {
      handled.push(await consumer.invoke(JSON.parse(m.Body!), { deliveryId: m.MessageId! }));
    }
    expect(handled).toEqual([{ type: 'Pinged', payload: { note: 'hi' } }, { type: 'Touched', payload: null }]);
    await queue.remove();
  });
});
