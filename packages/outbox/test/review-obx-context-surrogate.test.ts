/**
 * Review finding (fresh-eyes review, obx): a caller-context string longer than 1,024
 * characters is cut to 1,024 UTF-16 code units — and when the cut fell between the two halves
 * of a surrogate pair (an emoji, any character outside the BMP) the envelope carried a lone
 * high surrogate: `JSON.stringify` escapes it, so SQS took it, but the consumer parsed back a
 * string that is not well-formed Unicode (a MongoDB driver writes it as U+FFFD, a Redis client
 * as EF BF BD). The cut now keeps whole characters. Redis, flushed to a queue on moto,
 * consumed through the inbox.
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

describe('caller context longer than 1,024 characters', () => {
  it('is cut at a character boundary: the consumer reads well-formed text', async () => {
    const { redis, sqs } = servers;
    const queue = await createQueue(sqs);
    // 1,023 ASCII characters, then emoji: the 1,024th code unit is the first half of a pair.
    const note = `${'a'.repeat(1023)}${'😀'.repeat(10)}`;
    const orders = outbox({
      events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } },
      store: redisOutbox({ client: redis.client, prefix: `${redis.prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url }), lease: redis.lease },
      callerContext: { allow: ['note', 'tenant'], from: () => ({ note, tenant: 't-1' }) },
    });
    const pay = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-1', payload: {} });
    });
    await pay.invoke({}, { deliveryId: randomUUID() });
    const [message] = await drainQueue(sqs, queue.url);
    const consume = handler(
      { use: [inbox({ store: redisStore({ client: redis.client, prefix: `${redis.prefix}inbox:` }), consumer: 'c' })], logSink: () => undefined },
      async (_input, ctx) => ctx.inbox.event.context,
    );
    const context = (await consume.invoke(JSON.parse(message!.Body!), { deliveryId: message!.MessageId! })) as { note: string; tenant: string };
    expect(context.tenant).toBe('t-1');
    // Well-formed: no surrogate outside a pair (String.prototype.isWellFormed, written out for the ES2022 lib).
    expect(/\p{Surrogate}/u.test(context.note)).toBe(false);
    expect(context.note).toBe('a'.repeat(1023));
    await queue.remove();
  });
});
