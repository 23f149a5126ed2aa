/**
 * New-user trial finding: `add` refused a payload that is `undefined` (the envelope would go out
 * without `payload`, which every consumer refuses), but not the other values `JSON.stringify`
 * turns into nothing — a function, a symbol, an object whose `toJSON()` returns `undefined` (a
 * schema such as `z.any()`, `z.custom()` or a `.transform()` lets them through). They were
 * committed with the state and relayed, and the inbox refused the message as
 * `INBOX_MESSAGE_INVALID` ("payload is missing"): terminal, dead-lettered, the effect never
 * applied. `add` now refuses them too (`OUTBOX_EVENT_INVALID`, field `payload`), nothing
 * written; a `toJSON()` that returns data (a `Date`, a money class) still goes through.
 * Redis, flushed to a real queue on moto, consumed through the inbox.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { inbox, outbox, redisOutbox } from '@steadyfn/outbox';
import { sqsSender } from '@steadyfn/outbox/sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, drainQueue, lambdaContext, sqsRecord, useRedisAndSqs } from './support.js';

const servers = useRedisAndSqs();

class Money {
  constructor(readonly cents: number) {}
  toJSON(): unknown {
    return { cents: this.cents };
  }
}

describe('a payload JSON turns into nothing', () => {
  it('is refused by add, nothing written; one whose toJSON gives data goes through to the inbox', async () => {
    const { redis, sqs } = servers;
    const queue = await createQueue(sqs);
    const orders = outbox({
      events: { Touched: { aggregateType: 'order', schema: z.any() } },
      store: redisOutbox({ client: redis.client, prefix: `${redis.prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease },
    });
    const payloads: Record<string, unknown> = {
      function: () => 1,
      symbol: Symbol('s'),
      'toJSON → undefined': { toJSON: () => undefined },
      'toJSON → function': { toJSON: () => () => 1 },
      'toJSON getter throws': Object.defineProperty({}, 'toJSON', {
        get() {
          throw new Error('no');
        },
      }),
      money: new Money(250),
      date: new Date(0),
    };
    const lines: string[] = [];
    const touch = handler({ use: [orders], logSink: (line) => void lines.push(line) }, async (input: unknown, ctx) => {
      const { id, kind } = input as { id: string; kind: string };
      ctx.outbox.call('HSET', `${redis.prefix}order:{${id}}`, 'touched', '1');
      ctx.outbox.add({ type: 'Touched', aggregateId: id, payload: payloads[kind] });
      return 'ok';
    });

    for (const kind of ['function', 'symbol', 'toJSON → undefined', 'toJSON → function']) {
      const id = `o-${randomUUID()}`;
      const failure = await touch.invoke({ id, kind }, { deliveryId: randomUUID() }).then(() => undefined, (e: unknown) => e);
      expect(failure, kind).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', issues: [{ field: 'payload' }] });
      expect(await redis.client.hget(`${redis.prefix}order:{${id}}`, 'touched')).toBeNull();
    }
    // A toJSON that cannot be read: the write's JSON.stringify reports it (not serialisable), nothing written.
    const broken = `o-${randomUUID()}`;
    await expect(touch.invoke({ id: broken, kind: 'toJSON getter throws' }, { deliveryId: randomUUID() })).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await redis.client.hget(`${redis.prefix}order:{${broken}}`, 'touched')).toBeNull();
    expect(await drainQueue(sqs, queue.url)).toEqual([]);

    const id = `o-${randomUUID()}`;
    await expect(touch.invoke({ id, kind: 'money' }, { deliveryId: randomUUID() })).resolves.toBe('ok');
    await expect(touch.invoke({ id, kind: 'date' }, { deliveryId: randomUUID() })).resolves.toBe('ok');
    const received = await drainQueue(sqs, queue.url);
    const consumer = handler(
      { use: [inbox({ store: redisStore({ client: redis.client, prefix: `${redis.prefix}inbox:` }), consumer: 'c' })], logSink: () => undefined },
      async (_input, ctx) => void seen.push(ctx.inbox.event.payload),
    );
    const seen: unknown[] = [];
    const answer = (await consumer.aws({ Records: received.map((m) => sqsRecord(m.Body!)) }, lambdaContext())) as { batchItemFailures: unknown[] };
    expect(answer.batchItemFailures).toEqual([]);
    expect(seen).toEqual([{ cents: 250 }, '1970-01-01T00:00:00.000Z']);
    await queue.remove();
  });
});
